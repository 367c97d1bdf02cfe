"""Bring a part of the page into view once, on the page's next run, when a button asked for it: on
a phone, what a button changes can be screens away from the button (the pad after *Keep it*, the
lesson after *Open the lesson*)."""

from __future__ import annotations

import functools

import streamlit as st

# Scrolls the target into view, once per request. The target may mount a moment later (a canvas),
# and the page's redraw that follows can move or interrupt a scroll (seen on a loaded machine), so
# it looks again every 200 ms, scrolling while the target is out of view, until it has stayed in
# view for a second, 30 s have passed, or the visitor scrolls, taps or types (a test that drew on
# the pad and went on to the panel below within that second was pulled back). FIND is a
# JavaScript expression that finds the element; BLOCK is "center" or "start".
_SCROLL_JS = """
export default function ({ data }) {
  // Once per request, should the component be mounted again with the same request.
  const served = (window.playgroundScrollsServed ??= {});
  if (served[data.name] === data.asked) return;
  served[data.name] = data.asked;
  let tries = 0, settled = 0, stopped = false;
  // The visitor's own scrolling, tapping or typing ends it: what they do next wins.
  const stop = () => { stopped = true; };
  for (const type of ['wheel', 'touchstart', 'pointerdown', 'keydown']) {
    window.addEventListener(type, stop, { once: true, passive: true, capture: true });
  }
  const look = () => {
    if (stopped) return;
    const target = (FIND);
    if (target) {
      const box = target.getBoundingClientRect();
      const middle = (box.top + box.bottom) / 2;  // a target taller than the window: its middle
      const inView = BLOCK === 'start'
        ? box.top >= 0 && box.top <= window.innerHeight / 3
        : (box.top >= 0 && box.bottom <= window.innerHeight) ||
          (box.height > window.innerHeight && middle >= 0 && middle <= window.innerHeight);
      settled = inView ? settled + 1 : 0;
      target.style.scrollMarginTop = '4rem';  // below the app's header bar
      if (!inView) target.scrollIntoView({ block: BLOCK });
    }
    if (settled < 5 && tries++ < 150) setTimeout(look, 200);
  };
  look();
}
"""


def keyed(key: str) -> str:
    """The FIND expression of the element with `key` (st.container(key=...) and keyed widgets)."""
    return f"document.querySelector('.st-key-{key}')"


def request(name: str) -> None:
    """Scroll to `name`'s target on the page's next run (call from a button's callback)."""
    st.session_state[_asked(name)] = st.session_state.get(_asked(name), 0) + 1


def here(name: str, find: str, block: str = "center") -> None:
    """Where the page draws `name`'s target (or just after it): scrolls to the element `find`
    finds, when a scroll was requested. `block`: where the target lands, "center" (all of it in
    view, or its middle) or "start" (its top in the window's upper third, under the header)."""
    asked = st.session_state.get(_asked(name))
    if asked:  # a new key each time: mounted anew, it scrolls again
        _scroller(name, find, block)(key=f"scroller_{name}_{asked}", data={"name": name, "asked": asked})


def _asked(name: str) -> str:
    return f"scroll_to_{name}"


@functools.cache
def _scroller(name: str, find: str, block: str):
    """Registered on first use (not at import), once per process and target."""
    js = _SCROLL_JS.replace("FIND", find).replace("BLOCK", repr(block))
    return st.components.v2.component(f"playground_scroll_to_{name}", js=js)
