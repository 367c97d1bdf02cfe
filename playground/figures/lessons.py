"""Plotly figures of the teaching pages: matrix-product timings, autograd examples, a training
step's gradient by layer."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from playground.figures.toolbar import keep_toolbar_clear
from playground.lessons import autograd, backprop, gpu_ops

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


def layer_gradient_figure(layers: list[backprop.LayerGradient]) -> go.Figure:
    """Each weight matrix's typical weight and typical gradient (root mean squares), on one log
    axis: the gap between a layer's two bars is how far one step of plain gradient descent with a
    learning rate of 1 would move its weights, relatively."""
    names = [layer.name for layer in layers]
    fig = go.Figure()
    bars = (("weight_size", "weights", "#9aa5b1"), ("gradient_size", "gradient", "#ee4c2c"))
    for field, label, color in bars:
        values = [getattr(layer, field) for layer in layers]
        fig.add_bar(
            y=names,
            x=values,
            name=label,
            orientation="h",
            marker_color=color,
            text=[f"{v:.2g}" for v in values],
            textposition="outside",
            hovertemplate="%{y}: typical " + label + " %{x:.3g}<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        height=120 + 70 * len(layers),
        xaxis=dict(
            title="root mean square (log scale)",
            type="log",
            dtick=1,  # a decade a label
            tickformat="~g",
            range=_log_range(layers),  # with room on the right for the largest bar's number
        ),
        yaxis=dict(autorange="reversed"),  # input side on top, as the network is drawn
        margin=dict(l=10, r=10, b=10),
        legend=dict(orientation="h", y=-0.25),
    )
    return keep_toolbar_clear(fig, "Weights and gradient by layer")


def _log_range(layers: list[backprop.LayerGradient]) -> list[float]:
    values = [v for layer in layers for v in (layer.weight_size, layer.gradient_size) if v > 0] or [1.0]
    return [math.floor(math.log10(min(values))), math.log10(max(values)) + 0.8]
