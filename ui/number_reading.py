"""A number drawn on the Draw page, read digit by digit (playground.digits.number)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import streamlit as st

from playground import figures
from playground.core.model import MLP
from playground.digits import number, predict, preprocessing
from ui import inline

WIDTH = 70  # px a digit's picture: four in a row on a phone 360 px wide
WHY_WIDTH = 88  # px a picture of a cut: the piece and its halves, three in a row on a 360 px phone
SURE = 0.9  # below this, a digit's caption names the runner-up too
ALL_SURE = 0.9995  # from here a confidence shows as 100.0%: "least sure … 100.0%" says nothing
PICTURE_CUT = (
    "The network reads one digit at a time, so the drawing is cut first: each connected stroke "
    "is a piece, and pieces above one another are one digit (a 4 or a 5 drawn in two strokes). "
    "Digits that touch are one piece: one nearly as wide as tall or wider is tried cut "
    "straight down where its ink thins, and cut when the network reads the two halves "
    "surer than the whole. It may not be, so a little space between digits is safer. Each "
    "digit goes through the same steps as on the *One digit* tab (crop, shrink to fit "
    "20×20, centre by mass): above, what the model sees of each."
)
STROKES_CUT = (
    "The network reads one digit at a time, so the drawing is cut first, by your strokes: "
    "strokes above one another are one digit (a 4 or a 5 drawn in two strokes), so digits "
    "that touch still come apart. Only a piece wider than any digit (two written in one "
    "stroke) is tried cut where its ink thins, when the network reads the two halves surer "
    "than the whole. Each digit's strokes are redrawn with a pen a ninth of its size and go "
    "through the same steps as on the *One digit* tab (crop, shrink to fit 20×20, centre by "
    "mass): above, what the model sees of each."
)


def number_answer(
    source: predict.ModelSource,
    image: np.ndarray | None,
    lines: list[np.ndarray] | None = None,
    under_digits: Callable[[list[number.ReadDigit]], None] | None = None,
) -> None:
    """The number in `image` as the network reads it: when its strokes (`lines`) are given, its
    digits found from them, each redrawn with an even pen. `under_digits` draws what goes under
    the digits' pictures, given the digits read."""
    start = time.perf_counter()
    reading = number.read(source.model, image, lines) if image is not None else None
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
        _sureness_text(least.prediction),
        delta_color="off",
        delta_arrow="off",
    )
    digits = [d.prediction.digit for d in reading.digits]
    touched = [d.digit.touched for d in reading.digits]
    inline.image(
        figures.drawing.cut_picture(reading.ink, [d.digit.box for d in reading.digits], digits, touched),
        caption="Where your drawing was cut into digits, and what each one is read as"
        + (", each digit's strokes with an even pen" if lines else "")
        + (" (dashed: digits that touched, cut apart)" if any(touched) else ""),
    )
    inline.image(
        [preprocessing.enlarge(d.processed.centred, WIDTH) for d in reading.digits],
        caption=[_answer_text(d.prediction) for d in reading.digits],
        width=WIDTH,
    )
    if under_digits is not None:
        under_digits(reading.digits)
    how = STROKES_CUT if lines else PICTURE_CUT
    st.caption(f"{how} Cut and read in {seconds * 1000:.0f} ms on the server.")
    cuts_explained(reading.cuts)


def cuts_explained(cuts: list[number.Cut]) -> None:
    """Each cut of touching digits, and each piece wider than tall read as one digit: the piece
    as the network read it whole beside the halves of its (nearest) cut, and why."""
    made, kept = [c for c in cuts if c.made], [c for c in cuts if not c.made]
    for label, shown in (
        ("Why the touching digits were cut apart", made),
        ("Why a wide piece was read as one digit", kept),
    ):
        if not shown:
            continue
        with st.expander(label):
            for cut in shown:
                pieces = [cut.whole, *cut.halves]
                st.caption(
                    "The piece read as one digit, then its two halves:"
                    if cut.made
                    else "The piece read as one digit, then the halves of the cut nearest to passing:"
                )
                inline.image(
                    [preprocessing.enlarge(d.processed.centred, WHY_WIDTH) for d in pieces],
                    caption=[f"{d.prediction.digit} · {d.prediction.confidence:.0%}" for d in pieces],
                    width=WHY_WIDTH,
                )
                st.markdown(cut_reason(cut))


def cut_reason(cut: number.Cut) -> str:
    """Why the network's reading made a cut, or kept the piece whole, in words, with its figures."""
    whole = cut.whole.prediction
    first, second = (half.prediction for half in cut.halves)
    both = first.confidence * second.confidence
    left, right = (f"{value:.1f}" for value in cut.halves_evidence)
    read_whole = f"Read as one digit, the piece is a {whole.digit} at {whole.confidence:.1%}"
    if cut.by == "confidence":
        return (
            f"{read_whole}; cut in two, a {first.digit} and a {second.digit}, surer together "
            f"({first.confidence:.1%} × {second.confidence:.1%} = {both:.1%}): two digits, not one."
        )
    if cut.by == "evidence":
        return (
            f"{read_whole}, but its largest logit (the score before the softmax) is only "
            f"{cut.whole_evidence:.1f}, against {left} and {right} for the halves, a {first.digit} and "
            f"a {second.digit}. A confidence says how far one digit's score beats the other nine; the "
            "scores themselves say how strongly the network recognises a digit: the halves are "
            "digits it knows, the whole is not."
        )
    return (
        f"{read_whole}. Cut where its ink thins, it would be a {first.digit} at "
        f"{first.confidence:.1%} and a {second.digit} at {second.confidence:.1%} (together "
        f"{both:.1%}), with largest logits of {left} and {right} against the whole's "
        f"{cut.whole_evidence:.1f}: not sure enough of two digits, so it stays one. If it is two, a "
        "little space between them helps."
    )


def several_digits_hint(model: MLP, image: np.ndarray, lines: list[np.ndarray] | None = None) -> bool:
    """On the one-digit pad, a drawing of digits side by side, or touching: say what it reads as a
    number, and where numbers are read. It is read the way the number tab reads it: from its
    strokes (`lines`) when the page has them, else from the picture, where touching digits are one
    piece, cut where the network reads two digits surer than one. On the first 1,000 pen-drawn test
    digits, from the strokes / from the picture: 0.2% / 0.6% of single digits named as two; of 996
    touching pairs, 99.8% / 90.8% found as two digits (README, *A number*). True when it said so."""
    reading = number.read(model, image, lines)
    tall = max((d.digit.box[2] - d.digit.box[0] for d in reading.digits), default=0)
    digits = [d for d in reading.digits if d.digit.box[2] - d.digit.box[0] >= tall / 2]  # a dot is no digit
    if len(digits) > 1:
        touching = ", touching" if any(d.digit.touched for d in digits) else ""
        text = "".join(str(d.prediction.digit) for d in digits)
        st.info(
            f"That looks like {len(digits)} digits side by side{touching}: read as a number, "
            f"**{text}**. The network reads one digit at a time, so here it read them as one; the "
            "**A number** tab (above) cuts a number into its digits first."
        )
    return len(digits) > 1


def _sureness_text(least: predict.Prediction) -> str:
    """The metric's note: how sure the network is of the digit it is least sure of."""
    if least.confidence >= ALL_SURE:
        return "every digit over 99.9% sure"
    return f"least sure of a {least.digit}: {least.confidence:.1%}"


def _answer_text(prediction: predict.Prediction) -> str:
    """ "7 · 99%", or "7 · 62%, else 1 · 30%" when the model is unsure."""
    text = f"{prediction.digit} · {prediction.confidence:.0%}"
    if prediction.confidence >= SURE:
        return text
    runner_up = int(np.argsort(prediction.probabilities)[-2])
    return f"{text}, else {runner_up} · {prediction.probabilities[runner_up]:.0%}"
