"""Training in bfloat16, read from a real model: what rounding its weights to bf16 does to them, and
which tensors autocast computes in bf16 and which it keeps in float32.

Nothing here is typed in: the dtypes come from one training step of the model under
`torch.autocast` (hooks on every layer), and the rounding from casting its weights.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

BATCH = 64  # one tutorial-sized batch of random inputs is enough to see the dtypes


def _short(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


# --- the weights, rounded ---------------------------------------------------------------------


def rounding_table(model: nn.Module) -> pd.DataFrame:
    """Per weight tensor: how far rounding to bf16 moves its values."""
    rows = []
    for name, p in model.named_parameters():
        w = p.detach().float()
        error = (w.bfloat16().float() - w).abs()
        relative = error[w != 0] / w[w != 0].abs()
        rows.append(
            {
                "weights": name,
                "shape": " × ".join(map(str, w.shape)),
                "values": w.numel(),
                "largest |w|": f"{w.abs().max().item():.4g}",
                "mean relative error": f"{relative.mean().item():.3%}",
                "largest relative error": f"{relative.max().item():.3%}",
                "unchanged": f"{(error == 0).float().mean().item():.2%}",
            }
        )
    return pd.DataFrame(rows)


def sample_weights(model: nn.Module, count: int = 6) -> pd.DataFrame:
    """A few weights of the first layer as float32 holds them and as bf16 would."""
    first = next(model.parameters()).detach().flatten().float()
    picks = torch.linspace(0, len(first) - 1, count).long()
    rows = []
    for i in picks.tolist():
        value = first[i]
        rounded = value.bfloat16().float()
        rows.append(
            {
                "weight": f"{next(model.named_parameters())[0]}[{i}]",
                "float32": f"{value.item():.9g}",
                "bfloat16": f"{rounded.item():.9g}",
                "rounding error": f"{(rounded - value).item():+.3g}",
            }
        )
    return pd.DataFrame(rows)


# --- one step under autocast ------------------------------------------------------------------


@dataclass(frozen=True)
class AutocastTrace:
    layers: pd.DataFrame  # per layer: its input, output, weights and gradients' dtypes
    kept: pd.DataFrame  # what else a training step holds, with its dtype
    output_dtype: torch.dtype  # the model's log-probabilities
    loss_dtype: torch.dtype


def autocast_trace(model: nn.Module, dtype: torch.dtype = torch.bfloat16) -> AutocastTrace:
    """One training step of a copy of `model` on the CPU, forward and loss under autocast to
    `dtype`, as the engine runs it; every dtype read from the tensors it made."""
    model = copy.deepcopy(model).cpu().train()
    seen: dict[str, tuple[torch.dtype, torch.dtype]] = {}

    def record(name: str):
        def hook(_module, inputs, output):
            seen[name] = (inputs[0].dtype, output.dtype)

        return hook

    leaves = [(n, m) for n, m in model.named_modules() if n and not list(m.children())]
    handles = [m.register_forward_hook(record(n)) for n, m in leaves]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, 784, generator=generator)
    y = torch.randint(0, 10, (BATCH,), generator=generator)
    optimizer = torch.optim.Adam(model.parameters())
    try:
        with torch.autocast("cpu", dtype=dtype):
            output = model(x)
            loss = F.nll_loss(output, y)
        loss.backward()
        optimizer.step()
    finally:
        for handle in handles:
            handle.remove()

    layers = []
    for name, module in leaves:
        params = list(module.parameters(recurse=False))
        layers.append(
            {
                "layer": f"{name} ({type(module).__name__})",
                "input": _short(seen[name][0]),
                "output": _short(seen[name][1]),
                "weights": ", ".join(sorted({_short(p.dtype) for p in params})) or "–",
                "gradients": ", ".join(sorted({_short(p.grad.dtype) for p in params})) or "–",
            }
        )
    state = [t for s in optimizer.state.values() for t in s.values() if torch.is_tensor(t) and t.numel() > 1]
    buffers = [b for n, b in model.named_buffers() if b.is_floating_point()]
    kept = pd.DataFrame(
        [
            {"tensor": "the model's output (log-probabilities)", "dtype": _short(output.dtype)},
            {"tensor": "the loss (nll_loss)", "dtype": _short(loss.dtype)},
            {"tensor": "BatchNorm's running mean and variance", "dtype": _dtypes(buffers)},
            {"tensor": "Adam's moving averages (exp_avg, exp_avg_sq)", "dtype": _dtypes(state)},
        ]
    )
    return AutocastTrace(pd.DataFrame(layers), kept, output.dtype, loss.dtype)


def _dtypes(tensors: list[torch.Tensor]) -> str:
    return ", ".join(sorted({_short(t.dtype) for t in tensors})) or "– (none in this model)"


@cache  # the shipped model never changes: one trace per process, not one per page view
def shipped_model_lesson() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The dtype page's section, read from the shipped model: (sample weights, rounding per
    tensor, dtypes per layer, what else the step keeps)."""
    from playground.digits.predict import load_default

    model = load_default()[0]
    trace = autocast_trace(model)
    return sample_weights(model), rounding_table(model), trace.layers, trace.kept
