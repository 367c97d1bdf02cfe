"""The Home page's line on where runs train, when the operator chose a Ray cluster."""

import streamlit as st

from playground.hosting import settings, shared


def show() -> None:
    """Nothing for the local backend; for Ray, the cluster in a few words, or a warning that it
    cannot be reached and runs train on this server instead."""
    if settings.backend_name() != "ray":
        return
    with st.spinner("Connecting to the training cluster…"):  # the first visit joins it: seconds
        chosen = shared.backend()
    if chosen.name == "ray":
        st.info(chosen.notice)
    else:
        st.warning(chosen.notice)
