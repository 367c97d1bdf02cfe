"""Every page runs inside app.py's navigation and sidebar, even on a server's very first visit.

Streamlit treats a `pages/` folder beside the main script as a v1 multipage app until the first
script run calls `st.navigation`. On a freshly started server the first visitor's run therefore
looks its URL up among `pages/*.py` before app.py ever runs: a deep link such as /train either
finds `pages/train.py` and runs it bare (no sidebar, no navigation), or finds nothing and shows a
"Page not found" dialog. Each page's file is named like its URL, so the lookup succeeds, and the
page's first line hands that one run over to app.py, which draws the navigation and then the page.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from ui import streamlit_fixes

APP = Path(__file__).resolve().parent.parent / "app.py"


def run_inside_app() -> None:
    """Call first in every page: in the one run Streamlit starts a page without app.py, run app.py
    instead (it calls st.navigation, which ends the v1 mode, and runs this page) and stop. Also
    installs, once per process, the fixes in `streamlit_fixes` (a click on a page undone by a timer)."""
    streamlit_fixes.install()
    if not PagesManager.uses_pages_directory:
        return
    code = compile(APP.read_text(), str(APP), "exec")
    exec(code, {"__name__": "__main__", "__file__": str(APP)})  # noqa: S102 - our own app.py
    st.stop()
