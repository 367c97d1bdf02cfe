"""Placeholder until its issue lands."""

import streamlit as st

st.title("draw")
st.info("Coming soon.")
