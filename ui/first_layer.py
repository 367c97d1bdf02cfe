"""What the first layer learned, on the train page: each unit's 784 weights as a 28×28 picture.
A finished run's results tab has every unit, the strongest first, page by page; a run that is
training shows its first 64 units as of its latest finished epoch."""

from __future__ import annotations

import streamlit as st

from playground import figures
from playground.core.first_layer import first_layer_weights, units_by_strength
from playground.core.model import MLP
from ui import inline

PER_PAGE = 64


def first_layer(model: MLP, key: str) -> None:
    pictures = first_layer_weights(model)
    order = units_by_strength(pictures)
    pages = -(-len(order) // PER_PAGE)
    st.caption(
        "Each tile is one unit of the first hidden layer: its 784 input weights laid out as the "
        "28×28 image it looks at. Red: ink there makes the unit fire; blue: ink there holds it "
        "back. Strongest units (largest weight norm) first."
    )
    page = 1
    if pages > 1:
        page = (
            st.segmented_control(
                f"Units, {PER_PAGE} at a time (of {len(order)})",
                list(range(1, pages + 1)),
                default=1,
                format_func=lambda p: f"{(p - 1) * PER_PAGE + 1}–{min(p * PER_PAGE, len(order))}",
                key=f"first_layer_page_{key}",
            )
            or 1
        )
    shown = order[(page - 1) * PER_PAGE : page * PER_PAGE]
    title = f"First layer: units ranked {(page - 1) * PER_PAGE + 1}–{(page - 1) * PER_PAGE + len(shown)}"
    figure = figures.inside.weights_figure(pictures.numpy(), shown, title)
    st.plotly_chart(figure, key=f"first_layer_{key}_{page}")


LIVE_UNITS = list(range(PER_PAGE))  # the same units at every epoch, so each tile can be watched


def live_first_layer(run_id: int, epoch: int, model: MLP) -> None:
    """The first 64 units of a run that is training, as of its latest finished epoch. The picture
    is made once per epoch and sent inline (a small JPEG in the page): the live area redraws
    twice a second, and an st.image there would hand the browser a media file that the next
    redraw may already have replaced (a 404 seen in the load test)."""
    cached = st.session_state.get("live_first_layer")
    if cached is None or cached[:2] != (run_id, epoch):
        pictures = first_layer_weights(model).numpy()
        units = LIVE_UNITS[: len(pictures)]
        picture = figures.inside.weights_image(pictures, units, scale=1)
        cached = (run_id, epoch, inline.data_url(picture, "JPEG"))
        st.session_state["live_first_layer"] = cached
    shown = min(PER_PAGE, len(model.hidden[0][0].weight))
    st.markdown(
        f'<img src="{cached[2]}" alt="first-layer weights after epoch {epoch}" '
        'style="width: 360px; max-width: 100%; image-rendering: pixelated">',
        unsafe_allow_html=True,
    )
    st.caption(
        f"First layer after epoch {epoch}: units 1–{shown}, each one's 784 weights as a 28×28 "
        "picture (red: ink there excites it, blue: holds it back)."
    )
