"""The canvas's strokes redrawn with an even pen: read as the browser sends them, bounded, and
a pen in proportion to the digit."""

import time

import numpy as np
import pytest
from PIL import Image, ImageDraw

from playground.digits import predict, strokes
from tests.drawings import canvas_objects, small_eight

# One stroke and one click as Chromium's canvas sent them (2026-12-02, fabric.js 7.4.0, at a
# screen pixel ratio of 2): a mouse dragged from (100, 50) by (4, 8) px steps, then a click.
CHROMIUM_STROKE = {
    "type": "Path",
    "version": "7.4.0",
    "originX": "center",
    "originY": "center",
    "left": 138,
    "top": 126,
    "strokeWidth": 18,
    "strokeLineCap": "round",
    "path": [["M", 99.982, 49.982]]
    + [["Q", 100 + 4 * i, 50 + 8 * i, 102 + 4 * i, 54 + 8 * i] for i in range(18)]
    + [["L", 176.018, 202.018]],
}
CHROMIUM_CLICK = {"type": "Path", "strokeWidth": 18, "path": [["M", 29.982, 30], ["L", 30.018, 30]]}


def test_the_canvas_strokes_are_read_point_by_point_in_the_pens_order():
    line, click = strokes.from_canvas([CHROMIUM_STROKE, CHROMIUM_CLICK], 280, 280)
    assert line.shape == (1 + 2 * 18 + 1, 2)
    np.testing.assert_allclose(line[0], (99.982, 49.982))
    np.testing.assert_allclose(line[-1], (176.018, 202.018))
    assert np.all(np.diff(line[:, 1]) > 0)  # the mouse went down all the way
    np.testing.assert_allclose(click, [(29.982, 30), (30.018, 30)])


def test_a_redrawn_stroke_is_the_polyline_drawn_with_a_round_pen():
    pointer = np.array([(60.0, 40.0), (120.0, 90.0), (150.0, 200.0), (90.0, 230.0)])
    read = strokes.from_canvas(canvas_objects([pointer], 18), 280, 280)
    ours = strokes.redraw(read, 280, 280, pen=12)
    # The same polyline drawn by PIL alone: its own joints, discs at the two ends only.
    picture = Image.new("L", (280 * 4, 280 * 4))
    pencil = ImageDraw.Draw(picture)
    pencil.line([tuple(p * 4) for p in pointer], fill=255, width=48, joint="curve")
    for x, y in pointer[[0, -1]] * 4:
        pencil.ellipse((x - 24, y - 24, x + 24, y + 24), fill=255)
    theirs = np.asarray(picture.resize((280, 280), Image.Resampling.BOX), np.float32) / 255
    assert np.abs(ours - theirs).mean() < 0.002 and np.abs(ours - theirs).max() < 0.5
    # Across the stroke's straight middle, as much ink as the pen is wide (≈ 12 px).
    row = ours[65]  # y = 65, halfway along the first segment, which rises 50 px over 60
    assert abs(row.sum() - 12 / np.sin(np.arctan2(50, 60))) < 1.0  # a row crosses it aslant


def test_the_even_pen_grows_with_the_digit_not_with_the_visitors_pen():
    for height in (60, 120, 240):
        lines = small_eight(height, centre=(140, 140))
        assert strokes.even_width(lines) == pytest.approx(strokes.EVEN_PEN * height, rel=0.02)
    assert strokes.even_width([np.array([(10.0, 10.0), (10.5, 10.0)])]) == strokes.MIN_PEN  # a dot


def test_a_thick_pen_that_fills_a_small_eights_loops_is_read_once_the_pen_is_evened():
    model = predict.load_default()[0]
    eight = small_eight(50)
    as_drawn = strokes.redraw(eight, 280, 280, pen=36)  # the pad's thickest pen: a blob
    evened = strokes.redraw(strokes.from_canvas(canvas_objects(eight, 36), 280, 280), 280, 280)
    assert predict.classify(model, as_drawn).prediction.digit != 8
    assert predict.classify(model, evened).prediction.digit == 8
    # The loops are open again: the middle of the lower loop (x 100, y 112.5) has no ink.
    assert as_drawn[112, 100] > 0.9 and evened[112, 100] == 0


def test_points_off_the_canvas_are_put_on_its_edge():
    far = {"type": "Path", "path": [["M", 100, 100], ["L", 1e300, -1e300]]}
    (line,) = strokes.from_canvas([far], 280, 280)
    np.testing.assert_allclose(line, [(100, 100), (280, 0)])
    assert strokes.even_width([line]) <= strokes.EVEN_PEN * 280


@pytest.mark.parametrize(
    "objects, why",
    [
        (None, "no strokes"),
        ([], "no strokes"),
        ({"path": []}, "no strokes"),
        ([{"type": "Path"}], "not a pen's path"),
        ([{"type": "Path", "path": "M 0 0 L 1 1"}], "not a pen's path"),
        (["M 0 0"], "not a pen's path"),
        ([{"path": [["Z"]]}], "does not know"),
        ([{"path": [["M", 1, 2], "L"]}], "does not know"),
        ([{"path": [["M", 1]]}], "not two numbers"),
        ([{"path": [["M", 1, 2, 3]]}], "not two numbers"),
        ([{"path": [["M", 1, float("nan")]]}], "not two numbers"),
        ([{"path": [["M", 1, float("inf")]]}], "not two numbers"),
        ([{"path": [["M", "1", 2]]}], "not two numbers"),
        ([{"path": [["M", True, 2]]}], "not two numbers"),
        ([{"path": [["M", [1], 2]]}], "not two numbers"),
        ([{"path": [["M", 1, 2]]}] * (strokes.MAX_STROKES + 1), "more than"),
        ([{"path": [["L", 1, 2]] * (strokes.MAX_COMMANDS + 1)}], "more than"),
    ],
)
def test_strokes_that_are_not_a_pens_are_refused_with_why(objects, why):
    with pytest.raises(strokes.StrokesError, match=why):
        strokes.from_canvas(objects, 280, 280)


def test_the_largest_drawing_allowed_is_redrawn_in_about_a_second_at_most():
    rng = np.random.default_rng(0)
    per_stroke = strokes.MAX_COMMANDS // strokes.MAX_STROKES
    # Curves zigzagging across the whole canvas (the widest even pen), three points a command.
    objects = [
        {"path": [["M", 0, 0]] + [["C", *rng.uniform(0, 280, 6)] for _ in range(per_stroke - 1)]}
        for _ in range(strokes.MAX_STROKES)
    ]
    start = time.process_time()
    lines = strokes.from_canvas(objects, 280, 280)
    ink = strokes.redraw(lines, 280, 280)
    seconds = time.process_time() - start
    assert sum(map(len, lines)) > 2.5 * strokes.MAX_COMMANDS and ink.mean() > 0.9
    assert seconds < 3.0, f"{seconds:.2f} s of CPU"


def test_strokes_moved_onto_a_smaller_pad_fit_it_pens_and_all_and_keep_their_shape():
    one = np.stack([np.full(20, 60.0), np.linspace(30, 250, 20)], axis=1)  # 220 px tall
    lines = [one, *small_eight(200, centre=(180, 140))]
    moved = strokes.moved(canvas_objects(lines, 18), (280, 280), (320, 150), margin=12)
    back = strokes.from_canvas(moved, 320, 150)
    pen = moved[0]["strokeWidth"]
    scale = pen / 18
    assert 0.4 < scale < 0.6 and all(item["strokeWidth"] == pen for item in moved)
    points = np.concatenate(back)
    # As tall as the pad allows within its margins, pen included, and centred across it.
    assert points[:, 1].min() - pen / 2 == pytest.approx(12)
    assert points[:, 1].max() + pen / 2 == pytest.approx(138)
    assert (points[:, 0].min() + points[:, 0].max()) / 2 == pytest.approx(160)
    read = strokes.from_canvas(canvas_objects(lines, 18), 280, 280)
    for before, after in zip(read, back, strict=True):  # the same strokes, only shrunk
        np.testing.assert_allclose(after - after[0], (before - before[0]) * scale, atol=1e-9)
    # The canvas places a path by its left and top (Chromium's: the centre of its points' box).
    (placed,) = strokes.moved([CHROMIUM_STROKE], (280, 280), (320, 150))
    (line,) = strokes.from_canvas([placed], 320, 150)
    centre = (line.min(axis=0) + line.max(axis=0)) / 2
    assert (placed["left"], placed["top"]) == pytest.approx(tuple(centre), abs=0.01)


def test_strokes_that_fit_the_other_pad_are_moved_not_enlarged_and_bad_ones_refused():
    small = small_eight(60, centre=(40, 40))
    (moved,) = strokes.moved(canvas_objects(small, 12), (280, 280), (320, 150))
    (line,) = strokes.from_canvas([moved], 320, 150)
    assert moved["strokeWidth"] == 12
    (read,) = strokes.from_canvas(canvas_objects(small, 12), 280, 280)
    np.testing.assert_allclose(line - line[0], read - read[0], atol=1e-9)
    np.testing.assert_allclose((line.min(axis=0) + line.max(axis=0)) / 2, (160, 75), atol=1e-9)
    with pytest.raises(strokes.StrokesError, match="not a pen"):
        strokes.moved([{"path": "M 1 2"}], (280, 280), (320, 150))


def test_a_drawing_put_on_a_canvas_is_drawn_with_each_strokes_own_pen():
    thin = np.array([(40.0, 40.0), (40.0, 240.0)])
    thick = np.array([(160.0, 40.0), (160.0, 240.0)])
    objects = canvas_objects([thin], 10) + canvas_objects([thick], 30)
    ink = strokes.drawn(objects, 280, 280)
    row = ink[140]
    assert row[:100].sum() == pytest.approx(10, abs=0.5) and row[100:].sum() == pytest.approx(30, abs=0.5)
    np.testing.assert_allclose(
        ink, np.maximum(strokes.redraw([thin], 280, 280, 10), strokes.redraw([thick], 280, 280, 30))
    )


def test_the_largest_drawing_allowed_with_a_pen_per_stroke_is_drawn_in_about_a_second_at_most():
    """`drawn` redraws once per pen: a browser's state can name any pen for each stroke."""
    rng = np.random.default_rng(0)
    per_stroke = strokes.MAX_COMMANDS // strokes.MAX_STROKES
    objects = [
        {
            "strokeWidth": 1 + i,
            "path": [["M", 0, 0]] + [["C", *rng.uniform(0, 280, 6)] for _ in range(per_stroke - 1)],
        }
        for i in range(strokes.MAX_STROKES)
    ]
    start = time.process_time()
    ink = strokes.drawn(objects, 280, 280)
    seconds = time.process_time() - start
    assert ink.mean() > 0.9
    assert seconds < 3.0, f"{seconds:.2f} s of CPU"
