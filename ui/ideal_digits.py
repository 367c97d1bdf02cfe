"""What a network thinks each digit looks like (playground.digits.ideal), beside the average test
digit of each kind: a results tab of the train page (and the default model's on the home page)."""

from __future__ import annotations

import streamlit as st

from playground import figures
from playground.core.model import MLP
from playground.digits import ideal
from ui import inline

WIDTH = 84  # px a picture: ten in a row on a wide screen, four on a phone (as the mistakes)


def found_for(model: MLP) -> ideal.IdealDigits:
    """The model's pictures, with a progress bar while they are searched for (the first time)."""
    found = ideal.known(model)
    if found is None:
        bar = st.progress(0.0, text="Asking the network what each digit looks like…")
        found = ideal.ideal_digits(model, progress=bar.progress)
        bar.empty()
    return found


def ideal_digits(model: MLP, test_images, test_labels) -> None:
    found = found_for(model)
    st.caption(
        "For each digit, the picture this network scores highest. Each starts as a blank canvas; "
        f"{ideal.STEPS} times, autograd gives the gradient of the digit's score with respect to "
        "the 784 pixels (as on the Draw page's “which pixels made it say 7”) and the pixels move "
        "a little along it, then blur slightly and shift by a pixel or two, so that only strokes "
        "that work anywhere survive, and each unit of ink costs a little score. Under each: how "
        "sure the network is of it."
    )
    inline.image(
        [figures.inside.ink_picture(found.pixels[digit]) for digit in range(ideal.DIGITS)],
        width=WIDTH,
        caption=[f"its {digit} ({found.confidence(digit):.0%})" for digit in range(ideal.DIGITS)],
    )
    if test_images is None:
        return
    averages = ideal.average_digits(test_images, test_labels)
    own = ideal.own_digits(found.pixels, averages)
    st.caption("The average of the test set's digits of each kind, for comparison:")
    inline.image(
        [figures.inside.ink_picture(averages[digit]) for digit in range(ideal.DIGITS)],
        width=WIDTH,
        caption=[f"average {digit}" for digit in range(ideal.DIGITS)],
    )
    st.caption(
        f"{len(own)} of its 10 pictures are most like the average of their own digit (by the "
        "cosine similarity of the ink); an untrained network's stay blank, as no ink raises a "
        "digit's score by more than the ink costs. Little ink in a picture means the "
        "network tells that digit mostly by where ink is *not*. Seen here: networks trained on "
        "MNIST as it is draw thick blobs; the shipped default model, trained with augmentation "
        "(the *Augmented* preset), draws thin strokes."
    )
