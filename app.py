"""PyTorch Playground: navigation over the pages and the shared sidebar. Nothing else."""

import streamlit as st

from ui import session

st.set_page_config(page_title="PyTorch Playground", page_icon="🔥", layout="wide")

PAGES = {
    "Playground": [
        st.Page("app_pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("app_pages/train.py", title="Train", icon="🏋️"),
        st.Page("app_pages/draw.py", title="Draw a digit", icon="✏️"),
    ],
    "Learn": [
        st.Page("app_pages/tensors.py", title="Tensors & dtypes", icon="🔢"),
        st.Page("app_pages/gpu.py", title="GPU operations", icon="⚡"),
        st.Page("app_pages/autograd.py", title="Autograd", icon="🔁"),
    ],
}

page = st.navigation(PAGES)
session.sidebar()
page.run()
