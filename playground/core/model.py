"""The tutorial's MLP, built from a RunConfig. Knows nothing about training or data loading."""

from __future__ import annotations

import torch
from torch import nn

from playground.core.config import RunConfig

INPUT_SIZE = 28 * 28
NUM_CLASSES = 10

ACTIVATION_CLASSES = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def activation_name(activation: str) -> str:
    """How the activation is spelled everywhere a person reads it: torch's class name ("GELU")."""
    return ACTIVATION_CLASSES[activation].__name__


class Dropout(nn.Dropout):
    """nn.Dropout, faster on the CPU. torch's CPU kernel draws one Bernoulli sample at a time
    (3 ms for a 512×548 batch on 2 cores), and even `rand_like` spends a generator call per unit
    (more in bfloat16). Here one 64-bit draw makes four 16-bit numbers, uniform on [-2¹⁵, 2¹⁵), and
    a unit is kept when its number is at least round(p·2¹⁶) − 2¹⁵: with probability 1 − p to
    within 2⁻¹⁶, at a fifth of rand_like's cost in fp32 and a sixth in bf16. CUDA keeps torch's
    fused kernel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or x.is_cuda:
            return super().forward(x)
        draws = torch.empty(x.numel() // 4 + 1, dtype=torch.int64).random_(-(2**63), None)  # all 64 bits
        numbers = draws.view(torch.int16)[: x.numel()].view(x.shape)
        keep = numbers >= round(self.p * 2**16) - 2**15
        return x * keep.to(x.dtype).mul_(1.0 / (1.0 - self.p))


class MLP(nn.Module):
    """784 → hidden… → 10. Each hidden layer: Linear → BatchNorm1d (optional) → activation → Dropout.

    forward: (B, 784) normalised pixels → (B, 10) log-probabilities.
    """

    def __init__(self, config: RunConfig):
        super().__init__()
        blocks = []
        width = INPUT_SIZE
        for units, rate in zip(config.hidden, config.dropout):
            layers: list[nn.Module] = [nn.Linear(width, units)]
            if config.batchnorm:
                layers.append(nn.BatchNorm1d(units))
            layers += [ACTIVATION_CLASSES[config.activation](), Dropout(rate)]
            blocks.append(nn.Sequential(*layers))
            width = units
        self.hidden = nn.ModuleList(blocks)
        self.output = nn.Linear(width, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.hidden:
            x = block(x)
        return torch.log_softmax(self.output(x), dim=1)

    @torch.no_grad()
    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each hidden layer's output (after the activation, before dropout), for (B, 784) input.
        Call in eval mode to see what the trained network computes."""
        outputs = []
        for block in self.hidden:
            for layer in block:
                if isinstance(layer, nn.Dropout):
                    continue
                x = layer(x)
            outputs.append(x)
        return outputs


def build_model(config: RunConfig) -> MLP:
    return MLP(config)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def architecture_rows(config: RunConfig) -> list[dict[str, object]]:
    """One row per layer (name, shape, parameters), for an architecture table."""
    rows: list[dict[str, object]] = [{"layer": "input", "shape": "28×28 → 784", "parameters": 0}]
    width = INPUT_SIZE
    for i, (units, rate) in enumerate(zip(config.hidden, config.dropout), start=1):
        params = width * units + units + (2 * units if config.batchnorm else 0)
        parts = [f"Linear {width}→{units}"] + (["BatchNorm"] if config.batchnorm else [])
        parts += [activation_name(config.activation)]
        parts += [f"Dropout {rate:g}"] if rate > 0 else []
        rows.append({"layer": f"hidden {i}", "shape": " · ".join(parts), "parameters": params})
        width = units
    rows.append(
        {
            "layer": "output",
            "shape": f"Linear {width}→{NUM_CLASSES} · LogSoftmax",
            "parameters": width * NUM_CLASSES + NUM_CLASSES,
        }
    )
    return rows
