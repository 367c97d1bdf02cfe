"""The drawing among MNIST's test digits (Draw page): the most alike two ways, and where it lands
on a map (playground.digits.alike and digit_map)."""

from __future__ import annotations

import streamlit as st
import torch

from playground import figures
from playground.core import data
from playground.digits import alike, digit_map, predict, preprocessing
from ui import inline, session


def test_digits_near(source: predict.ModelSource, model_input: torch.Tensor, digit: int) -> None:
    st.subheader("The test digits it finds most alike")
    if not data.is_available(session.data_dir()):
        st.caption("MNIST's test digits are not on this server, so there is nothing to compare with.")
        return
    images, labels = data.load_test_images(session.data_dir())
    _most_alike(source, model_input, digit, images, labels)
    _digit_map(source, model_input, images, labels)


def _most_alike(source: predict.ModelSource, model_input, digit: int, images, labels) -> None:
    st.caption(
        "Among MNIST's 10,000 test digits, the nearest to your drawing two ways. **As the network "
        "sees them**: the digits its last hidden layer responds to most like it does to yours. "
        "**As pixels**: the digits with ink most in the same places. Pixel neighbours can be other "
        "digits drawn in the same spot; the network's tend to be the same digit, whatever the pen "
        "did. That is what training taught it. Under each: its label, and how alike it is (cosine "
        "similarity: 1 is the same)."
    )
    found = alike.most_alike(source.model, model_input, images, labels)
    for title, row in (("As the network sees them", found.by_network), ("As pixels", found.by_pixels)):
        same = sum(a.label == digit for a in row)
        st.markdown(f"**{title}**: {digit}s among them, {same} of {len(row)}")
        inline.image(
            [preprocessing.enlarge(images[a.index].numpy() / 255.0, 56) for a in row],
            caption=[f"{a.label} · {a.similarity:.2f}" for a in row],
            width=56,
        )


def _digit_map(source: predict.ModelSource, model_input, images, labels) -> None:
    st.subheader("Where your drawing lands")
    network, pixels = digit_map.digit_maps(source.model, model_input, images, labels)
    st.caption(
        f"The test digits spread on a plane along the two directions in which they differ most "
        f"(principal components), {len(network.xy):,} of them as dots; your drawing is the star. "
        f"The network has pulled the digits apart into groups: on its plane the digits stand "
        f"{network.separation / pixels.separation:.1f}× as far apart as on the pixels' (the spread "
        f"between the digits' middles over the spread within a digit: {network.separation:.1f} "
        f"against {pixels.separation:.1f}). Two directions cannot show all of the layer's "
        f"{network.dimensions} units: a drawing read right can still land between groups."
    )
    maps = [(network, "As the network sees them", "network"), (pixels, "As pixels", "pixels")]
    for column, (picture, title, name) in zip(st.columns(2), maps):
        column.plotly_chart(figures.drawing.digit_map_figure(picture, title), key=f"draw_map_{name}")
