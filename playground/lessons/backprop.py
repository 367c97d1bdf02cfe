"""backward() on the tutorial network: the Autograd page's example at full size. The loss of a
batch of MNIST digits is `out` and the network's weights are `x`: one training step shows the
gradient autograd leaves in every layer, the output layer's worked out by hand as a check, which
digits of the batch pull the weights hardest, where the step pushes the first layer's units, and
what one step of plain gradient descent and of Adam does with that gradient. Torch only.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from playground.core.config import RunConfig
from playground.core.model import MLP, build_model

BATCH = 64  # the tutorial's batch size
SGD_LR = 0.1  # plain gradient descent, at a rate that moves a batch's loss visibly in one step
ADAM_LR = 1e-3  # the tutorial's
PUSHED_UNITS = 8  # first-layer units shown, those with the largest gradient
# The optimizers whose first step is shown (each fresh), and how that step moves a weight, in words
OPTIMIZERS = {
    "SGD": (lambda params: torch.optim.SGD(params, lr=SGD_LR), f"−{SGD_LR:g} × its gradient"),
    "Adam": (
        lambda params: torch.optim.Adam(params, lr=ADAM_LR),
        f"about −{ADAM_LR:g} × its gradient's sign",
    ),
}


@dataclass(frozen=True)
class LayerGradient:
    name: str  # "hidden 1 · 784→548"
    weights: int
    weight_size: float  # root mean square of the layer's weights
    gradient_size: float  # root mean square of ∂loss/∂weight over the layer's weights


@dataclass(frozen=True)
class Pull:
    """One digit of the batch and how hard it pulls: its row of ∂loss/∂logits is
    (softmax − one-hot) / B, so a digit read surely right pulls almost nothing."""

    index: int  # in the batch
    label: int
    read_as: int
    probability: float  # the network's probability for the digit's true label
    share: float  # its row's length over the sum of all rows' lengths


@dataclass(frozen=True)
class OptimizerStep:
    name: str
    rule: str  # how it moves a weight, in words
    median_change: float  # of |Δweight| over every weight and bias
    largest_change: float
    loss_after: float  # the same batch's loss after the step


@dataclass(frozen=True)
class Backprop:
    loss: float
    right: int  # digits of the batch read right
    batch: int
    layers: list[LayerGradient]  # the weight matrices, input side first
    by_hand_difference: float  # max |autograd − by hand| over the output layer's weights and bias
    pulls: list[Pull]  # every digit of the batch, strongest pull first
    pushed_units: list[int]  # first-layer units with the largest gradient, largest first
    pushes: torch.Tensor  # (units, 28, 28): −∂loss/∂weights of those units, where the step pushes
    steps: list[OptimizerStep]


def untrained(config: RunConfig | None = None, seed: int = 0) -> MLP:
    """A network as a run starts it: nn.Linear's own initialisation (Kaiming-uniform weights,
    uniform biases within ±1/√fan_in), from a generator of its own. Seeding torch's global
    random stream would change it under the server's other threads."""
    with torch.device("meta"):
        model = build_model(config or RunConfig())
    model = model.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(module.in_features)
            nn.init.uniform_(module.bias, -bound, bound, generator=generator)
        elif isinstance(module, nn.BatchNorm1d):
            module.reset_parameters()  # scale 1, shift 0, fresh running statistics
    return model.eval()


def one_step(model: MLP, inputs: torch.Tensor, labels: torch.Tensor) -> Backprop:
    """One training step of a copy of `model` on `inputs` (B, 784), normalised as the model reads
    them, with `labels` (B,). The model itself is not changed (it may answer other visitors)."""
    net = _student(model)
    hidden: list[torch.Tensor] = []  # what the output layer reads: for the check by hand
    hook = net.output.register_forward_pre_hook(lambda _, args: hidden.append(args[0].detach()))
    log_probs = net(inputs)
    hook.remove()
    loss = F.nll_loss(log_probs, labels)
    loss.backward()
    gradients = [p.grad.detach().clone() for p in net.parameters()]
    weight_by_hand, bias_by_hand = output_gradient_by_hand(log_probs.detach(), labels, hidden[0])
    difference = max(
        float((net.output.weight.grad - weight_by_hand).abs().max()),
        float((net.output.bias.grad - bias_by_hand).abs().max()),
    )
    first = net.hidden[0][0].weight.grad
    strongest = first.norm(dim=1).argsort(descending=True)[:PUSHED_UNITS]
    return Backprop(
        loss=float(loss.detach()),
        right=int((log_probs.argmax(dim=1) == labels).sum()),
        batch=len(labels),
        layers=_layer_gradients(net),
        by_hand_difference=difference,
        pulls=_pulls(log_probs.detach(), labels),
        pushed_units=strongest.tolist(),
        pushes=-first[strongest].reshape(-1, 28, 28).clone(),
        steps=[
            _step_with(model, gradients, inputs, labels, name, make, rule)
            for name, (make, rule) in OPTIMIZERS.items()
        ],
    )


def vanishing(layers: list[LayerGradient]) -> float | None:
    """How many times smaller the first hidden layer's typical gradient is than the last hidden
    layer's (None with fewer than two hidden layers): far above 1, the gradient vanishes on its
    way back to the input."""
    hidden = layers[:-1]
    if len(hidden) < 2 or hidden[0].gradient_size == 0:
        return None
    return hidden[-1].gradient_size / hidden[0].gradient_size


def output_gradient_by_hand(
    log_probs: torch.Tensor, labels: torch.Tensor, hidden: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """∂loss/∂W and ∂loss/∂b of the output layer z = h·Wᵀ + b under the mean cross-entropy of
    log_softmax(z): with δ = (softmax(z) − one_hot(y)) / B, they are δᵀ·h and δ summed over the
    batch."""
    delta = (log_probs.exp() - F.one_hot(labels, log_probs.shape[1]).to(log_probs.dtype)) / len(labels)
    return delta.T @ hidden, delta.sum(dim=0)


def _student(model: MLP) -> MLP:
    """A float32 copy on the CPU in training mode, dropout off: BatchNorm normalises by the batch
    as in training, and the same batch gives the same step (dropout's masks would come from torch's
    global random stream, which the server's other threads share)."""
    net = copy.deepcopy(model).cpu().float().train()
    for module in net.modules():
        if isinstance(module, nn.Dropout):
            module.eval()
    net.zero_grad(set_to_none=True)
    return net


def _layer_gradients(net: MLP) -> list[LayerGradient]:
    linears = [block[0] for block in net.hidden] + [net.output]
    names = [f"hidden {i}" for i in range(1, len(net.hidden) + 1)] + ["output"]
    return [
        LayerGradient(
            name=f"{name} · {layer.in_features}→{layer.out_features}",
            weights=layer.weight.numel(),
            weight_size=float(layer.weight.detach().square().mean().sqrt()),
            gradient_size=float(layer.weight.grad.square().mean().sqrt()),
        )
        for name, layer in zip(names, linears)
    ]


def _pulls(log_probs: torch.Tensor, labels: torch.Tensor) -> list[Pull]:
    rows = (log_probs.exp() - F.one_hot(labels, log_probs.shape[1]).to(log_probs.dtype)).norm(dim=1)
    shares = rows / rows.sum()
    true_probabilities = log_probs.exp().gather(1, labels[:, None])[:, 0]
    read_as = log_probs.argmax(dim=1)
    pulls = [
        Pull(i, int(labels[i]), int(read_as[i]), float(true_probabilities[i]), float(shares[i]))
        for i in range(len(labels))
    ]
    return sorted(pulls, key=lambda p: -p.share)


def _step_with(model, gradients, inputs, labels, name: str, make, rule: str) -> OptimizerStep:
    """One step of a fresh optimizer (`make(parameters)`) on another copy of `model`, with the
    gradient found above."""
    net = _student(model)
    before = [p.detach().clone() for p in net.parameters()]
    for parameter, gradient in zip(net.parameters(), gradients):
        parameter.grad = gradient.clone()
    make(net.parameters()).step()
    changes = torch.cat([(p.detach() - b).abs().flatten() for p, b in zip(net.parameters(), before)])
    with torch.no_grad():
        loss_after = float(F.nll_loss(net(inputs), labels))
    return OptimizerStep(name, rule, float(changes.median()), float(changes.max()), loss_after)
