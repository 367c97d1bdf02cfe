"""The train page's precision control: fp32, bf16 or fp16 mixed precision, and what it costs here.

fp16 is offered only where the run would train on a CUDA GPU. A precision this machine runs
slowly stays selectable, with a warning that says why (core/precision.py finds that by timing).
"""

from __future__ import annotations

import streamlit as st
import torch

from playground.core import config as cfg
from playground.core import precision

KEY = "w_precision"
LABELS = {"fp32": "fp32", "bf16": "bf16 mixed", "fp16": "fp16 mixed"}
HELP = (
    "fp32: the tutorial, every number a float32. bf16/fp16 mixed: the layers compute in 16 bits "
    "under autocast, while the weights, their gradients and Adam's state stay float32, and "
    "testing runs in float32. fp16 needs a GPU (it scales the loss so that small gradients do "
    "not round to 0) and is offered only when the run trains on one; bf16 has float32's range "
    "with 8 bits of precision instead of 24, and needs no scaling."
)


def device_type(device: str) -> str:
    """Where a run with this device setting trains: 'cuda' or 'cpu'."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def precision_control(device: str) -> str:
    """Draw the control for a run on `device` (the device setting); return the precision."""
    where = device_type(device)
    options = [p for p in cfg.PRECISIONS if precision.unavailable_reason(p, where) is None]
    if st.session_state.get(KEY) not in options:
        st.session_state[KEY] = "fp32"
    chosen = st.radio("Precision", options, key=KEY, horizontal=True, format_func=LABELS.get, help=HELP)
    st.page_link(
        "pages/tensors.py",
        label="Bits, range, rounding: Tensors & dtypes",
        icon="🔢",
    )
    if chosen != "fp32" and where == "cpu":
        with st.spinner("Timing bf16 on this CPU (once)…"):
            warning = precision.slow_warning(chosen, where)
        if warning:
            st.warning(warning, icon="🐢")
    return chosen


def check_url_config(config: cfg.RunConfig, warnings: list[str]) -> cfg.RunConfig:
    """A precision from a URL that this server cannot run becomes fp32, with a warning."""
    reason = precision.unavailable_reason(config.precision, device_type(config.device))
    if reason is None:
        return config
    warnings.append(f"Ignored URL parameter precision: {reason}; using fp32.")
    return config.replace(precision="fp32")
