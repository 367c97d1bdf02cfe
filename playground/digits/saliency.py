"""Which pixels made it say 7: autograd on the model's input.

The gradient of a digit's log-probability with respect to the 28×28 input tells, for every
pixel, how much more (positive) or less (negative) the model would believe in that digit if the
pixel got a little more ink. It is the autograd page's `x.grad`, with the network as the function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from playground.core.model import MLP


@dataclass(frozen=True)
class Saliency:
    digit: int
    log_probability: float
    gradient: np.ndarray  # (28, 28): d log p(digit) / d pixel, in the model's normalised units


def saliency(model: MLP, model_input: torch.Tensor, digit: int) -> Saliency:
    """One forward and one backward pass of `model` (in eval mode, as the draw page keeps it).
    The gradient goes to a copy of the input only: the model's own parameters get no `.grad`,
    so a model shared by many visitors is never written to."""
    weight = next(model.parameters())
    x = model_input.detach().reshape(1, -1).to(weight.device, weight.dtype).requires_grad_(True)
    with torch.enable_grad():
        log_probability = model(x)[0, digit]
        (gradient,) = torch.autograd.grad(log_probability, x)
    return Saliency(digit, float(log_probability.detach()), gradient.reshape(28, 28).float().cpu().numpy())


def top_two(model: MLP, model_input: torch.Tensor, probabilities: np.ndarray) -> list[Saliency]:
    """The saliency of the answer and of the runner-up digit."""
    first, second = np.argsort(probabilities)[::-1][:2]
    return [saliency(model, model_input, int(first)), saliency(model, model_input, int(second))]
