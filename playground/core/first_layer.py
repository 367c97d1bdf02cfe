"""What the first hidden layer learned. Each of its units weighs the 784 input pixels, so its
weight vector is itself a 28×28 picture: bright where ink makes the unit fire, dark where ink
holds it back. The pictures are read from the model as it is, never redrawn."""

from __future__ import annotations

import torch

from playground.core.model import MLP

SIDE = 28


def first_layer_weights(model: MLP) -> torch.Tensor:
    """(units, 28, 28) float32 on the CPU: the first Linear layer's weights, one picture a unit."""
    linear = model.hidden[0][0] if len(model.hidden) else model.output
    return linear.weight.detach().float().cpu().reshape(-1, SIDE, SIDE).clone()


def units_by_strength(pictures: torch.Tensor) -> list[int]:
    """Unit indices, the largest weight norm first: the units with most to say come first."""
    norms = pictures.flatten(1).norm(dim=1)
    return torch.argsort(norms, descending=True, stable=True).tolist()
