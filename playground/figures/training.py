"""Plotly figures built from plain training data (events, tensors). No Streamlit here."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import torch

from playground.core.engine import EpochEvent, StepEvent
from playground.figures.toolbar import UNUSED_BUTTONS, keep_toolbar_clear

LOSS_COLOUR, SMOOTH_COLOUR, TEST_COLOUR, ACC_COLOUR = "#9ecae1", "#EE4C2C", "#3182bd", "#31a354"
MAX_POINTS = 300  # enough for a smooth curve; keeps each redraw cheap while training runs
TOP_AXIS_PX = 62  # the confusion matrix's digits and "predicted digit" above it (measured: 58 px)


def smooth(values: Sequence[float], weight: float = 0.9) -> list[float]:
    """Exponential moving average with TensorBoard's debiasing (the first points are not
    dragged towards zero)."""
    out, average = [], 0.0
    for i, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight**i))
    return out


def _thin(xs: list[float], ys: list[float], limit: int = MAX_POINTS) -> tuple[list[float], list[float]]:
    step = max(1, len(xs) // limit)
    if step == 1:
        return xs, ys
    return xs[::step] + [xs[-1]], ys[::step] + [ys[-1]]


def training_figure(
    steps: Sequence[StepEvent],
    epochs: Sequence[EpochEvent],
    total_epochs: int | None = None,
    zoom_key: object = "keep-zoom",
) -> dict:
    """Training loss per logged step (raw and smoothed) and, per epoch, test loss and test
    accuracy (second axis). x is in epochs, so runs with different batch sizes line up.
    Redraws with the same `zoom_key` keep the user's zoom (Plotly's uirevision).

    A Plotly figure as a plain dict ({"data": [...], "layout": {...}}, what plotly.js takes), not
    a go.Figure: it is rebuilt twice a second while a run trains, and a go.Figure (with its
    validation and JSON encoding) cost the server about 5 ms of that each time."""
    traces = []
    if steps:
        xs = [s.global_step / s.steps_per_epoch for s in steps]
        losses = [s.loss for s in steps]
        raw_x, raw_y = _thin(xs, losses)
        smooth_x, smooth_y = _thin(xs, smooth(losses))
        traces.append(
            dict(type="scatter", x=raw_x, y=raw_y, name="train loss", line=dict(color=LOSS_COLOUR, width=1))
        )
        traces.append(
            dict(
                type="scatter",
                x=smooth_x,
                y=smooth_y,
                name="train loss (smoothed)",
                line=dict(color=SMOOTH_COLOUR, width=2.5),
            )
        )
    if epochs:
        ex = [e.epoch for e in epochs]
        traces.append(
            dict(
                type="scatter",
                x=ex,
                y=[e.test_loss for e in epochs],
                name="test loss",
                mode="lines+markers",
                line=dict(color=TEST_COLOUR, width=2),
            )
        )
        traces.append(
            dict(
                type="scatter",
                x=ex,
                y=[100 * e.test_accuracy for e in epochs],
                name="test accuracy (%)",
                mode="lines+markers",
                yaxis="y2",
                line=dict(color=ACC_COLOUR, width=2, dash="dot"),
            )
        )
    layout = dict(
        height=380,
        margin=dict(l=60, r=70, t=40, b=50),
        uirevision=str(zoom_key),
        modebar=dict(remove=UNUSED_BUTTONS),
        # Below the plot, as in the comparison: above it, the four names wrap to four rows on a
        # phone and hang down over the curve's start, under the chart's toolbar.
        legend=dict(orientation="h", yanchor="top", y=-0.3, x=0),
        xaxis=dict(
            title=dict(text="epoch"), range=[0, total_epochs] if total_epochs else None, automargin=False
        ),
        yaxis=dict(title=dict(text="loss"), rangemode="tozero", automargin=False),
        yaxis2=dict(
            title=dict(text="test accuracy (%)"),
            overlaying="y",
            side="right",
            showgrid=False,
            tickformat=".1f",
            automargin=False,
        ),
    )
    return {"data": traces, "layout": layout}


def confusion_figure(confusion: torch.Tensor) -> go.Figure:
    """(10, 10) counts, rows = true digit, columns = predicted digit."""
    counts = confusion.tolist()
    digits = [str(d) for d in range(10)]
    figure = go.Figure(
        go.Heatmap(
            z=counts,
            x=digits,
            y=digits,
            text=counts,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    figure.update_xaxes(title_text="predicted digit", side="top", tickmode="array", tickvals=digits)
    figure.update_yaxes(title_text="true digit", autorange="reversed", tickmode="array", tickvals=digits)
    figure.update_layout(height=466, margin=dict(l=10, r=10, b=10))
    return keep_toolbar_clear(figure, above_plot=TOP_AXIS_PX)


def run_label(name: str, precision: str, seconds_per_epoch: float | None) -> str:
    """A run's name in the overlay's legend, with what sets runs of one network apart: its
    precision and its speed ('Run 2 · bf16 · 1.23 s/epoch')."""
    speed = f" · {seconds_per_epoch:.2f} s/epoch" if seconds_per_epoch else ""
    return f"{name} · {precision}{speed}"


def comparison_figures(
    runs: Sequence[tuple[str, Sequence[StepEvent], Sequence[EpochEvent]]],
) -> tuple[go.Figure, go.Figure]:
    """Several runs overlaid: smoothed training loss, and test accuracy per epoch. Two figures,
    not two subplots of one, so that the page can put them side by side on a wide screen and one
    under the other on a phone (where side by side, their titles ran into each other)."""
    loss, accuracy = go.Figure(), go.Figure()
    for i, (name, steps, epochs) in enumerate(runs):
        colour = _PALETTE[i % len(_PALETTE)]
        if steps:
            xs, ys = _thin(
                [s.global_step / s.steps_per_epoch for s in steps], smooth([s.loss for s in steps])
            )
            loss.add_scatter(x=xs, y=ys, name=name, line=dict(color=colour))
        if epochs:
            accuracy.add_scatter(
                x=[e.epoch for e in epochs],
                y=[100 * e.test_accuracy for e in epochs],
                name=name,
                mode="lines+markers",
                line=dict(color=colour),
            )
    return (
        _comparison_layout(loss, "training loss (smoothed)", len(runs)),
        _comparison_layout(accuracy, "test accuracy (%)", len(runs)),
    )


def _comparison_layout(figure: go.Figure, title: str, runs: int) -> go.Figure:
    # Each figure has its legend below the plot, one run a line: its names carry precision and
    # speed, a legend at the side took half a phone's width, and on a phone the two figures are
    # far apart.
    figure.update_xaxes(title_text="epoch")
    figure.update_layout(
        height=360 + 22 * runs,
        margin=dict(l=10, r=10, b=10),
        showlegend=True,
        legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
    )
    return keep_toolbar_clear(figure, title)


_PALETTE = ["#EE4C2C", "#3182bd", "#31a354", "#756bb1", "#fd8d3c", "#636363", "#e7298a", "#66a61e"]
