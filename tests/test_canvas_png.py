"""The Draw page's canvas sends a PNG of its own size; anything else a browser sends is refused
before its pixels are decoded (a PNG's header can promise billions of pixels in 1 MB)."""

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from playground.digits import canvas_png
from tests.drawings import as_picture, as_png, draw_digit

PAD = (280, 280)


def test_the_pads_picture_comes_back_pixel_for_pixel():
    picture = as_picture(draw_digit(7, size=PAD), "transparent")
    decoded = canvas_png.decode(as_png(picture), *PAD)
    assert decoded.dtype == np.uint8 and decoded.shape == (280, 280, 4)
    assert np.array_equal(decoded, picture)
    grey = as_picture(draw_digit(1, size=PAD), "white-on-black")  # (H, W): read as RGBA
    assert np.array_equal(canvas_png.decode(as_png(grey), *PAD)[..., 0], grey)


def claiming(width: int, height: int) -> bytes:
    """The pad's PNG with its header changed to say width × height (its checksum made right):
    the few bytes a browser would need to send."""
    png = bytearray(as_png(np.zeros((280, 280, 4), np.uint8)))
    assert png[12:16] == b"IHDR"
    png[16:24] = struct.pack(">II", width, height)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


@pytest.mark.parametrize(
    "png, words",
    [
        (claiming(13_000, 13_000), "13000×13000 pixels, not the pad's 280×280"),  # 5.8 GB before
        (claiming(100_000, 100_000), "far larger than the pad's 280×280"),
        (as_png(np.zeros((150, 320, 4), np.uint8)), "320×150 pixels, not the pad's 280×280"),
        (b"\x89PNG\r\n\x1a\n broken", "not a PNG picture"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a PNG picture"),
    ],
)
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # PIL warns, we refuse
def test_anything_but_a_png_of_the_pads_size_is_refused_unread(png, words):
    start = time.process_time()
    with pytest.raises(canvas_png.CanvasPictureError, match=words):
        canvas_png.decode(png, *PAD)
    assert time.process_time() - start < 1.0  # the header only: no pixel decoded


def test_a_jpeg_of_the_pads_size_is_not_a_png():
    buffer = io.BytesIO()
    Image.new("RGB", PAD).save(buffer, format="JPEG")
    with pytest.raises(canvas_png.CanvasPictureError, match="not a PNG"):
        canvas_png.decode(buffer.getvalue(), *PAD)
