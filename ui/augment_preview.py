"""The train page's sample grid: what the network is trained on at the chosen augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from playground import figures
from playground.core import data
from ui import inline

HEADER = 16  # bytes before the first image in MNIST's IDX files (8 before the first label)
SAMPLE = 100  # the first training digits, from which one of each class is shown


@st.cache_data(max_entries=8, show_spinner=False)
def _first_of_each_digit(root: str) -> np.ndarray | None:
    """The first training image of each digit 0–9, read straight from the raw files (the server
    does not load the training set), or None while MNIST is not on disk."""
    raw = data.raw_dir(root)
    try:
        images = np.fromfile(raw / "train-images-idx3-ubyte", np.uint8, SAMPLE * 784, offset=HEADER)
        labels = np.fromfile(raw / "train-labels-idx1-ubyte", np.uint8, SAMPLE, offset=8)
    except (OSError, ValueError):
        return None
    if len(images) < SAMPLE * 784 or len(labels) < SAMPLE or len(set(labels.tolist())) < 10:
        return None
    first = [int(np.flatnonzero(labels == digit)[0]) for digit in range(10)]
    return images.reshape(SAMPLE, 28, 28)[first]


@st.cache_data(max_entries=32, show_spinner=False)
def _grid(root: str, strength: float) -> np.ndarray | None:
    digits = _first_of_each_digit(root)
    return None if digits is None else figures.augment.augment_grid(digits, strength)


def show(strength: float, root: Path) -> None:
    """The grid for `strength` (redrawn when it changes), or a line saying why there is none."""
    grid = _grid(str(root), strength)
    if grid is None:
        st.caption("Samples of the augmented digits appear here once MNIST is downloaded.")
        return
    if strength > 0:
        st.caption(
            f"**Trained on** (augmentation {strength:g}): top row as in MNIST; below, the same "
            "digits as three random training batches redraw them (rotated, scaled, sheared, "
            "shifted, elastically bent, strokes thinned or thickened)."
        )
    else:
        st.caption("**Trained on** MNIST's digits as they are (augmentation off: the tutorial).")
    inline.image(grid, width="stretch")  # PNG: JPEG would blur the pixels
