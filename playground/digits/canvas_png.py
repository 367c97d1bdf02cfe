"""The drawing pad's picture as the browser sends it: a PNG, read only when it is the pad's size.

The page's canvas sends its drawing as a PNG of the canvas's own size (280×280 for a digit,
whatever the screen's pixel ratio). But the server gets whatever a browser sends, and a PNG's
header states the size its pixels decode to: a 0.9 MB PNG of 13,000×13,000 took this server's
decoder and the digit's preprocessing 33 s and 5.8 GB. So the header is read first, and only a
picture of the pad's size is decoded.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


class CanvasPictureError(ValueError):
    """The bytes are not a PNG of the pad's size; the message says what they are instead."""


def decode(png: bytes, width: int, height: int) -> np.ndarray:
    """The (height, width, 4) uint8 RGBA pixels of `png`; CanvasPictureError unless it is a PNG
    of exactly width × height pixels (checked in its header, before any pixel is decoded)."""
    try:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as picture:
            if picture.size != (width, height):
                raise CanvasPictureError(
                    f"a picture of {picture.size[0]}×{picture.size[1]} pixels, not the pad's {width}×{height}"
                )
            return np.asarray(picture.convert("RGBA"))
    except CanvasPictureError:
        raise
    except Image.DecompressionBombError:  # PIL's own limit: over 179 million pixels
        raise CanvasPictureError(f"a picture far larger than the pad's {width}×{height}") from None
    except (OSError, SyntaxError, ValueError):
        raise CanvasPictureError("not a PNG picture, or a damaged one") from None
