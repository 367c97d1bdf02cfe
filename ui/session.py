"""Per-browser-session state and the shared sidebar."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from playground import data, system
from playground.runs import RunHistory

# The server's own torch work is tiny (a drawing's prediction, the teaching pages) and runs on
# Streamlit's script threads; training has its own worker processes. One thread here keeps many
# sessions from oversubscribing the cores (and OpenMP from non-main threads costs more than it
# gains on work this small).
torch.set_num_threads(1)


def data_dir() -> Path:
    """The MNIST directory this session uses: the sidebar setting, else PLAYGROUND_DATA_DIR or
    the default cache directory."""
    return Path(st.session_state.get("data_dir") or data.default_data_dir()).expanduser()


def sidebar() -> None:
    with st.sidebar:
        info = system.device_info()
        st.caption(f"**Device:** {info.summary}")
        st.session_state.setdefault("data_dir", str(data.default_data_dir()))
        st.text_input(
            "MNIST data directory",
            key="data_dir",
            help="Where MNIST lives (MNIST/raw/ inside it). The Train page downloads it there "
            "on first use when this machine is online.",
        )


def run_history() -> RunHistory:
    """This browser session's training runs (never shared with another session)."""
    if "run_history" not in st.session_state:
        st.session_state["run_history"] = RunHistory()
    return st.session_state["run_history"]

