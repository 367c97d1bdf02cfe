"""PyTorch Playground: navigation over the pages and the shared sidebar. Nothing else.

Each page's file is named like its URL (/train is pages/train.py): see ui/shell.py for why.
"""

import streamlit as st

from ui import session

st.set_page_config(page_title="PyTorch Playground", page_icon="🔥", layout="wide")

PAGES = {
    "Playground": [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/train.py", title="Train", icon="🏋️"),
        st.Page("pages/draw.py", title="Draw a digit", icon="✏️"),
    ],
    "Learn": [
        st.Page("pages/tensors.py", title="Tensors & dtypes", icon="🔢"),
        st.Page("pages/gpu.py", title="GPU operations", icon="⚡"),
        st.Page("pages/autograd.py", title="Autograd", icon="🔁"),
    ],
}

page = st.navigation(PAGES)
session.sidebar()
page.run()
