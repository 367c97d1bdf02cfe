"""Plotly figures of the Draw page: the class probabilities and each hidden layer's response."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from playground.digits.predict import Prediction
from playground.figures.toolbar import TITLE_PX, TOOLBAR_PX, keep_toolbar_clear


def probability_figure(prediction: Prediction) -> go.Figure:
    """The 10 class probabilities as bars, the top digit highlighted."""
    probabilities = prediction.probabilities
    colours = ["#ff4b4b" if d == prediction.digit else "#9aa5b1" for d in range(10)]
    figure = go.Figure(
        go.Bar(
            x=[str(d) for d in range(10)],
            y=probabilities,
            marker_color=colours,
            text=[f"{p:.0%}" if p >= 0.01 else "" for p in probabilities],
            textposition="outside",
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    figure.update_layout(
        height=320,
        margin=dict(l=10, r=10, b=10),
        showlegend=False,
        xaxis=dict(title="digit", type="category"),
        yaxis=dict(title="probability", range=[0, 1.12]),
    )
    return keep_toolbar_clear(figure, f"Probabilities: {prediction.digit} at {prediction.confidence:.1%}")


def activation_figure(layer: np.ndarray, index: int) -> go.Figure:
    """One hidden layer's (units,) outputs as a heatmap, units laid out row by row."""
    columns = int(np.ceil(np.sqrt(layer.size * 2)))  # about twice as wide as tall
    rows = int(np.ceil(layer.size / columns))
    grid = np.full(rows * columns, np.nan)  # padding cells stay blank
    grid[: layer.size] = layer
    units = np.arange(rows * columns).reshape(rows, columns)
    figure = go.Figure(
        go.Heatmap(
            z=grid.reshape(rows, columns),
            customdata=units,
            colorscale="Viridis",
            zmin=min(0.0, float(layer.min())),
            hoverongaps=False,
            hovertemplate="unit %{customdata}: %{z:.3f}<extra></extra>",
        )
    )
    active = int((layer > 0).sum())
    figure.update_layout(
        height=50 + TOOLBAR_PX + TITLE_PX + 14 * rows,
        margin=dict(l=10, r=10, b=10),
        xaxis=dict(visible=False),
        yaxis=dict(visible=False, autorange="reversed"),
    )
    return keep_toolbar_clear(figure, f"Hidden layer {index}: {active} of {layer.size} units active")
