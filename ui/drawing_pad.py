"""The Draw page's canvas: a drawing pad with Undo and Clear, its pen width, its strokes redrawn
with an even pen (`playground.digits.strokes`), and strokes moved from one pad to another.

Each pad keeps its state under its own name, so the page's one-digit and number pads keep their
drawings apart."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas  # raises outside `streamlit run`/AppTest: pages only

from playground.digits import canvas_png, preprocessing, strokes
from ui import scroll


@dataclass(frozen=True)
class Pad:
    name: str  # the prefix of its session keys: "draw", "number"
    width: int  # px
    height: int  # px
    stroke: int  # the pen's default width, px
    pen_help: str  # why that default

    def key(self, what: str) -> str:
        return f"{self.name}_{what}"


# The canvas component's own toolbar (undo, redo, download, reset) is invisible until hovered but
# still takes touches, over the canvas's top-right corner (141×30 px): on a touch screen, which
# has no hover, a finger's stroke that started there was lost to buttons nobody could see (found
# in Chromium at 360 and 390 px). The pad has its own Undo and Clear, so the toolbar is hidden.
# The canvas lives in a shadow root that the page's CSS cannot reach: this tiny component puts
# one rule into each canvas's shadow root, now and whenever a canvas is mounted.
_HIDE_TOOLBAR_JS = """
export default function () {
  let retries = 0;
  const hide = () => {
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      const root = host.shadowRoot;
      if (!root) {
        if (retries++ < 50) setTimeout(hide, 100);  // its shadow root comes a moment later
        continue;
      }
      if (root.querySelector('style[data-playground="hide-toolbar"]')) continue;
      const style = document.createElement('style');
      style.dataset.playground = 'hide-toolbar';
      style.textContent = '.dc-toolbar { display: none !important; }';
      root.appendChild(style);
    }
  };
  hide();
  const observer = new MutationObserver(hide);
  observer.observe(document.body, { childList: true, subtree: true });
  return () => observer.disconnect();
}
"""


@functools.cache
def _toolbar_hider():
    """Registered on first use (not at import), once per process."""
    return st.components.v2.component("playground_hide_canvas_toolbar", js=_HIDE_TOOLBAR_JS)


# The pad's canvas lives in its component's shadow root: the host whose shadow holds a canvas.
_FIND_PAD = (
    "[...document.querySelectorAll('[data-testid=\"stBidiComponentIsolated\"]')]"
    ".find((host) => host.shadowRoot && host.shadowRoot.querySelector('canvas'))"
)


def bring_into_view(pad: Pad) -> None:
    """Scroll the window to the pad on the page's next run (from a button's callback): after a
    button far below the pad (Teach it's *Keep it*) clears it for the next drawing, on a phone
    the pad is screens away."""
    scroll.request(pad.key("pad"))


@dataclass(frozen=True)
class Evened:
    """A drawing's strokes redrawn with an even pen, or why they were not."""

    ink: np.ndarray | None  # (H, W) float32 ink 0..1, or None: read the drawing as drawn
    pen: float = 0.0  # the even pen, px
    why_not: str = ""  # for the visitor, when ink is None
    lines: list[np.ndarray] | None = None  # the strokes redrawn (`strokes.from_canvas`)


def _canvas_key(pad: Pad) -> str:
    return f"{pad.key('canvas')}_{st.session_state.get(pad.key('canvas_version'), 0)}"


NO_STROKES = "the canvas sent no strokes this page can read"


def stroke_lines(pad: Pad) -> list[np.ndarray] | None:
    """The strokes the canvas sent with its latest drawing (`strokes.from_canvas`), or None when
    it sent none, or none this page can read."""
    try:
        objects = st.session_state[_canvas_key(pad)]["drawing"]["raw"]["objects"]
        return strokes.from_canvas(objects, pad.width, pad.height)
    except (KeyError, TypeError, strokes.StrokesError):
        return None


def evened(pad: Pad) -> Evened:
    """The strokes the canvas sent with its latest drawing, redrawn with an even pen."""
    lines = stroke_lines(pad)
    if lines is None:
        return Evened(None, why_not=NO_STROKES)
    pen = strokes.even_width(lines)
    ink = strokes.redraw(lines, pad.width, pad.height, pen)
    if preprocessing.preprocess_ink(ink).empty:  # a digit a few px tall: too little ink once thin
        return Evened(None, pen, why_not="the drawing is too small for a thinner pen")
    return Evened(ink, pen, lines=lines)


def drawing(pad: Pad) -> np.ndarray | None:
    """The pad with its buttons and pen slider; the drawing as an (H, W, 4) uint8 image, or None."""
    canvas_key = _canvas_key(pad)
    canvas = st_canvas(
        stroke_width=st.session_state.get(pad.key("stroke"), pad.stroke),
        stroke_color="#FFFFFF",
        background_color="#000000",  # MNIST's look: white ink on black
        width=pad.width,
        height=pad.height,
        drawing_mode="freedraw",
        initial_drawing=st.session_state.get(pad.key("initial")),
        return_image_data=True,
        key=canvas_key,
    )
    strokes = len((canvas.json_data or {}).get("objects") or [])
    buttons = st.container(horizontal=True, gap="small")
    buttons.button(
        "Undo stroke",
        on_click=_undo_stroke,
        args=(pad, canvas_key),
        icon=":material/undo:",
        disabled=not strokes,
        key=pad.key("undo"),
    )
    buttons.button("Clear", on_click=clear, args=(pad,), icon=":material/delete:", key=pad.key("clear"))
    with buttons:  # its empty element, last in the row, leaves no gap in the column
        _toolbar_hider()(key=pad.key("toolbar_hider"))
        scroll.here(pad.key("pad"), _FIND_PAD)
    st.slider("Pen width (px)", 8, 36, pad.stroke, key=pad.key("stroke"), help=pad.pen_help)
    try:
        png = canvas.image_bytes  # not canvas.image_data, which decodes any size a browser sends
    except (ValueError, TypeError, AttributeError):  # a data URL that is not one: base64 or not
        png = b""
    if png is None:
        return _put_here(pad, canvas.json_data)
    try:
        return canvas_png.decode(png, pad.width, pad.height)
    except canvas_png.CanvasPictureError as err:
        st.warning(f"The drawing came as {err}, so it was not read. Press Clear and draw again.")
        return None


def _put_here(pad: Pad, json_data: dict | None) -> np.ndarray | None:
    """A canvas sends no picture of the drawing it starts with (`move_drawing` puts one there):
    until it sends one, the picture is drawn here from the strokes, white on black as the canvas's."""
    objects = json_data.get("objects") if isinstance(json_data, dict) else None
    if not objects:
        return None
    try:
        ink = strokes.drawn(objects, pad.width, pad.height)
    except strokes.StrokesError:
        return None
    grey = np.round(ink * 255).astype(np.uint8)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


def move_drawing(source: Pad, target: Pad, only: list[int] | None = None) -> bool:
    """Put the strokes drawn on `source` (`only` those, by their order) on a fresh canvas of
    `target`, fitted to it (`strokes.moved`); False, and nothing changed, when they cannot be read."""
    try:
        objects = st.session_state[_canvas_key(source)]["drawing"]["raw"]["objects"]
        if only is not None:
            objects = [objects[i] for i in only]
        moved = strokes.moved(objects, (source.width, source.height), (target.width, target.height))
    except (KeyError, TypeError, IndexError, strokes.StrokesError):
        return False
    clear(target)  # a new canvas: the target's last drawing is not read while this one loads
    st.session_state[target.key("initial")] = {"objects": moved}
    return True


def clear(pad: Pad) -> None:
    """An empty pad: a new key mounts a fresh, empty canvas."""
    st.session_state[pad.key("canvas_version")] = st.session_state.get(pad.key("canvas_version"), 0) + 1
    st.session_state.pop(pad.key("initial"), None)


def _undo_stroke(pad: Pad, canvas_key: str) -> None:
    """The canvas's own undo is in a toolbar that shows on hover: a finger never sees it. This
    gives the canvas its drawing less the last stroke. It reads the strokes the click brought
    (the canvas's state, as st_canvas itself reads it), not the page's last run, which may not
    have seen the latest stroke yet."""
    try:
        objects = list(st.session_state[canvas_key]["drawing"]["raw"]["objects"])
    except (KeyError, TypeError):  # no stroke yet, or a state this page does not know: keep all
        return
    undone = st.session_state.get(pad.key("undone"), 0) + 1
    st.session_state[pad.key("undone")] = undone
    # The canvas redraws when its initial drawing changes; the count makes each undo a change.
    st.session_state[pad.key("initial")] = {"objects": objects[:-1], "undone": undone}
