"""Which pixels made it say 7: autograd on the model's input.

The gradient of a digit's score with respect to the 28×28 input tells, for every pixel, how much
more (positive) or less (negative) the model would believe in that digit if the pixel got a
little more ink. It is the autograd page's `x.grad`, with the network as the function.

Two scores: the digit's logit (the output layer's value before softmax) and its log-probability.
For a confident answer the log-probability saturates near 0 and its gradient all but vanishes
(d log p / dx = (1 − p)·dz/dx − …), so the logit is the default picture and the vanishing
gradient a lesson of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from playground.core.model import MLP

Target = Literal["logit", "log_probability"]
TARGETS: dict[Target, str] = {"logit": "its score (logit)", "log_probability": "its log-probability"}


@dataclass(frozen=True)
class Saliency:
    digit: int
    target: Target
    value: float  # the score whose gradient this is
    gradient: np.ndarray  # (28, 28): d score(digit) / d pixel, in the model's normalised units


def logits(model: MLP, x: torch.Tensor) -> torch.Tensor:
    """The output layer's values before log_softmax: the model's forward without its last step."""
    for block in model.hidden:
        x = block(x)
    return model.output(x)


def saliency(model: MLP, model_input: torch.Tensor, digit: int, target: Target = "logit") -> Saliency:
    """One forward and one backward pass of `model` (in eval mode, as the draw page keeps it).
    The gradient goes to a copy of the input only: the model's own parameters get no `.grad`,
    so a model shared by many visitors is never written to."""
    weight = next(model.parameters())
    x = model_input.detach().reshape(1, -1).to(weight.device, weight.dtype).requires_grad_(True)
    with torch.enable_grad():
        score = (logits(model, x) if target == "logit" else model(x))[0, digit]
        (gradient,) = torch.autograd.grad(score, x)
    return Saliency(digit, target, float(score.detach()), gradient.reshape(28, 28).float().cpu().numpy())


def top_two(
    model: MLP, model_input: torch.Tensor, probabilities: np.ndarray, target: Target = "logit"
) -> list[Saliency]:
    """The saliency of the answer and of the runner-up digit."""
    first, second = np.argsort(probabilities)[::-1][:2]
    return [saliency(model, model_input, int(d), target) for d in (first, second)]
