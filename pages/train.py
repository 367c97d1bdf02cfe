"""Train: controls on the left, the live run on the right; results, comparison and sharing below."""

import streamlit as st

from ui import shell

shell.run_inside_app()

from playground import export, figures
from playground.core import data
from playground.hosting import shared
from playground.hosting.settings import is_local
from ui import augment_preview, run_budget, session, train_controls, train_results
from ui.code_panel import code_panel
from ui.first_layer import live_first_layer
from ui.live_run import live_run

st.title("🏋️ Train the tutorial's network")
page_run = st.session_state["page_run"] = st.session_state.get("page_run", 0) + 1
# --page-run: which full run of this page the browser shows (the live read-out checks it).
# Each redraw of the live area marks its elements stale for a moment, and the fade that follows
# kept the browser compositing 60 frames a second: the live area does without it.
st.html(
    f"<style>:root {{ --page-run: {page_run}; }} "
    ".st-key-live-area [data-stale] { opacity: 1 !important; transition: none !important; }</style>"
)
train_controls.load_from_url_once()
for warning in st.session_state.pop("url_warnings", []):
    st.warning(warning)

history = session.run_history()
if history.active is None:
    st.session_state.pop("watching", None)  # this full run shows the ended run's results
left, right = st.columns([1.3, 2], gap="large")
with left:
    config = train_controls.controls()
    train_controls.write_url(config)
    augment_preview.show(config.augment, session.data_dir())
    code_panel(config)
shared.prewarm_worker(config.device, session.data_dir())

with right:
    st.caption(f"**Next run:** {export.summary(config)}")
    run_budget.show_estimate(config)
    if not data.is_available(session.data_dir()):
        where = f"in `{data.raw_dir(session.data_dir())}`" if is_local() else "on this server"
        st.info(f"MNIST is not {where} yet: the first run downloads it (about 12 MB).")
    start_col, stop_col = st.columns(2)
    train = start_col.button(
        "▶ Train",
        type="primary",
        disabled=history.active is not None,
        width="stretch",
        on_click=train_controls.keep_preset_over_stale_values,
    )
    if train and run_budget.start(history, config):
        st.rerun()
    run_budget.show_refusal()
    if stop_col.button(
        "■ Stop",
        disabled=history.active is None,
        width="stretch",
        help="Ends the run at its next step and keeps the model trained so far",
        on_click=train_controls.keep_preset_over_stale_values,
    ):
        history.stop()

    @st.fragment(run_every=0.5 if history.active else None)
    def live_area() -> None:
        """Redrawn twice a second while a run trains; the run itself is in a worker process."""
        # A tick from a browser that has not drawn a preset yet carries the values from before
        # it. (In a full run of the page this changes nothing: `controls` has kept the preset
        # only where the values are the preset's.)
        train_controls.keep_preset_over_stale_values()
        with st.container(key="live-area"):
            _live_area()

    def _live_area() -> None:
        # One chart (key "live-run") for every run: the browser keeps it, and plotly.js loaded,
        # from the moment the page opens, so a run starts without building the chart.
        record = history.active or (history.records[-1] if history.records else None)
        if record is None:
            figure, fraction, label = (
                figures.training.training_figure([], [], config.epochs),
                0.0,
                "Press Train, and the loss curve draws itself here, live.",
            )
        else:
            figure = figures.training.training_figure(
                record.steps, record.epochs, record.config.epochs, zoom_key=record.id
            )
            fraction, label = record.progress()
        page_missed = live_run(figure, fraction, label, key="live-run", page_run=page_run)
        if record is not None and record.active and record.epoch_model is not None:
            live_first_layer(record.id, *record.epoch_model)
        if record is not None and record.error:
            st.error(record.error)
        if record is not None and record.active:
            st.session_state["watching"] = record.id  # also after a reload: a new session
        if page_missed or (
            record is not None and not record.active and st.session_state.get("watching") == record.id
        ):
            # The browser says it never got the page's latest full run (mid-run too: that is
            # when it was seen); or the run ended: redraw the whole page with its results, asked
            # again at every tick until a full run clears "watching", as a busy server may drop
            # one such request.
            st.rerun()

    live_area()

if history.active is None and history.trained():
    st.divider()
    train_results.results(history)
if history.records:
    st.divider()
    train_results.compare(history)
st.divider()
train_results.share_and_export(config, history)
