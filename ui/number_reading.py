"""A number drawn on the Draw page, read digit by digit (playground.digits.number)."""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from playground import figures
from playground.digits import number, predict, preprocessing

WIDTH = 70  # px a digit's picture: four in a row on a phone 360 px wide
SURE = 0.9  # below this, a digit's caption names the runner-up too


def number_answer(source: predict.ModelSource, image: np.ndarray | None) -> None:
    start = time.perf_counter()
    reading = number.read(source.model, image) if image is not None else None
    seconds = time.perf_counter() - start
    if reading is not None and reading.too_many:
        st.warning(
            f"That is more than {number.MAX_DIGITS} separate marks: write at most "
            f"{number.MAX_DIGITS} digits, each in one stroke or with its strokes above each other."
        )
        return
    if reading is None or not reading.digits:
        st.info("Write a number first: its digits side by side, with a little space between them.")
        return
    least = reading.least_sure
    st.metric(
        "The model reads",
        reading.text,
        f"least sure of a {least.prediction.digit}: {least.prediction.confidence:.1%}",
        delta_color="off",
        delta_arrow="off",
    )
    digits = [d.prediction.digit for d in reading.digits]
    touched = [d.digit.touched for d in reading.digits]
    st.image(
        figures.drawing.cut_picture(reading.ink, [d.digit.box for d in reading.digits], digits, touched),
        caption="Where your drawing was cut into digits, and what each one is read as"
        + (" (dashed: digits that touched, cut apart)" if any(touched) else ""),
    )
    st.image(
        [preprocessing.enlarge(d.processed.centred, WIDTH) for d in reading.digits],
        caption=[_answer_text(d.prediction) for d in reading.digits],
        width=WIDTH,
    )
    st.caption(
        "The network reads one digit at a time, so the drawing is cut first: each connected stroke "
        "is a piece, and pieces above one another are one digit (a 4 or a 5 drawn in two strokes). "
        "Digits that touch are one piece: one nearly as wide as tall or wider is tried cut "
        "straight down where its ink is thinnest, and cut when the network reads the two halves "
        "surer than the whole. It "
        "may not be, so a little space between digits is safer. Each digit then "
        "goes through the same steps as on the *One digit* tab (crop, shrink to fit 20×20, centre "
        f"by mass): above, what the model sees of each. Cut and read in {seconds * 1000:.0f} ms on "
        "the server."
    )


def several_digits_hint(image: np.ndarray) -> None:
    """On the one-digit pad, a drawing of digits side by side: say how the network read it, and
    where numbers are read."""
    heights = [d.box[2] - d.box[0] for d in number.split(preprocessing.ink(image)) or []]
    count = sum(height >= max(heights) / 2 for height in heights)  # a dot beside a digit is no digit
    if count > 1:
        st.info(
            f"That looks like {count} digits side by side. The network reads one digit at a "
            "time, so here it read them as one; the **A number** tab (above) cuts a number into "
            "its digits first."
        )


def _answer_text(prediction: predict.Prediction) -> str:
    """ "7 · 99%", or "7 · 62%, else 1 · 30%" when the model is unsure."""
    text = f"{prediction.digit} · {prediction.confidence:.0%}"
    if prediction.confidence >= SURE:
        return text
    runner_up = int(np.argsort(prediction.probabilities)[-2])
    return f"{text}, else {runner_up} · {prediction.probabilities[runner_up]:.0%}"
