"""The train page's live read-out of a run: progress bar, one-line status and loss chart, drawn by
a small custom component (ui/live_run_frontend/index.html) that updates them in place.

st.plotly_chart gives a chart a new identity whenever its figure changes, so every redraw of the
live chart (twice a second) built it from scratch; with st.progress besides, the browser spent
about 35% of a core on it, taken from training when both share a machine. This component keeps
one chart and hands it each new figure (Plotly.react), which also keeps zoom and hover alive.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import plotly
import streamlit as st
import streamlit.components.v1 as components

_FRONTEND = Path(__file__).with_name("live_run_frontend")
_PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"  # ships with plotly


def _served_dir() -> Path:
    """A folder for Streamlit to serve: our page and the plotly.js of the installed plotly (so
    nothing is downloaded and nothing large is kept in the repository)."""
    page = (_FRONTEND / "index.html").read_bytes()
    tag = hashlib.sha256(page).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"pytorch-playground-live-run-{plotly.__version__}-{tag}"
    folder.mkdir(exist_ok=True)
    for source in (_FRONTEND / "index.html", _PLOTLY_JS):
        target = folder / source.name
        if not target.exists():  # copied whole, then renamed: a second server never sees half a file
            partial = target.with_name(f".{source.name}.{os.getpid()}")
            shutil.copyfile(source, partial)
            os.replace(partial, target)
    return folder


_component = components.declare_component("live_run", path=str(_served_dir()))


def live_run(figure: dict, fraction: float, label: str, key: str, page_run: int) -> bool:
    """Show the progress bar at `fraction` (0–1) with `label` above `figure` (a Plotly figure as
    a plain dict: charts.training_figure). Calls with the same key update the same chart in the
    browser, which themes it from Streamlit's theme.

    `page_run` is the number of the page's latest full run, which the page also writes into its
    CSS (`--page-run`). True, once per report, when the browser reports that its page stayed
    behind that run: under heavy load (10 pages in one browser on 2 cores) a browser was seen to
    miss a whole full run, keeping its old buttons and never showing a run's results, while this
    frame kept getting its updates. The caller then reruns the page."""
    report = _component(
        figure=figure, fraction=fraction, label=label, page_run=page_run, key=key, default=None
    )
    seen_key = f"{key}-page-missed"
    if report is None or st.session_state.get(seen_key) == report:
        return False
    st.session_state[seen_key] = report
    return True
