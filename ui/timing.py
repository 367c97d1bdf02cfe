"""The GPU page's "Time it": through the server's timing booth, one visitor at a time."""

from __future__ import annotations

import streamlit as st

from playground.hosting import shared
from playground.hosting.booth import Busy
from playground.lessons import gpu_ops

RESULT_KEY = "matmul_result"


def time_it_button(n: int, devices: list[str]) -> None:
    """The button; the sweep's result lands in st.session_state[RESULT_KEY]. While another
    visitor's timing runs, this one sees its progress and presses again when it is free."""
    booth = shared.timing_booth()
    if st.button("Time it", type="primary", key="time_matmul"):
        bar = st.progress(0.0, text="Starting…")
        try:
            result = booth.run(
                lambda report: gpu_ops.compare(n, devices, on_step=report),
                on_progress=lambda fraction, message: bar.progress(min(fraction, 1.0), text=message),
            )
        except Busy:
            st.session_state["timing_busy"] = True
        else:
            st.session_state[RESULT_KEY] = (n, *result)
            st.session_state.pop("timing_busy", None)
        bar.empty()
    if st.session_state.get("timing_busy"):
        _busy_notice()
    elif st.session_state.pop("timing_free", False):
        st.info("The other visitor's timing has ended: press Time it.")


@st.fragment(run_every=0.5)
def _busy_notice() -> None:
    booth = shared.timing_booth()
    if booth.busy:
        fraction, message = booth.progress
        st.progress(
            min(fraction, 1.0),
            text=f"Another visitor is timing right now ({message}). One timing runs at a time on this "
            "server, so that it never slows anyone's training: press Time it again when it ends.",
        )
    else:  # a full run draws the page without this polling fragment
        st.session_state.pop("timing_busy", None)
        st.session_state["timing_free"] = True
        st.rerun()
