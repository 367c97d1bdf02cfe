"""The code beside the sliders: the PyTorch script of the run as configured now (the same text
the export downloads), and the lines that the last change of a control touched."""

from __future__ import annotations

import difflib

import streamlit as st

from playground import export
from playground.core.config import RunConfig

LAST_SCRIPT_KEY = "code_panel_last_script"


def changed_lines(before: str, after: str) -> list[str]:
    """The lines a change touched, as a unified diff without its header: '-old' then '+new'."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("---", "+++"))]


def code_panel(config: RunConfig) -> None:
    script = export.training_script(config)
    before = st.session_state.get("code_panel_shown")
    if before is not None and before != script:
        st.session_state[LAST_SCRIPT_KEY] = before  # the script before the latest change
    st.session_state["code_panel_shown"] = script
    with st.expander("🧾 The code of this run, as you set it", expanded=False):
        last = st.session_state.get(LAST_SCRIPT_KEY)
        if last is not None and (touched := changed_lines(last, script)):
            st.caption("Your last change touched these lines (− before, + now):")
            st.code("\n".join(touched), language="diff")
        st.caption("The whole script: plain PyTorch, runnable on its own (the export downloads this text).")
        st.code(script, language="python", line_numbers=True)
