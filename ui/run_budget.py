"""The train page's compute budget: the next run's estimate, and starting a run the server may
refuse (the limits themselves are enforced where runs start: playground/hosting/admission.py)."""

from __future__ import annotations

import streamlit as st

from playground.core.config import RunConfig
from playground.hosting import shared
from playground.hosting.admission import RunRefused, advice, duration
from playground.hosting.runs import RunHistory
from playground.hosting.settings import settings
from ui import session

REFUSED_KEY = "run_refused"


def show_estimate(config: RunConfig) -> None:
    """ "About 40 s on this server's CPU", or, over the server's cap, what to change."""
    device = shared.device_type(config.device)
    seconds = shared.estimate_seconds(config, device)
    cap = settings().max_run_seconds
    where = "GPU" if device == "cuda" else "CPU"
    if seconds > cap:
        st.warning(
            f"This run would take about {duration(seconds)} on this server's {where}, over its "
            f"limit of {duration(cap)} per run. "
            + advice(config, lambda c: shared.estimate_seconds(c, device), cap)
        )
    else:
        limit = f"limit {duration(cap)} a run"
        spread = ""
        span = shared.estimate_range(config, device)
        if span is not None and duration(span[0]) != duration(span[1]):  # not "2 min to 2 min"
            spread = f", {duration(span[0])} to {duration(span[1])} as its speed varies"
        st.caption(f"**Time:** about {duration(seconds)} on this server's {where}{spread} ({limit})")


def start(history: RunHistory, config: RunConfig) -> bool:
    """Start the run; False, with the reason kept for `show_refusal`, when the server refuses it."""
    try:
        history.start(config, session.data_dir(), client=session.client_address())
    except RunRefused as refusal:
        st.session_state[REFUSED_KEY] = str(refusal)
        return False
    st.session_state.pop(REFUSED_KEY, None)
    return True


def show_refusal() -> None:
    if message := st.session_state.pop(REFUSED_KEY, None):
        st.error(message)
