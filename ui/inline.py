"""Pictures sent with the page itself (data: URLs), not as files for the browser to fetch.

Streamlit serves an st.image array as a file that each run of the page registers anew, and a run
that ends deletes the files it did not register. Runs overlap: when a stroke, a slider or a click
stops a run, the next one has already started, and the stopped run, ending, deletes the pictures
the next one has not drawn yet (the same pictures, under the same names, moments later). A browser
that asks for one in that gap, as a busy one does, gets a 404 and keeps the broken picture: the
load test's sessions saw it on the draw page. A picture inside the page has nothing to fetch.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import streamlit as st
from PIL import Image


def data_url(picture: np.ndarray, image_format: str = "PNG") -> str:
    """A (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA uint8 picture → a data: URL. PNG keeps each
    pixel (JPEG would blur the digits' pixels); JPEG is smaller for large, busy pictures."""
    if picture.dtype != np.uint8:
        raise TypeError(f"a picture is uint8 pixels, not {picture.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, image_format, **({"quality": 90} if image_format == "JPEG" else {}))
    return f"data:image/{image_format.lower()};base64,{base64.b64encode(buffer.getvalue()).decode()}"


def image(pictures: np.ndarray | Sequence[np.ndarray], image_format: str = "PNG", **options) -> None:
    """st.image of one picture or a list of them (with st.image's captions, width...), inline."""
    if isinstance(pictures, np.ndarray):
        st.image(data_url(pictures, image_format), **options)
    else:
        st.image([data_url(picture, image_format) for picture in pictures], **options)
