"""Plotly figures of the teaching pages: matrix-product timings, autograd examples."""

from __future__ import annotations

import plotly.graph_objects as go

from playground.figures.toolbar import keep_toolbar_clear
from playground.lessons import autograd, gpu_ops

COLORS = {"cpu": "#2c6cee", "cuda": "#76b900"}


def timing_figure(timings: list[gpu_ops.Timing]) -> go.Figure:
    """Milliseconds per product against n, one line per device, log-log."""
    fig = go.Figure()
    for device in dict.fromkeys(t.device for t in timings):
        ts = [t for t in timings if t.device == device]
        fig.add_scatter(
            x=[t.n for t in ts],
            y=[t.seconds * 1e3 for t in ts],
            name=device.upper(),
            mode="lines+markers",
            line=dict(color=COLORS.get(device)),
            customdata=[round(t.gflops, 1) for t in ts],
            hovertemplate="n=%{x}: %{y:.3g} ms (%{customdata} GFLOP/s)<extra></extra>",
        )
    fig.update_layout(
        height=420,
        xaxis=dict(title="n", type="log", tickvals=sorted({t.n for t in timings})),
        yaxis=dict(title="milliseconds", type="log", dtick=1),  # one label per decade
        margin=dict(l=10, r=10, b=10),
    )
    return keep_toolbar_clear(fig, "One n×n float32 matrix product (best of repeats)")


def example_figure(r: autograd.ExampleResult, name: str, reduction: str) -> go.Figure:
    """f(x), autograd's gradient and the hand-derived one on one chart."""
    fig = go.Figure()
    fig.add_scatter(x=r.x, y=r.y, name="f(x)", line=dict(color="#ee4c2c", width=2))
    fig.add_scatter(
        x=r.x, y=r.grad, name="x.grad (autograd)", mode="markers", marker=dict(color="#2c6cee", size=7)
    )
    fig.add_scatter(x=r.x, y=r.analytic, name="by hand", line=dict(color="#222", dash="dot"))
    fig.update_layout(
        xaxis_title="x",
        height=420,
        margin=dict(l=10, r=10, b=10),
        legend=dict(orientation="h", y=-0.15),
    )
    return keep_toolbar_clear(fig, f"{name}, reduced with {reduction}")
