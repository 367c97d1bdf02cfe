"""Home: what the playground is, what its network learns (a picture), the device it trains on,
and whether MNIST is here."""

import streamlit as st

from ui import shell

shell.run_inside_app()

from playground import figures
from playground.core import data, system
from playground.core.first_layer import first_layer_weights, units_by_strength
from playground.digits import predict
from playground.hosting.settings import is_local
from ui import backend_notice, ideal_digits, inline, session

st.title("🔥 PyTorch Playground")
st.markdown(
    "The classic *getting started with PyTorch* tutorial, made live: **train** the tutorial's "
    "MNIST network with your own settings and watch it learn, **draw** a digit and see that very "
    "network read your handwriting, and **explore** tensors, dtypes, the GPU and autograd."
)

# A picture before the facts: what the network this playground is about learns (the shipped
# model's strongest first-layer units), so that a visitor sees it before reading about it.
model, _, _ = predict.load_default()
pictures = first_layer_weights(model)
inline.image(
    figures.inside.weights_image(pictures.numpy(), units_by_strength(pictures)[:16], columns=8, scale=4),
    caption=f"What the network learns: 16 of its first layer's {len(pictures)} units, each one's 784 "
    "weights as the 28×28 picture it looks for (red: ink there makes it fire; blue: holds it "
    "back). Train it on the Train page and watch them form.",
)
inline.image(
    figures.inside.digits_strip(ideal_digits.found_for(model).pixels),
    caption="What it thinks each digit looks like, 0 to 9: for each, the picture the network scores "
    "highest, found by autograd from a blank canvas. Every run you train shows its own (its "
    "results' “Each digit” tab).",
)

info = system.device_info()
root = session.data_dir()
col_device, col_data = st.columns(2)
with col_device:
    st.subheader("Device")
    st.metric("Training runs on", "GPU" if info.cuda else "CPU", help=info.summary)
    st.caption(f"{info.name} · torch {info.torch_version} · {info.cpu_cores} CPU cores")
    if not info.cuda:
        st.caption(f"No GPU: {system.gpu_unavailable_reason()}.")
    backend_notice.show()
with col_data:
    st.subheader("MNIST")
    # Only the operator's folder is ever looked at, and its path is shown only in local use
    # (PLAYGROUND_LOCAL=1): a shared link does not describe the server's disk.
    where = f" in `{data.raw_dir(root)}`" if is_local() else " on this server"
    if data.is_available(root):
        st.success(f"Found{where}.")
    else:
        st.info(
            f"Not downloaded yet: the Train page downloads it{where} (about 12 MB) the first time "
            "someone trains."
        )

st.subheader("Where to go")
cols = st.columns(3)
links = [
    ("pages/train.py", "Train", "Sliders for layers, dropout, learning rate, epochs; live loss curves."),
    (
        "pages/draw.py",
        "Draw a digit",
        "A digit or a number, by mouse or finger: your model reads it, learns your handwriting, "
        "and shows how little it takes to change its mind.",
    ),
    ("pages/tensors.py", "Tensors & dtypes", "Every dtype, live from torch: ranges, precision, memory."),
    ("pages/gpu.py", "GPU operations", "Moving tensors to the GPU, and CPU vs GPU timings."),
    (
        "pages/autograd.py",
        "Autograd",
        "The tutorial's z = 3(x+2)², step by step, with the graph; then one training step of the "
        "real network, and which digits its gradient comes from.",
    ),
]
for i, (path, label, blurb) in enumerate(links):
    with cols[i % 3]:
        st.page_link(path, label=label)
        st.caption(blurb)
