"""Per-browser-session state and the shared sidebar."""

from __future__ import annotations

import ipaddress
import re
import secrets
from pathlib import Path

import streamlit as st
import torch

from playground.core import data, system
from playground.hosting import settings, shared
from playground.hosting.runs import RunHistory
from playground.hosting.settings import is_local

# The server's own torch work is tiny (a drawing's prediction, the teaching pages) and runs on
# Streamlit's script threads; training has its own worker processes. One thread here keeps many
# sessions from oversubscribing the cores (and OpenMP from non-main threads costs more than it
# gains on work this small).
torch.set_num_threads(1)


def data_dir() -> Path:
    """Where MNIST is: the operator's PLAYGROUND_DATA_DIR or the default cache, never a visitor's
    choice (a visitor who could name a folder could make the server create it, download into it
    or say whether files exist there)."""
    return settings.data_dir()


def sidebar() -> None:
    run_history()  # gives this browser its id before anything else
    with st.sidebar:
        remember_browser()
        info = system.device_info()
        st.caption(f"**Device:** {info.summary}")
        if is_local():  # the person at this machine may see its paths; a shared link does not
            st.caption(f"**MNIST:** `{data.raw_dir(data_dir())}`")


def client_address() -> str | None:
    """The visitor's network address, for the per-address limit on runs; None for a connection
    from this machine with no proxy in between (local use: no per-address limit). Behind a
    reverse proxy on this machine, the address it puts last in X-Forwarded-For (the one it saw);
    the header is ignored from anyone else, who could write any address into it."""
    address = st.context.ip_address
    if address is not None and not _is_loopback(address):
        return address
    forwarded = [a.strip() for a in (st.context.headers.get("X-Forwarded-For") or "").split(",")]
    return forwarded[-1] if forwarded[-1] else None


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


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
