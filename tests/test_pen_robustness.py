"""The pen-drawn robustness set (digits/pen.py): skeletons redrawn with one round pen, measured."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from playground.digits import pen, robustness
from tests.fakemnist import render_digit
from tests.harness import ROOT


def test_thinning_leaves_one_pixel_wide_centre_lines():
    bar = np.zeros((40, 40), bool)
    bar[5:35, 15:22] = True  # 7 px wide, 30 tall
    line = pen.thin(bar)
    rows = np.flatnonzero(line.any(axis=1))
    assert line.sum(axis=1)[rows].max() == 1  # one pixel per row
    assert rows.min() <= 9 and rows.max() >= 30  # still nearly as long
    assert set(np.flatnonzero(line.any(axis=0))) <= {17, 18, 19}  # in the middle


def test_a_stroke_has_the_pens_width_and_the_drawing_its_height():
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255  # a "1": one vertical stroke
    lines = pen.skeleton(digit)
    for width, height in ((10, 120), (32, 200)):
        ink = pen.draw(lines, width, height, top=30, left=40)
        rows, cols = np.flatnonzero(ink.max(axis=1) > 0.5), np.flatnonzero(ink.max(axis=0) > 0.5)
        assert abs((rows[-1] - rows[0] + 1) - height) <= 3
        assert abs(ink[30 + height // 2].sum() - width) <= 1.5  # ink across the stroke: the pen
        assert abs(rows[0] - 30) <= 2 and cols[0] >= 40


def test_random_drawings_fit_the_canvas_and_are_never_blobs():
    rng = np.random.default_rng(0)
    for i in range(30):
        width = pen.PEN_WIDTHS[i % len(pen.PEN_WIDTHS)]
        drawn = pen.random_drawing(render_digit(i % 10, rng), rng, width)
        ink, height = drawn.ink, drawn.height
        assert ink.shape == (pen.CANVAS, pen.CANVAS) and ink.max() > 0.99
        assert max(pen.HEIGHTS[0], pen.MIN_HEIGHT_PER_PEN * width) - 1e-6 <= height <= pen.HEIGHTS[1]
        assert ink[0].max() == 0 or ink[-1].max() == 0  # placed inside, not cut off both ends


def test_pen_report_covers_every_width_height_and_background(fake_mnist_dir):
    from playground.core.checkpoint import load
    from playground.digits.predict import DEFAULT_MODEL_PATH

    rng = np.random.default_rng(1)
    labels = np.arange(60) % 10
    images = np.stack([render_digit(int(d), rng) for d in labels])
    report = robustness.measure_pen(load(DEFAULT_MODEL_PATH)[0], images, labels)
    assert report.digits == 60 and 0 <= report.accuracy <= 1
    assert list(report.by_pen) == [f"{w} px" for w in pen.PEN_WIDTHS]
    assert set(report.by_kind) == set(robustness.PEN_KINDS)
    assert not any(np.isnan(v) for v in report.by_pen.values())
    assert report.accuracy == pytest.approx(np.mean(list(report.by_pen.values())))  # equal shares


def test_command_line_reports_every_set(fake_mnist_dir):
    result = subprocess.run(
        [sys.executable, "-m", "playground.digits.robustness", "--data-dir", str(fake_mnist_dir)]
        + ["--limit", "30", "--set", "all", "--number-pens", "20", "24", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["redrawn"]["digits"] == 30 and report["pen"]["digits"] == 30
    assert set(report["pen"]["by_height"]) == {name for _, _, name in robustness.HEIGHT_BINS}
    numbers = report["numbers"]
    assert numbers["digits"] == 30 and 7 <= numbers["numbers"] <= 15  # two to four digits each
    assert 0 <= numbers["digit_accuracy"] <= 1 and numbers["cut_right"] > 0.5
    assert 0 <= numbers["evened_digit_accuracy"] <= 1
    assert numbers["pens"] == report["touching"]["pens"] == [20, 24]
    assert 0 <= numbers["evened_all_right"] <= numbers["evened_cut_right"] <= 1  # all right: cut right too
    touching = report["touching"]
    assert touching["touching"] and not numbers["touching"] and touching["digits"] == 30
    assert all(0 <= r["too_few"] <= 1 - r["cut_right"] + 1e-9 for r in (numbers, touching))


def test_the_touching_set_writes_each_digit_into_the_next():
    rng = np.random.default_rng(0)
    blocks = [np.ones((50, 30), np.float32), np.ones((60, 20), np.float32), np.ones((40, 25), np.float32)]
    for _ in range(20):
        canvas, places = robustness._written_side_by_side(blocks, rng, touching=True)
        columns = np.flatnonzero(canvas.any(axis=0))
        # One unbroken run of ink, each block overlapping the next by TOUCHING_PX columns.
        assert len(columns) == columns[-1] - columns[0] + 1 == 30 + 20 + 25 - 2 * robustness.TOUCHING_PX
        assert [int(x) for x, _ in places] == [columns[0], columns[0] + 27, columns[0] + 44]
        apart = robustness._written_side_by_side(blocks, rng)[0]
        assert np.count_nonzero(apart.any(axis=0)) == 75  # at random gaps: every column its own


def test_the_pen_ceiling_script_fine_tunes_and_pictures_the_errors(fake_mnist_dir, tmp_path):
    picture = tmp_path / "errors.png"
    args = ["--data-dir", str(fake_mnist_dir), "--train-digits", "40", "--limit", "20", "--epochs", "1"]
    args += ["--workers", "2", "--errors", str(picture), "--json"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pen_ceiling.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    for when in ("before", "after"):
        assert set(result[when]["pen_test_by_width"]) == {f"{w} px" for w in pen.PEN_WIDTHS}
        assert 0 <= result[when]["pen_test"] <= 1 and 0 <= result[when]["pen_train_fit"] <= 1
    # One cell per error, 8 a row (an empty row when there is none).
    with Image.open(picture) as sheet:
        assert sheet.height == max(1, -(-result["errors_drawn"] // 8)) * (72 + 14)
