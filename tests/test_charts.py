"""The live training chart: what it plots, from real engine events."""

import plotly.graph_objects as go
import pytest

from playground.core.engine import EpochEvent, StepEvent
from playground.figures.training import MAX_POINTS, smooth, training_figure


def steps(n, per_epoch=100):
    return [
        StepEvent(
            epoch=1 + i // per_epoch,
            step=i % per_epoch + 1,
            global_step=i + 1,
            steps_per_epoch=per_epoch,
            total_steps=3 * per_epoch,
            loss=2.0 / (i + 1),
            lr=1e-3,
            samples_per_s=1e4,
            elapsed=0.01 * i,
        )
        for i in range(n)
    ]


def epochs(n):
    return [
        EpochEvent(
            epoch=e,
            epochs=3,
            train_loss=0.3,
            test_loss=0.2 / e,
            test_accuracy=0.9 + 0.02 * e,
            samples_per_s=1e4,
            epoch_seconds=1.0,
            elapsed=float(e),
        )
        for e in range(1, n + 1)
    ]


def test_smoothing_is_debiased():
    assert smooth([1.0, 1.0, 1.0]) == [1.0, 1.0, 1.0]  # no drag towards zero at the start
    assert smooth([0.0, 10.0])[1] == pytest.approx(10.0 * 0.1 / (1 - 0.9**2))


def test_a_run_in_progress_is_a_valid_plotly_figure():
    figure = training_figure(steps(250), epochs(2), total_epochs=3, zoom_key=7)
    go.Figure(figure)  # plotly's own validation: raises on anything plotly.js would not take
    raw, smoothed, test_loss, accuracy = figure["data"]
    assert [t["name"] for t in figure["data"]] == [
        "train loss",
        "train loss (smoothed)",
        "test loss",
        "test accuracy (%)",
    ]
    assert raw["x"][-1] == 2.5 and raw["y"][-1] == 2.0 / 250  # x in epochs; the newest step is drawn
    assert len(smoothed["y"]) == len(raw["y"])
    assert test_loss["x"] == [1, 2] and accuracy["y"] == [92.0, 94.0] and accuracy["yaxis"] == "y2"
    assert figure["layout"]["xaxis"]["range"] == [0, 3] and figure["layout"]["uirevision"] == "7"


def test_long_runs_are_thinned_but_keep_their_last_point():
    figure = training_figure(steps(3000, per_epoch=1000), [], total_epochs=3)
    raw = figure["data"][0]
    assert len(raw["x"]) <= MAX_POINTS + 1 and raw["x"][-1] == 3.0 and raw["y"][-1] == 2.0 / 3000


def test_before_a_run_the_chart_is_empty():
    figure = training_figure([], [], total_epochs=15)
    go.Figure(figure)
    assert figure["data"] == [] and figure["layout"]["xaxis"]["range"] == [0, 15]
