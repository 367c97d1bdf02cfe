"""The Draw page's *Teach it your handwriting* under AppTest: drawings kept with the digit they
are, a lesson, the taught model answering, and a second visitor's lesson waiting its turn."""

import threading

import pytest
import torch
from streamlit.testing.v1 import AppTest

from playground.hosting import shared
from tests.drawings import as_picture
from tests.harness import ROOT
from tests.test_page_draw import on_the_pad, put_on_the_canvas


def draw(at: AppTest, digit: int, offset=(0, 0)) -> None:
    put_on_the_canvas(at, as_picture(on_the_pad(digit, offset), "white-on-black"))
    at.run()
    assert not at.exception


def keep_as(at: AppTest, digit: int) -> None:
    at.button_group(key="teach_label").set_value(digit).run()
    assert at.button(key="teach_keep").label == f"Keep it as {'an' if digit == 8 else 'a'} {digit}"
    at.button(key="teach_keep").click().run()
    assert not at.exception


def answer(at: AppTest) -> str:
    return at.metric[0].value


def test_ones_kept_as_sevens_teach_the_model_to_read_a_new_one_as_seven(draw_page):
    at = draw_page
    draw(at, 1)
    assert answer(at) == "1"
    assert at.button_group(key="teach_label").value == 1  # the model's answer, offered
    keep_as(at, 7)
    assert not at.metric  # kept: the pad is cleared for the next drawing
    assert any("Your drawings** (1 of 30: 1 × 7)" in m.value for m in at.markdown)
    assert any("reads 0 of them right; under the 1 it misreads" in m.value for m in at.markdown)
    for offset in ((-40, 0), (40, 10)):
        draw(at, 1, offset)  # the same 1 once cropped and centred: it is offered its answer again
        assert at.button_group(key="teach_label").value == 1
        keep_as(at, 7)

    at.button(key="teach_go").click().run()
    assert not at.exception
    taught = {m.label: m.value for m in at.metric}
    assert taught["Your drawings it reads right"] == "3 of 3"
    assert taught["MNIST's test digits"].endswith("%")
    assert any("answering now reads 3 of them right:" in m.value for m in at.markdown)  # the taught
    draw(at, 1, (-20, 30))  # a fourth 1, not one it was taught
    assert answer(at) == "7"
    assert any("taught your 3 drawings on this page" in c.value for c in at.caption)

    download = at.get("download_button")[0]
    assert download.proto.label == "Download the taught model (.pt)"

    at.button(key="teach_unlearn").click().run()
    assert answer(at) == "1"  # the model it was taught from answers again
    assert not any("taught your" in c.value for c in at.caption)


def test_a_lesson_waits_while_another_visitors_runs_then_runs(draw_page):
    at = draw_page
    draw(at, 0)
    keep_as(at, 0)
    booth = shared.teaching_booth()
    inside, release = threading.Event(), threading.Event()

    def other_visitor():
        booth.run(lambda report: (inside.set(), release.wait(60)))

    threading.Thread(target=other_visitor, daemon=True).start()
    assert inside.wait(30)
    threading.Timer(1.0, release.set).start()  # the other lesson ends a second after the click
    at.button(key="teach_go").click().run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Your drawings it reads right"] == "1 of 1"


def test_forget_my_drawings_empties_the_lesson_and_a_full_set_keeps_no_more(draw_page, monkeypatch):
    from playground.digits import teach

    monkeypatch.setattr(teach, "MAX_EXAMPLES", 2)
    at = draw_page
    for offset in ((0, 0), (30, 0)):
        draw(at, 4, offset)
        keep_as(at, 4)
    draw(at, 4, (-30, 0))
    assert "teach_keep" not in [b.key for b in at.button]
    assert any("kept 2 drawings, as many as a lesson takes" in c.value for c in at.caption)
    at.button(key="teach_forget").click().run()
    assert "teach_go" not in [b.key for b in at.button]
    assert "teach_keep" in [b.key for b in at.button]


@pytest.fixture
def page_without_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "nothing-here"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/draw.py").run()
    return at


def test_without_mnist_on_the_server_a_lesson_cannot_start_and_says_why(page_without_mnist):
    at = page_without_mnist
    draw(at, 7)
    keep_as(at, 7)
    assert at.button(key="teach_go").disabled
    assert any("training digits are not on this server" in c.value for c in at.caption)


def test_a_misread_number_is_kept_digit_by_digit_with_the_number_typed(draw_page):
    from tests.drawings import draw_number

    at = draw_page
    at.session_state["draw_mode"] = "A number"
    at.run()
    ink, _ = draw_number([1, 7, 4])
    put_on_the_canvas(at, as_picture(ink, "transparent"), "number")
    at.run()
    assert not at.exception and answer(at) == "174"
    assert at.text_input(key="teach_number").value == "174"  # what it read, offered
    keep = at.button(key="teach_keep_number")
    assert keep.label == "Keep these 3 digits"

    at.text_input(key="teach_number").set_value("17").run()  # one digit short: nothing kept
    at.button(key="teach_keep_number").click().run()
    assert not at.exception and "teach_examples" not in at.session_state
    assert at.warning[0].value.startswith("Nothing kept: the page found 3 digits and “17” has 2")

    at.text_input(key="teach_number").set_value("1 7 9").run()  # as the visitor says it is
    at.button(key="teach_keep_number").click().run()
    assert not at.exception
    assert [digit for _, digit in at.session_state["teach_examples"]] == [1, 7, 9]
    assert at.success[0].value == "Kept 3 digits (3 of 30 in all)."
    assert at.button(key="teach_keep_number").label == "Kept" and at.button(key="teach_keep_number").disabled

    at.button(key="teach_open").click().run()  # the lesson, on the one-digit tab
    assert not at.exception and at.session_state["draw_mode"] == "One digit"
    assert any("Your drawings** (3 of 30: 1 × 1, 1 × 7, 1 × 9)" in m.value for m in at.markdown)
    assert any("under the 1 it misreads" in m.value for m in at.markdown)  # the 4 kept as 9
    assert at.button(key="teach_go").label == "Teach it these 3"


def test_a_number_with_more_digits_than_a_lesson_has_room_for_keeps_what_fits(draw_page):
    from tests.drawings import draw_number

    at = draw_page
    at.session_state["teach_examples"] = [(torch.zeros(784), 1)] * 28
    at.session_state["draw_mode"] = "A number"
    at.run()
    ink, _ = draw_number([1, 7, 4])
    put_on_the_canvas(at, as_picture(ink, "transparent"), "number")
    at.run()
    at.button(key="teach_keep_number").click().run()
    assert not at.exception and len(at.session_state["teach_examples"]) == 30
    said = "Kept 2 digits (30 of 30 in all); a lesson takes 30, so the last digit was left out."
    assert at.success[0].value == said
    put_on_the_canvas(at, as_picture(draw_number([7, 1])[0], "transparent"), "number")  # another number
    at.run()
    at.button(key="teach_keep_number").click().run()
    assert not at.exception and len(at.session_state["teach_examples"]) == 30
    assert "as many as a lesson takes" in at.warning[0].value
