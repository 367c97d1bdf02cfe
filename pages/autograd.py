"""Placeholder until its issue lands."""

import streamlit as st

st.title("autograd")
st.info("Coming soon.")
