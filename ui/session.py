"""Per-browser-session state and the shared sidebar."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import streamlit as st
import torch

from playground.core import data, system
from playground.hosting import shared
from playground.hosting.runs import RunHistory

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
    run_history()  # gives this browser its id before anything else
    with st.sidebar:
        remember_browser()
        info = system.device_info()
        st.caption(f"**Device:** {info.summary}")
        st.session_state.setdefault("data_dir", str(data.default_data_dir()))
        st.text_input(
            "MNIST data directory",
            key="data_dir",
            help="Where MNIST lives (MNIST/raw/ inside it). The Train page downloads it there "
            "on first use when this machine is online.",
        )


BROWSER_COOKIE = "playground_browser"


def run_history() -> RunHistory:
    """This browser's training runs, never shown to another browser. Kept across page reloads
    through a random id in a cookie (see remember_browser)."""
    if "browser_id" not in st.session_state:
        cookie = st.context.cookies.get(BROWSER_COOKIE)
        valid = isinstance(cookie, str) and re.fullmatch(r"[A-Za-z0-9_-]{22,64}", cookie)
        st.session_state["browser_id"] = cookie if valid else secrets.token_urlsafe(24)
    history = shared.browsers().history(st.session_state["browser_id"])  # also marks the browser as seen
    return st.session_state.setdefault("run_history", history)


def remember_browser() -> None:
    """Store the browser id in a cookie (st.context.cookies only reads them), so that a reload
    finds this browser's runs again. The id is ours (random, validated): safe to put in a script."""
    browser_id = st.session_state.get("browser_id")
    if browser_id and st.context.cookies.get(BROWSER_COOKIE) != browser_id:
        st.html(
            f"<script>document.cookie = '{BROWSER_COOKIE}={browser_id}; path=/; max-age=86400; "
            "samesite=strict';</script>",
            unsafe_allow_javascript=True,
        )
