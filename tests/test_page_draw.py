"""The Draw page under AppTest: it renders with the canvas; a drawing put into the canvas's state
as the browser sends it (strokes, and the picture as a PNG data URL: AppTest cannot draw) runs
the preprocessing steps, the answer and the charts."""

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from playground.digits import strokes
from tests.drawings import (
    as_picture,
    canvas_objects,
    canvas_state,
    draw_digit,
    draw_number,
    small_eight,
    write,
)
from tests.harness import ROOT


def put_on_the_canvas(
    at: AppTest, picture: np.ndarray, pad: str = "draw", objects: list | None = None
) -> None:
    """Put `picture` (uint8, the pad's size) on the pad's canvas now shown, as if drawn there, with
    its strokes (`objects`) when given."""
    version = at.session_state.get(f"{pad}_canvas_version", 0)
    at.session_state[f"{pad}_canvas_{version}"] = canvas_state(picture, objects=objects)


def draw_strokes(at: AppTest, lines: list[np.ndarray], pen: float) -> None:
    """Strokes drawn on the one-digit pad with a `pen` px pen: their picture and their paths."""
    ink = strokes.redraw(lines, 280, 280, pen)
    put_on_the_canvas(at, as_picture(ink, "white-on-black"), objects=canvas_objects(lines, pen))


def on_the_pad(digit: int, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """`digit` drawn on the one-digit pad (280×280: the canvas sends a picture of its own size).
    The drawings' shapes are centred in a 400×300 field: 60 px right of the pad's centre and
    10 px below it."""
    return draw_digit(digit, size=(280, 280), offset=(offset[0] - 60, offset[1] - 10))


def test_page_renders_the_canvas_and_asks_for_a_drawing(draw_page):
    at = draw_page
    assert at.title[0].value.startswith("✏️ Draw a digit")
    assert "draw a digit first" in at.info[0].value.lower()
    assert not at.get("plotly_chart")
    assert any("default model shipped" in c.value for c in at.caption)  # before any training
    assert [b.label for b in at.button] == ["Undo stroke", "Clear"]
    assert at.button[0].disabled  # nothing to undo on an empty canvas


def test_a_drawing_gets_an_answer_steps_and_charts(draw_page):
    at = draw_page
    put_on_the_canvas(at, as_picture(on_the_pad(7, offset=(60, -20)), "transparent"))
    at.run()
    assert not at.exception
    assert at.metric[0].value == "7"
    assert not at.info  # one digit: no word about numbers
    charts = at.get("plotly_chart")
    # probabilities, the answer's and runner-up's saliency, its mind changed step by step, two
    # hidden layers, two digit maps
    assert len(charts) == 8
    maps = [json.loads(chart.proto.spec) for chart in charts[-2:]]
    assert [m["layout"]["title"]["text"] for m in maps] == ["As the network sees them", "As pixels"]
    assert all(m["data"][-1]["name"] == "your drawing" for m in maps)  # the star
    assert any("cannot show all of the layer's 252 units" in c.value for c in at.caption)  # the default model
    pictures = [[img.caption for img in image.proto.imgs] for image in at.get("image")]
    assert len(pictures) == 4  # the preprocessing steps in one list; its mind changed; the most alike
    assert [caption.split(" (")[0] for caption in pictures[0][:3]] == [
        "Your drawing",
        "Cropped to the ink",
        "Shrunk to fit 20×20",
    ]
    assert pictures[0][3].startswith("Centred by mass in 28×28")
    assert pictures[0][4] == "What it looks for in a 7"  # the model's own picture of its answer
    assert len(pictures[1]) == 4  # Change its mind: what it read, the change, changed, noise
    assert len(pictures[2]) == len(pictures[3]) == 6
    assert any("ms on the server" in c.value for c in at.caption)
    rows = [m.value for m in at.markdown if m.value.startswith(("**As the network", "**As pixels"))]
    assert len(rows) == 2 and all(": 7s among them, " in row for row in rows), rows


def test_without_mnist_the_most_alike_says_why_and_the_rest_answers(draw_page, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path))  # an operator's empty data folder
    at = draw_page
    put_on_the_canvas(at, as_picture(on_the_pad(7, offset=(60, -20)), "transparent"))
    at.run()
    assert not at.exception and at.metric[0].value == "7"
    assert any("test digits are not on this server" in c.value for c in at.caption)
    assert len(at.get("image")) == 2  # the preprocessing steps and Change its mind: no most alike
    assert list(tmp_path.iterdir()) == []  # nothing made there


def test_clear_empties_the_drawing(draw_page):
    at = draw_page
    put_on_the_canvas(at, as_picture(on_the_pad(1), "white-on-black"))
    at.run()
    assert at.metric[0].value == "1"
    next(b for b in at.button if b.label == "Clear").click().run()
    assert not at.metric and "draw a digit first" in at.info[0].value.lower()


def test_an_empty_canvas_predicts_nothing(draw_page):
    at = draw_page
    put_on_the_canvas(at, np.zeros((280, 280, 4), np.uint8))
    at.run()
    assert not at.exception and not at.metric


def test_the_latest_trained_run_answers_once_there_is_one(draw_page):
    from playground.core.config import RunConfig
    from playground.core.model import build_model
    from playground.hosting.messages import RunStatus
    from playground.hosting.runs import RunHistory, RunRecord

    at = draw_page
    config = RunConfig(hidden=(16,), dropout=(0.0,), epochs=1)
    history = RunHistory()
    for number in (1, 2):
        record = RunRecord(
            config, name=f"Run {number}", status=RunStatus.FINISHED, model=build_model(config).eval()
        )
        history.records.append(record)
    at.session_state["run_history"] = history
    put_on_the_canvas(at, as_picture(on_the_pad(0), "transparent"))
    at.run()
    assert not at.exception
    assert any("Run 2, trained in this session" in c.value for c in at.caption), [c.value for c in at.caption]
    assert at.selectbox[0].value == f"run:{history.records[1].id}"
    # answer, two saliency maps, its mind changed, its one hidden layer, two maps
    assert len(at.get("plotly_chart")) == 7

    at.selectbox[0].set_value("default").run()  # the shipped model
    assert any("default model shipped" in c.value for c in at.caption)
    # answer, two saliency maps, its mind changed, the two hidden layers, two maps
    assert len(at.get("plotly_chart")) == 8


def test_a_run_still_training_answers_with_its_latest_epoch_and_names_it(draw_page):
    from playground.core.config import RunConfig
    from playground.core.model import build_model
    from playground.hosting.messages import RunStatus
    from playground.hosting.runs import RunHistory, RunRecord

    at = draw_page
    config = RunConfig(hidden=(16,), dropout=(0.0,), epochs=5)
    record = RunRecord(config, name="Run 1", status=RunStatus.TRAINING)
    record.epoch_model = (3, build_model(config).eval())
    history = RunHistory()
    history.records.append(record)
    at.session_state["run_history"] = history
    put_on_the_canvas(at, as_picture(on_the_pad(0), "transparent"))
    at.run()
    assert not at.exception
    assert any("Run 1, still training: its weights after epoch 3 of 5" in c.value for c in at.caption)
    assert at.selectbox[0].value == f"run:{record.id}"
    assert at.selectbox[0].format_func(at.selectbox[0].value) == "Run 1 (training: epoch 3 of 5)"

    record.model, record.epoch_model = build_model(config).eval(), None  # the run ends…
    record.status = RunStatus.FINISHED
    at.run()
    assert at.selectbox[0].value == f"run:{record.id}"  # …and its final model answers, still chosen
    assert any("Run 1, trained in this session" in c.value for c in at.caption)


def test_digits_side_by_side_on_the_one_digit_pad_point_to_the_number_tab(draw_page):
    from playground.digits import number

    at = draw_page
    ink, _ = draw_number([1, 7], size=(280, 280), height=90)
    put_on_the_canvas(at, as_picture(ink, "transparent"))
    at.run()
    assert not at.exception and at.metric  # still read, as one digit …
    assert "looks like 2 digits side by side" in at.info[0].value  # … and the number tab named
    assert "A number" in at.info[0].value and "read as a number, **17**" in at.info[0].value
    # Written touching, the two digits are one piece of ink: read as the number tab reads it.
    touching = np.zeros((280, 280), np.float32)
    touching[60:210, :] = write([2, 3])[:, :280]
    assert len(number.split(touching)) == 1
    put_on_the_canvas(at, as_picture(touching, "transparent"))
    at.run()
    assert not at.exception and at.metric
    assert "looks like 2 digits side by side, touching: read as a number, **23**" in at.info[0].value
    wide_zero = Image.new("L", (280, 280))  # one digit drawn wider than tall is one digit
    ImageDraw.Draw(wide_zero).ellipse((20, 80, 260, 200), outline=255, width=18)
    put_on_the_canvas(at, as_picture(np.asarray(wide_zero, np.float32) / 255.0, "transparent"))
    at.run()
    assert not at.exception and at.metric[0].value == "0" and not at.info
    dotted = on_the_pad(7, offset=(60, -20))
    dotted[250:268, 40:58] = 1.0  # a stray dot of the 18 px pen beside a 7: no second digit
    put_on_the_canvas(at, as_picture(dotted, "transparent"))
    at.run()
    assert not at.exception and at.metric[0].value == "7" and not at.info


def test_digits_whose_inks_touch_on_the_one_digit_pad_are_told_apart_by_their_strokes(draw_page):
    """A 1 and a 0 drawn with a 24 px pen, one piece of ink: from the picture the page reads one
    0 and says nothing more; from the strokes (the pen evened) it sees the two digits written."""
    from tests.test_number import ten

    at = draw_page
    lines = [line + (20.0, 60.0) for line in ten(gap=8)]
    draw_strokes(at, lines, pen=24)
    at.run()
    assert not at.exception and at.metric  # still read as one digit …
    assert "looks like 2 digits side by side: read as a number, **10**" in at.info[0].value
    at.toggle(key="draw_even_pen").set_value(False).run()  # … and from its picture, one piece
    assert not at.exception and at.metric and not at.info


def test_digits_on_the_one_digit_pad_are_read_as_a_number_on_the_number_pad_at_a_click(draw_page):
    """The note's button moves the strokes onto the number pad, fitted to it, and opens its tab;
    the number pad reads them at once (a canvas sends no picture of the drawing it starts with)."""
    from tests.test_number import ten

    at = draw_page
    draw_strokes(at, [line + (20.0, 60.0) for line in ten(gap=8)], pen=24)
    at.run()
    at.button(key="draw_as_number").click().run()
    assert not at.exception and at.session_state["draw_mode"] == "A number"
    assert at.metric[0].value == "10" and at.metric[0].delta == "every digit over 99.9% sure"
    assert any(c.value.startswith("Read from your strokes") for c in at.caption)
    moved = at.session_state["number_initial"]["objects"]
    assert {item["strokeWidth"] for item in moved} == {24}  # 114 px tall, it fits: moved, not shrunk
    at.button(key="number_clear").click().run()  # and the pad is the visitor's again
    assert not at.exception and not at.metric and "Write a number first" in at.info[0].value


def test_a_number_is_cut_into_digits_and_read(draw_page):
    from playground.digits import number

    at = draw_page
    at.session_state["draw_mode"] = "A number"  # what choosing the tab does
    at.run()
    assert not at.exception
    assert "write a number first" in at.info[0].value.lower()
    assert not at.metric and not [i for i in at.info if "draw a digit first" in i.value.lower()]
    ink, _ = draw_number([1, 7, 4])
    put_on_the_canvas(at, as_picture(ink, "transparent"), "number")
    at.run()
    assert not at.exception
    assert at.metric[0].value == "174"
    assert at.metric[0].delta.startswith("least sure of a 4: 99.")  # the one under 99.95%
    cut, digits = at.get("image")
    assert cut.proto.imgs[0].caption.startswith("Where your drawing was cut into digits")
    assert [img.caption.split(" · ")[0] for img in digits.proto.imgs] == ["1", "7", "4"]
    assert not [e for e in at.expander if e.label.startswith("Why the touching digits")]  # none touched
    assert any("Answering: **the default model shipped" in c.value for c in at.caption)
    put_on_the_canvas(at, as_picture(write([2, 3]), "transparent"), "number")  # touching
    at.run()
    assert not at.exception and at.metric[0].value == "23"
    assert "(dashed: digits that touched, cut apart)" in at.get("image")[0].proto.imgs[0].caption
    assert at.metric[0].delta == "every digit over 99.9% sure"  # not "least sure … 100.0%"
    # Why: the piece as read whole, beside its halves, and the test they passed.
    (why,) = [e for e in at.expander if e.label == "Why the touching digits were cut apart"]
    (pieces,) = why.get("image")
    captions = [img.caption for img in pieces.proto.imgs]
    assert why.caption[0].value.startswith("The piece read as one digit, then its two halves")
    assert len(captions) == 3 and [c.split(" · ")[0] for c in captions[1:]] == ["2", "3"]
    assert why.markdown[0].value.startswith("Read as one digit, the piece is a ")

    scribble = np.zeros((150, 320), np.float32)
    for i in range(number.MAX_DIGITS + 1):
        scribble[40:120, 6 + 24 * i : 12 + 24 * i] = 1.0
    put_on_the_canvas(at, as_picture(scribble, "transparent"), "number")
    at.run()
    assert not at.exception and not at.metric
    assert f"more than {number.MAX_DIGITS} separate marks" in at.warning[0].value

    at.session_state["draw_mode"] = "One digit"  # the one-digit pad kept its own (empty) drawing
    at.run()
    assert not at.exception and "draw a digit first" in at.info[0].value.lower()


def test_a_number_drawn_with_the_thickest_pen_is_read_with_an_even_pen_per_digit(draw_page):
    """A 1 and an 8, 50 px tall, drawn with the 36 px pen: as drawn, the model reads 80; each
    digit's strokes redrawn with a pen in proportion to it, 18."""
    at = draw_page
    at.session_state["draw_mode"] = "A number"
    at.run()
    assert at.toggle(key="number_even_pen").value  # on by default
    one = np.stack([np.full(20, 70.0), np.linspace(50, 100, 20)], axis=1)
    lines = [one, *small_eight(50, centre=(170, 75))]
    ink = strokes.redraw(lines, 320, 150, pen=36)
    put_on_the_canvas(at, as_picture(ink, "white-on-black"), "number", canvas_objects(lines, 36))
    at.run()
    assert not at.exception and at.metric[0].value == "18"
    assert any(c.value.startswith("Read from your strokes: each digit with a pen") for c in at.caption)
    assert at.get("image")[0].proto.imgs[0].caption.endswith("each digit's strokes with an even pen")
    assert any("cut first, by your strokes" in c.value for c in at.caption)
    at.toggle(key="number_even_pen").set_value(False).run()  # the visitor's own pen
    assert not at.exception and at.metric[0].value == "80"
    assert not any("Read from your strokes" in c.value for c in at.caption)
    at.toggle(key="number_even_pen").set_value(True).run()
    put_on_the_canvas(at, as_picture(ink, "white-on-black"), "number")  # no strokes it can read
    at.run()
    assert not at.exception and at.metric[0].value == "80"
    assert any(c.value.startswith("Read as drawn") and UNREADABLE in c.value for c in at.caption)


def test_a_digit_of_a_number_is_explained_on_the_one_digit_pad_at_a_click(draw_page):
    """Under the number's digits, a button for each: its strokes move onto the one-digit pad,
    whose tab opens and shows how the network reads that digit alone."""
    at = draw_page
    at.session_state["draw_mode"] = "A number"
    at.run()
    one = np.stack([np.full(20, 70.0), np.linspace(50, 100, 20)], axis=1)
    lines = [one, *small_eight(50, centre=(170, 75))]
    ink = strokes.redraw(lines, 320, 150, pen=12)
    put_on_the_canvas(at, as_picture(ink, "white-on-black"), "number", canvas_objects(lines, 12))
    at.run()
    assert not at.exception and at.metric[0].value == "18"
    assert any("reads one of them, step by step" in c.value for c in at.caption)
    at.button(key="number_explain_1").click().run()  # the 8
    assert not at.exception and at.session_state["draw_mode"] == "One digit"
    assert len(at.session_state["draw_initial"]["objects"]) == 1  # the 8's one stroke, not the 1
    assert at.metric[0].value == "8"
    assert any(h.value.startswith("Which pixels made it say 8") for h in at.subheader)
    # Two bars joined in one stroke, cut apart by the network: neither has strokes of its own.
    at.session_state["draw_mode"] = "A number"
    joined = np.array([(60.0, 110.0), (60.0, 40.0), (60.0, 110.0), (180.0, 110.0), (180.0, 40.0)])
    ink = strokes.redraw([joined], 320, 150, pen=10)
    put_on_the_canvas(at, as_picture(ink, "white-on-black"), "number", canvas_objects([joined], 10))
    at.run()
    assert not at.exception and len(at.metric[0].value) == 2
    assert all(at.button(key=f"number_explain_{i}").disabled for i in (0, 1))


def test_the_number_pad_opens_from_its_url_and_the_url_follows_the_tab(fake_mnist_dir, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(fake_mnist_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["mode"] = "number"
    at.run()
    at.switch_page("pages/draw.py").run()
    assert not at.exception
    assert "write a number first" in at.info[0].value.lower()  # the number pad, as the link said
    at.session_state["draw_mode"] = "One digit"
    at.run()
    assert "draw a digit first" in at.info[0].value.lower()
    assert "mode" not in at.query_params
    at.session_state["draw_mode"] = "A number"
    at.run()
    assert at.query_params["mode"] == "number"


def test_why_a_piece_was_cut_or_kept_whole_is_said_in_the_networks_own_figures():
    from playground.digits import number, predict
    from ui import number_reading

    model = predict.load_default()[0]
    by_confidence = number.read(model, write([2, 3])).cuts[0]  # read whole: a 0 at 40%
    by_evidence = number.read(model, write([7, 3])).cuts[0]  # read whole: a 0 at 76%
    assert (by_confidence.by, by_evidence.by) == ("confidence", "evidence")
    whole, (two, three) = by_confidence.whole.prediction, (h.prediction for h in by_confidence.halves)
    said = number_reading.cut_reason(by_confidence)
    assert f"a {whole.digit} at {whole.confidence:.1%}" in said and "surer together" in said
    assert f"{two.confidence * three.confidence:.1%}" in said
    said = number_reading.cut_reason(by_evidence)
    left, right = by_evidence.halves_evidence
    assert f"only {by_evidence.whole_evidence:.1f}, against {left:.1f} and {right:.1f}" in said
    assert "a 7 and a 3" in said
    # A piece wider than tall that stays one digit: the nearest cut's figures, and why not.
    wide = Image.new("L", (320, 150))
    ImageDraw.Draw(wide).ellipse((30, 25, 250, 125), outline=255, width=12)  # a 0, 2.2× wider than tall
    (kept,) = number.read(model, np.asarray(wide, np.float32) / 255.0).cuts
    said = number_reading.cut_reason(kept)
    first, second = (h.prediction for h in kept.halves)
    assert not kept.made and "so it stays one" in said
    halves = f"a {first.digit} at {first.confidence:.1%} and a {second.digit} at {second.confidence:.1%}"
    assert halves in said
    assert f"against the whole's {kept.whole_evidence:.1f}" in said


def test_a_picture_not_of_the_pads_size_is_refused_and_the_next_drawing_is_read(draw_page):
    """A browser can send any picture as the canvas's: one that says it is 13,000 px square
    (a 0.9 MB PNG) took the server 33 s and 5.8 GB to decode and preprocess."""
    at = draw_page
    put_on_the_canvas(at, np.zeros((1000, 1000, 4), np.uint8))
    at.run()
    assert not at.exception and not at.metric
    assert "1000×1000 pixels, not the pad's 280×280, so it was not read" in at.warning[0].value
    at.session_state["draw_canvas_0"] = {"drawing": {"raw": {"objects": []}, "data": "data:image/png,0"}}
    at.run()  # not base64: nothing to decode
    assert not at.exception and not at.metric
    assert "came as not a PNG picture, or a damaged one" in at.warning[0].value
    put_on_the_canvas(at, as_picture(on_the_pad(7), "transparent"))
    at.run()
    assert not at.exception and at.metric[0].value == "7" and not at.warning


def test_a_small_eight_drawn_with_the_thickest_pen_is_read_once_its_pen_is_evened(draw_page):
    """A 50 px 8 drawn with the 36 px pen is a blob (the default model reads a 0): the page redraws
    the strokes with a pen in proportion to the digit, shows that step, and reads an 8."""
    at = draw_page
    assert at.toggle(key="draw_even_pen").value  # on by default
    draw_strokes(at, small_eight(50), pen=36)
    at.run()
    assert not at.exception and at.metric[0].value == "8"
    assert any(c.value.startswith("Read with a 5 px pen") for c in at.caption)  # 0.11 × 50 px
    steps = [img.caption for img in at.get("image")[0].proto.imgs]
    assert steps[:2] == ["Your drawing (280×280)", "Your strokes with an even pen"]
    assert steps[-1] == "What it looks for in an 8"
    at.toggle(key="draw_even_pen").set_value(False).run()  # the visitor's own pen
    assert not at.exception and at.metric[0].value != "8"
    steps = [img.caption for img in at.get("image")[0].proto.imgs]
    assert steps[1].startswith("Cropped to the ink") and not any("Read with" in c.value for c in at.caption)


UNREADABLE = "canvas sent no strokes this page can read"


@pytest.mark.parametrize(
    "objects, why",
    [
        ([{"type": "Path", "path": [["M", 1, 2]]}] * (strokes.MAX_STROKES + 1), UNREADABLE),
        ([{"type": "Path", "path": [["M", "x", None]]}], UNREADABLE),
        (canvas_objects(small_eight(4, centre=(100, 100)), 36), "drawing is too small for a thinner pen"),
    ],
)
def test_strokes_the_page_cannot_even_out_are_read_as_drawn_and_say_why(draw_page, objects, why):
    at = draw_page
    put_on_the_canvas(at, as_picture(on_the_pad(7, offset=(60, -20)), "transparent"), objects=objects)
    at.run()
    assert not at.exception and at.metric[0].value == "7"  # the picture, as drawn
    assert any(c.value == f"Read as drawn: the {why}." for c in at.caption)


def test_its_mind_is_changed_to_the_runner_up_first_and_then_to_the_digit_picked(draw_page, monkeypatch):
    from playground.digits import adversarial

    searches = []
    search = adversarial.change_mind
    monkeypatch.setattr(adversarial, "change_mind", lambda *args: searches.append(args[2]) or search(*args))
    at = draw_page
    put_on_the_canvas(at, as_picture(on_the_pad(7, offset=(60, -20)), "transparent"))
    at.run()
    assert "Change its mind" in [h.value for h in at.subheader]
    why = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")[1:3]]
    assert why[0].startswith("Why 7") and why[1].startswith("Why ")  # the answer's, the runner-up's
    runner_up = int(why[1].split()[1])
    assert at.button_group(key="draw_change_to").value == runner_up

    def verdict() -> str:
        return next(m.value for m in at.markdown if "small steps made it read" in m.value)

    def captions() -> list[str]:
        return [img.caption for img in at.get("image")[1].proto.imgs]

    assert f"small steps made it read {runner_up}**" in verdict()
    assert "You probably still see a 7" in verdict() and "still reads 7" in verdict()
    assert captions()[0].startswith("What it read: 7") and captions()[2].startswith(f"Changed: {runner_up}")
    assert captions()[3].startswith("Noise as large: 7")
    path = next(chart for chart in at.get("plotly_chart") if chart.key == "draw_change_path")
    title = json.loads(path.proto.spec)["layout"]["title"]["text"]
    assert title.startswith(f"Step by step: 7 falls, {runner_up} rises"), title

    assert searches == [runner_up]
    at.radio(key="draw_saliency_target").set_value("log_probability").run()  # nothing asked of it changed
    assert searches == [runner_up] and f"small steps made it read {runner_up}**" in verdict()

    at.button_group(key="draw_change_to").set_value(0).run()
    assert not at.exception
    assert "small steps made it read 0**" in verdict() and captions()[2].startswith("Changed: 0")
    at.button_group(key="draw_change_to").set_value(7).run()  # what it reads already
    assert any(c.value == "It reads 7 already: pick another digit." for c in at.caption)
    assert len(at.get("image")[1].proto.imgs) == 6  # no change shown: the next pictures are the most alike
