"""Which model answers on the Draw page: this session's runs (one still training answers with its
latest epoch), an uploaded checkpoint, a model taught the visitor's drawings, or the shipped default."""

from __future__ import annotations

import streamlit as st

from playground.core import checkpoint
from playground.digits import predict
from ui import session


def pick(key: str) -> None:
    """Have the model with `key` answer from the next run of the page on, as if the visitor had
    picked it (the picker's own state cannot change once it is drawn in this run)."""
    st.session_state["draw_model_next"] = key


def picked_source() -> predict.ModelSource:
    """The model picker (in an expander) and the model it picks."""
    with st.expander("Which model answers", expanded=False):
        upload = _uploaded_source()
        sources = _sources(upload)
        labels = {s.key: s.label for s in sources}
        if st.session_state.get("draw_model_next") in labels:
            st.session_state["draw_model"] = st.session_state.pop("draw_model_next")
            st.session_state["draw_model_picked"] = True
        picked = st.session_state.get("draw_model_picked") and st.session_state.get("draw_model") in labels
        if not picked:  # nothing picked (or that run was deleted): the best choice answers
            st.session_state["draw_model"] = sources[0].key
        st.selectbox(
            "Model",
            list(labels),
            format_func=labels.get,
            key="draw_model",
            on_change=lambda: st.session_state.update(draw_model_picked=True),
            help="Your latest run answers by default (while one trains: its latest epoch); "
            "the shipped model answers before you train one.",
        )
    return chosen_source()


def chosen_source() -> predict.ModelSource:
    """The model the visitor picked (by its stable key), else the first choice."""
    sources = _sources(st.session_state.get("draw_upload", (None, None))[1])
    by_key = {s.key: s for s in sources}
    return by_key.get(st.session_state.get("draw_model"), sources[0])


def training() -> bool:
    """Whether a run of this session trains now (its answers change epoch by epoch)."""
    return session.run_history().active is not None


def _sources(upload: predict.ModelSource | None) -> list[predict.ModelSource]:
    return predict.model_sources(
        session.run_history().trained(), upload, _training_source(), _taught_source()
    )


def _taught_source() -> predict.ModelSource | None:
    """The model taught this session's drawings (ui/teach_panel.py), once there is one."""
    lesson = st.session_state.get("teach_lesson")
    return lesson["source"] if lesson else None


def _training_source() -> predict.ModelSource | None:
    """The run this session is training now, with the weights of its latest finished epoch."""
    record = session.run_history().active
    if record is None or record.epoch_model is None:
        return None
    epoch, model = record.epoch_model
    return predict.training_source(record, epoch, model)


def _uploaded_source() -> predict.ModelSource | None:
    """The checkpoint from the uploader, read once per file; a bad file shows why."""
    file = st.file_uploader(
        "Use a checkpoint file (.pt) instead",
        type=["pt", "pth"],
        max_upload_size=checkpoint.MAX_BYTES // (1024 * 1024),
        help="A model saved by the Train page or `python -m playground train --out`.",
    )
    if file is None:
        st.session_state.pop("draw_upload", None)  # the file was removed: forget it
        return None
    cached = st.session_state.get("draw_upload")
    if cached is not None and cached[0] == file.file_id:
        return cached[1]
    try:
        source = predict.upload_source(file.getvalue(), file.name)
    except checkpoint.CheckpointError as err:
        st.error(f"Cannot use {file.name}: {err}.")
        st.session_state.pop("draw_upload", None)  # an earlier file does not answer in its place
        return None
    st.session_state["draw_upload"] = (file.file_id, source)
    return source
