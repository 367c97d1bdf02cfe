"""The train page's read-outs: results of a run, the run comparison, share and export."""

from __future__ import annotations

import urllib.parse

import pandas as pd
import streamlit as st

from playground import export, figures
from playground.core import checkpoint
from playground.core.config import RunConfig
from playground.core.model import architecture_rows, parameter_count
from playground.hosting.runs import RunHistory, RunRecord
from ui import backprop_panel, inline
from ui.first_layer import first_layer
from ui.ideal_digits import found_for, ideal_digits

GALLERY_SIZE = 24


def results(history: RunHistory) -> None:
    trained = history.trained()
    names = {r.id: f"{r.name} ({r.status})" for r in trained}
    run_id = st.selectbox("Results of", list(names), format_func=names.get, key="results_run")
    record = history.get(run_id) or trained[0]
    st.subheader(f"Results: {record.name}" + (" — stopped early" if record.stopped_early else ""))
    evaluation = record.evaluation
    cols = st.columns(5)
    cols[0].metric("Final test accuracy", f"{evaluation.accuracy:.2%}")
    cols[1].metric("Best test accuracy", f"{record.best_accuracy:.2%}")
    cols[2].metric("Parameters", f"{parameter_count(record.model):,}")
    cols[3].metric("Time per epoch", f"{record.seconds_per_epoch:.2f} s" if record.seconds_per_epoch else "–")
    cols[4].metric("Epochs done", f"{record.done.epochs_completed}/{record.config.epochs}")
    if record.placed is not None:  # the Ray backend: which of the cluster's machines trained it
        st.caption(f"Trained on the Ray cluster, node {record.placed.node[:8]}.")
    # The tabs rerun the page when one is chosen: "Each digit" searches only when it is open.
    confusion_tab, mistakes_tab, first_layer_tab, each_digit_tab, architecture_tab = st.tabs(
        ["Confusion matrix", "Mistakes", "First layer", "Each digit", "Architecture"],
        key="results_tab",
        on_change="rerun",
    )
    with confusion_tab:
        st.plotly_chart(figures.training.confusion_figure(evaluation.confusion), key=f"confusion-{record.id}")
        confused = evaluation.most_confused()
        if confused:
            pairs = ", ".join(f"{true} read as {guess} ({times}×)" for true, guess, times in confused)
            st.caption(f"Most often confused: {pairs}. Each is a cell off the diagonal.")
    with mistakes_tab:
        _mistakes(record)
    with first_layer_tab:
        first_layer(record.model, key=str(record.id))
    if each_digit_tab.open:
        with each_digit_tab:
            ideal_digits(record.model, record.test_images, record.test_labels)
    with architecture_tab:
        st.table(pd.DataFrame(architecture_rows(record.config)), hide_index=True)  # to read: no toolbar
        st.caption(export.summary(record.config))
        if st.button(
            "One training step of it, seen through autograd",
            icon=":material/account_tree:",
            key="results_backprop",
        ):
            backprop_panel.open_with(f"run:{record.id}")


def _mistakes(record: RunRecord) -> None:
    evaluation, images = record.evaluation, record.test_images
    wrong = evaluation.misclassified
    st.caption(
        f"{len(wrong)} of {len(evaluation.predictions)} test digits misclassified; "
        f"the first {min(len(wrong), GALLERY_SIZE)}:"
    )
    if images is None or not len(wrong):
        return
    shown = wrong[:GALLERY_SIZE].tolist()
    # One image list, not eight columns: it wraps in reading order at any width (columns stack
    # on a phone, one digit a row, in column order).
    inline.image(
        [images[index].numpy() for index in shown],
        width=84,
        caption=[
            f"{int(record.test_labels[i])} → {int(evaluation.predictions[i])} "
            f"({float(evaluation.confidences[i]):.0%})"
            for i in shown
        ],
    )


def compare(history: RunHistory) -> None:
    st.subheader("Compare runs")
    rows = [_row(r) for r in history.records]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "final accuracy": st.column_config.NumberColumn(format="%.2f%%"),
            "best accuracy": st.column_config.NumberColumn(format="%.2f%%"),
        },
    )
    names = {r.id: r.name for r in history.records}
    _overlay_new_runs(list(names))
    chosen = st.multiselect("Overlay", list(names), format_func=names.get, key="compare_runs")
    if chosen:
        runs = [
            (figures.training.run_label(r.name, r.config.precision, r.seconds_per_epoch), r.steps, r.epochs)
            for r in history.records
            if r.id in chosen
        ]
        loss, accuracy = figures.training.comparison_figures(runs)
        left, right = st.columns(2)  # one under the other on a phone
        left.plotly_chart(loss, key="compare-loss")
        right.plotly_chart(accuracy, key="compare-accuracy")
    _compare_digits(history, chosen)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    victim = left.selectbox("Delete a run", list(names), format_func=names.get, key="delete_run")
    if right.button("🗑 Delete", width="stretch") and victim is not None:
        history.delete(victim)
        st.rerun()


def _compare_digits(history: RunHistory, chosen: list[int]) -> None:
    """The overlaid runs' pictures of each digit, one row a run: what a setting (augmentation
    above all) changes in what a network looks for. Searched only while the expander is open."""
    section = st.expander(
        "What each run thinks each digit looks like", key="compare_digits", on_change="rerun"
    )
    if not section.open:
        return
    with section:
        runs = [r for r in reversed(history.trained()) if r.id in chosen]  # oldest first, as overlaid
        if not runs:
            st.caption("Overlay a finished run to see its pictures here.")
        for record in runs:
            augment = f"augmented {record.config.augment:g}" if record.config.augment else "not augmented"
            inline.image(
                figures.inside.digits_strip(found_for(record.model).pixels, scale=3),
                caption=f"{record.name}: {' → '.join(map(str, record.config.hidden))}, {augment}, "
                f"{record.final_accuracy:.2%}",
            )


def _overlay_new_runs(run_ids: list[int]) -> None:
    """Runs the overlay has not seen yet join it (the last three are shown at first); deleted
    runs leave it. The user's own choices among known runs are kept."""
    known = st.session_state.get("compare_known", set())
    chosen = [i for i in st.session_state.get("compare_runs", run_ids[-3:]) if i in run_ids]
    chosen += [i for i in run_ids if i not in known and i not in chosen and i in run_ids[-3:]]
    st.session_state["compare_runs"] = chosen
    st.session_state["compare_known"] = set(run_ids)


def _row(record: RunRecord) -> dict[str, object]:
    c = record.config
    return {
        "run": record.name,
        "status": record.status,
        "layers": " → ".join(map(str, c.hidden)),
        "optimizer": f"{c.optimizer} {c.lr:g} ({c.schedule})",
        "batch": c.batch_size,
        "precision": c.precision,
        "epochs": f"{record.done.epochs_completed if record.done else len(record.epochs)}/{c.epochs}",
        "final accuracy": 100 * record.final_accuracy if record.final_accuracy is not None else None,
        "best accuracy": 100 * record.best_accuracy if record.best_accuracy is not None else None,
        "s/epoch": round(record.seconds_per_epoch, 2) if record.seconds_per_epoch else None,
        "time (s)": round(record.done.elapsed, 1) if record.done else None,
        "device": record.device,
    }


def share_and_export(config: RunConfig, history: RunHistory) -> None:
    st.subheader("Share and export")
    base = (st.context.url or "").split("?")[0]
    link = f"{base}?{urllib.parse.urlencode(config.to_params())}"
    st.caption("Share link: opens this page with these settings (copy it with the button at its right).")
    st.code(link, language=None)
    left, right = st.columns(2)
    left.download_button(
        "⬇ PyTorch code (.py)",
        # Made on the click: a file made at every page run was replaced by the next run before a
        # busy browser fetched it (a 404 seen in the load test).
        lambda: export.training_script(config),
        file_name="train_mnist.py",
        mime="text/x-python",
        help="A standalone script: needs only torch and torchvision",
        # And the click reruns nothing: a run of the page names the file to make anew, so a run
        # the click asked for, ended before a busy server took up the click's request for the
        # file, left the request a name that was gone (no download, on a loaded machine).
        on_click="ignore",
    )
    trained = history.trained()
    if trained:
        record = history.get(st.session_state.get("results_run")) or trained[0]
        right.download_button(
            f"⬇ Model of {record.name} (.pt)",
            lambda: _checkpoint_bytes(record),
            file_name=f"mnist-mlp-{record.name.lower().replace(' ', '-')}.pt",
            mime="application/octet-stream",
            help="Weights and settings; opens with the Draw page or `python -m playground predict`",
            on_click="ignore",  # as above
        )


def _checkpoint_bytes(record: RunRecord) -> bytes:
    meta = {
        "test_accuracy": record.final_accuracy or 0.0,
        "name": record.name,
        "stopped": record.stopped_early,
    }
    return checkpoint.to_bytes(record.model, record.config, meta)
