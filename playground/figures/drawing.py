"""Figures of the Draw page: the class probabilities, each hidden layer's response, the test
digits' map, and a number's drawing cut into its digits."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont

from playground.digits.adversarial import SURE
from playground.digits.digit_map import DigitMap
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


LABEL_PX = 18  # the digit written beside its box in a cut drawing
DIGIT_COLOURS = [  # one per digit, told apart in colour and, on the map, by the digit itself
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def digit_map_figure(digit_map: DigitMap, title: str) -> go.Figure:
    """The test digits as dots on a plane, each digit's group labelled at its middle, and the
    drawing as a star. The plane's axes have no units worth reading: they are hidden."""
    figure = go.Figure()
    xy, labels = digit_map.xy.round(3), digit_map.labels
    for digit in range(10):
        group = xy[labels == digit]
        figure.add_scatter(
            x=group[:, 0],
            y=group[:, 1],
            mode="markers",
            marker=dict(size=4, color=DIGIT_COLOURS[digit], opacity=0.6),
            name=str(digit),
            hovertemplate=f"a test {digit}<extra></extra>",
        )
    for digit, (x, y) in _label_places(xy, labels).items():
        figure.add_annotation(
            x=x,
            y=y,
            text=f"<b>{digit}</b>",
            showarrow=False,
            font=dict(size=18, color=DIGIT_COLOURS[digit]),
            bgcolor="rgba(255,255,255,0.7)",
        )
    figure.add_scatter(
        x=[digit_map.drawing[0]],
        y=[digit_map.drawing[1]],
        mode="markers",
        marker=dict(symbol="star", size=20, color="#111", line=dict(color="white", width=1.5)),
        name="your drawing",
        hovertemplate="your drawing<extra></extra>",
    )
    figure.update_layout(
        height=340,
        margin=dict(l=10, r=10, b=10),
        showlegend=False,
        xaxis=dict(visible=False),
        yaxis=dict(visible=False, scaleanchor="x"),
    )
    return keep_toolbar_clear(figure, title)


def _label_places(xy: np.ndarray, labels: np.ndarray) -> dict[int, tuple[float, float]]:
    """Each digit's label at its group's median, moved down where it would cover an earlier
    label (two groups can share a middle on the plane, as 7s and 9s often do)."""
    gap = 0.06 * float(np.ptp(xy[:, 1])) if len(xy) else 0.0
    places: dict[int, tuple[float, float]] = {}
    for digit in np.unique(labels).tolist():
        x, y = np.median(xy[labels == digit], axis=0).tolist()
        while any(abs(x - px) < gap and abs(y - py) < gap for px, py in places.values()):
            y -= gap
        places[digit] = (x, y)
    return places


def cut_picture(
    ink: np.ndarray,
    boxes: list[tuple[int, int, int, int]],
    digits: list[int],
    touched: list[bool] | None = None,
) -> np.ndarray:
    """A drawing (white ink on black) with a box around each digit it was cut into, in the
    digit's colour, and the digit read there in a band above the drawing. The boxes of digits
    cut from a neighbour they touched are dashed."""
    band = LABEL_PX + 6
    picture = Image.new("RGB", (ink.shape[1], ink.shape[0] + band))
    picture.paste(Image.fromarray((np.clip(ink, 0, 1) * 255).astype(np.uint8)), (0, band))
    pen = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=LABEL_PX)
    for (top, left, bottom, right), digit, dashed in zip(
        boxes, digits, touched or [False] * len(boxes), strict=True
    ):
        colour = DIGIT_COLOURS[digit]
        corners = (left - 2, band + top - 2, right + 1, band + bottom + 1)
        if dashed:
            _dashed_rectangle(pen, corners, colour)
        else:
            pen.rectangle(corners, outline=colour, width=2)
        pen.text(((left + right) / 2, band / 2), str(digit), fill=colour, font=font, anchor="mm")
    return np.asarray(picture)


DASH, GAP = 6, 4  # px of a dashed box's strokes and the spaces between them


def _dashed_rectangle(pen: ImageDraw.ImageDraw, corners: tuple[int, int, int, int], colour: str) -> None:
    x0, y0, x1, y1 = corners
    for start in range(x0, x1 + 1, DASH + GAP):
        end = min(start + DASH - 1, x1)
        pen.rectangle((start, y0, end, y0 + 1), fill=colour)
        pen.rectangle((start, y1 - 1, end, y1), fill=colour)
    for start in range(y0, y1 + 1, DASH + GAP):
        end = min(start + DASH - 1, y1)
        pen.rectangle((x0, start, x0 + 1, end), fill=colour)
        pen.rectangle((x1 - 1, start, x1, end), fill=colour)


def mind_change_figure(path: np.ndarray, answer: int, target: int) -> go.Figure:
    """(steps + 1, 10) probabilities along Change its mind's steps: the digit it read falling,
    the digit asked for rising, and the line at one half where the steps stop."""
    steps = np.arange(len(path))
    figure = go.Figure(
        [
            go.Scatter(
                x=steps,
                y=path[:, digit],
                name=f"{digit} ({role})",
                mode="lines+markers" if len(path) <= 40 else "lines",
                line=dict(color=colour, width=3),
                hovertemplate=f"step %{{x}}: {digit} at %{{y:.1%}}<extra></extra>",
            )
            for digit, role, colour in ((answer, "it read", "#9aa5b1"), (target, "asked for", "#ff4b4b"))
        ]
    )
    figure.add_hline(
        y=SURE,
        line=dict(dash="dot", color="#888"),
        annotation_text="half sure: stop",
        annotation_position="top left",  # the curves cross at the right end
    )
    figure.update_layout(
        height=260 + TITLE_PX,
        margin=dict(l=10, r=10, b=10),
        legend=dict(orientation="h", y=-0.3),
        xaxis=dict(title="step", rangemode="tozero"),
        yaxis=dict(title="probability", range=[0, 1.05], tickformat=".0%"),
    )
    return keep_toolbar_clear(figure, f"Step by step: {answer} falls, {target} rises")
