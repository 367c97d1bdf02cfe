"""Placeholder until its issue lands."""

import streamlit as st

st.title("gpu")
st.info("Coming soon.")
