"""The Draw page's *Teach it your handwriting*: keep your drawings with their right digits, then a
copy of the answering model is fine-tuned on them (playground.digits.teach), in the server's
teaching booth, one visitor at a time, and answers from then on."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
import torch

from playground.core import checkpoint, data
from playground.digits import number, predict, preprocessing, teach
from playground.hosting import shared
from playground.hosting.booth import Busy
from ui import draw_models, drawing_pad, inline, scroll, session

PANEL_KEY = "teach_panel"  # the panel's container: where *Open the lesson* scrolls to
EXAMPLES_KEY = "teach_examples"  # [(model input (784,), digit)], oldest first
# {"source": the taught ModelSource, "lesson": teach.Lesson, "base": the ModelSource taught}; the
# model picker (draw_models) reads it too
LESSON_KEY = "teach_lesson"
NUMBER_KEY = "teach_number"  # what the visitor typed: the number the digits on the number pad make
NUMBER_FOR_KEY = "teach_number_for"  # the number pad's digits it was offered for
NUMBER_KEPT_KEY = "teach_number_kept"  # the digits last kept from the number pad (kept once only)
NUMBER_SAID_KEY = "teach_number_said"  # ("kept" | "refused", what the last Keep did)
WAIT_FOR_TURN_S = 60.0  # a lesson takes a second or two (5 s beside a run); a line of ten, a minute

INTRO = (
    "Does the network misread the way you write a 4 or a 7? Keep some of your drawings, each with "
    "the digit it really is, then teach it: a copy of the answering model trains for a moment on "
    "them, each redrawn a little differently at every step, mixed with MNIST's training digits so "
    "that it does not forget everyone else's writing."
)


def panel(pad: drawing_pad.Pad, source: predict.ModelSource, drawing: predict.Classification | None) -> None:
    """drawing: the pad's drawing as the answering model (`source`) read it, or None (empty pad)."""
    examples = st.session_state.get(EXAMPLES_KEY, [])
    lesson = st.session_state.get(LESSON_KEY)
    opened = bool(examples or lesson)
    box = st.container(key=PANEL_KEY)
    with box.expander("Teach it your handwriting", icon=":material/school:", expanded=opened):
        st.caption(INTRO)
        if drawing is not None:
            _keep_row(pad, drawing)
        else:
            st.session_state.pop("teach_label_for", None)  # the next drawing is offered its answer
            if len(examples) < teach.MAX_EXAMPLES:
                st.caption("Draw a digit on the pad to keep it here.")
        if examples:
            _gallery(examples, source)
            _teach_button(source, examples)
        if lesson:
            _lesson(lesson)
    with box:  # after the expander: its empty element leaves no gap inside it
        scroll.here(PANEL_KEY, scroll.keyed(PANEL_KEY), block="start")


def bring_into_view() -> None:
    """Scroll the window to the panel on the page's next run (from a button's callback): on a
    phone it is screens below the pad and the answer."""
    scroll.request(PANEL_KEY)


def _keep_row(pad: drawing_pad.Pad, drawing: predict.Classification) -> None:
    examples = st.session_state.get(EXAMPLES_KEY, [])
    if len(examples) >= teach.MAX_EXAMPLES:
        st.caption(f"You have kept {teach.MAX_EXAMPLES} drawings, as many as a lesson takes.")
        return
    answer = drawing.prediction.digit
    signature = hash(drawing.processed.model_input.numpy().tobytes())
    if st.session_state.get("teach_label_for") != signature:  # a new drawing: offer the model's answer
        st.session_state["teach_label_for"] = signature
        st.session_state["teach_label"] = answer
    st.pills(
        "This drawing is a",
        list(range(10)),
        key="teach_label",
        help=f"The model read it as {answer}: if that is wrong, pick the digit you drew.",
    )
    label = st.session_state.get("teach_label")
    st.button(
        "Keep it" if label is None else f"Keep it as {'an' if label == 8 else 'a'} {label}",
        icon=":material/add:",
        key="teach_keep",
        on_click=_keep,
        args=(pad, drawing.processed.model_input),
        disabled=label is None,
        help="Keeps this drawing with that digit, and clears the pad for your next one.",
    )


def _keep(pad: drawing_pad.Pad, model_input: torch.Tensor) -> None:
    digit = st.session_state.get("teach_label")
    examples = st.session_state.setdefault(EXAMPLES_KEY, [])
    if digit is None or len(examples) >= teach.MAX_EXAMPLES:
        return
    examples.append((model_input.clone(), int(digit)))
    st.session_state.pop("teach_label_for", None)  # a drawing like this one is offered its answer
    drawing_pad.clear(pad)
    drawing_pad.bring_into_view(pad)  # for the next drawing (on a phone the pad is screens above)


def _gallery(examples: list[tuple[torch.Tensor, int]], source: predict.ModelSource) -> None:
    """The kept drawings as the model sees them (28×28), each with its digit and, where the
    answering model reads it as another, what it reads."""
    digits = torch.tensor([digit for _, digit in examples])
    counts = torch.bincount(digits, minlength=10)
    kinds = ", ".join(f"{int(n)} × {d}" for d, n in enumerate(counts) if n)
    read = teach.readings(source.model, torch.stack([x for x, _ in examples]))
    wrong = int((read != digits).sum())
    st.markdown(
        f"**Your drawings** ({len(examples)} of {teach.MAX_EXAMPLES}: {kinds}), as the model sees "
        f"them. The model answering now reads {len(examples) - wrong} of them right"
        + (f"; under the {wrong} it misreads, what it reads:" if wrong else ":")
    )
    inline.image(
        [preprocessing.enlarge(_ink(x), 56) for x, _ in examples],
        caption=[f"{d} ✓" if r == d else f"{d}: read {r}" for d, r in zip(digits.tolist(), read.tolist())],
        width=56,
    )


def _ink(model_input: torch.Tensor):
    return (model_input.reshape(28, 28) * data.STD + data.MEAN).clamp(0, 1).numpy()


def _teach_button(source: predict.ModelSource, examples: list[tuple[torch.Tensor, int]]) -> None:
    base = _base(source)
    root = session.data_dir()
    have_mnist = data.is_available(root)
    row = st.container(horizontal=True, gap="small")
    pressed = row.button(
        "Teach it this drawing" if len(examples) == 1 else f"Teach it these {len(examples)}",
        type="primary",
        icon=":material/school:",
        key="teach_go",
        disabled=not have_mnist,
        help=f"Fine-tunes a copy of {base.description} on your drawings ({teach.STEPS} steps).",
    )
    row.button("Forget my drawings", icon=":material/delete:", key="teach_forget", on_click=_forget)
    if not have_mnist:
        st.caption(
            "MNIST's training digits are not on this server, and a lesson needs them, mixed with "
            "yours, so that the model does not forget everyone else's digits."
        )
    if pressed:
        _run_lesson(base, examples, root)


def _base(source: predict.ModelSource) -> predict.ModelSource:
    """The model to teach: the one answering, or, when that is the taught one, the model it was
    taught from (a lesson starts again from there with all the drawings kept, not on top of the last)."""
    lesson = st.session_state.get(LESSON_KEY)
    return lesson["base"] if lesson and source.key == "taught" else source


def _forget() -> None:
    st.session_state.pop(EXAMPLES_KEY, None)


def _run_lesson(base: predict.ModelSource, examples, root) -> None:
    inputs = torch.stack([x for x, _ in examples])
    digits = torch.tensor([digit for _, digit in examples])
    replay, test = data.load_train_sample(root), data.load_test_images(root)
    bar = st.progress(0.0, text="Starting the lesson…")

    def work(report):
        return teach.teach(base.model, base.config, inputs, digits, replay, test, report=report)

    def show(fraction: float, message: str) -> None:
        bar.progress(min(fraction, 1.0), text=message[:1].upper() + message[1:])

    def waiting(progress: tuple[float, str]) -> None:
        fraction, message = progress
        text = f"Another visitor's model is being taught ({message}): yours waits its turn."
        bar.progress(min(fraction, 1.0), text=text)

    try:
        lesson = shared.teaching_booth().run(work, show, wait_s=WAIT_FOR_TURN_S, on_wait=waiting)
    except Busy:
        bar.empty()
        st.warning("Other visitors' lessons kept the server busy for a minute: press Teach again.")
        return
    except teach.LessonError as err:
        bar.empty()
        st.error(f"These drawings cannot be taught: {err}.")
        return
    bar.empty()
    st.session_state[LESSON_KEY] = {
        "source": predict.taught_source(base, lesson.model, lesson.examples),
        "lesson": lesson,
        "base": base,
    }
    draw_models.pick("taught")  # the taught copy answers from now on
    st.rerun()  # the answer above was drawn by the model before the lesson


def _lesson(state: dict) -> None:
    lesson: teach.Lesson = state["lesson"]
    st.markdown(f"**The lesson** ({lesson.seconds:.1f} s): {state['source'].label}")
    left, right = st.columns(2)
    left.metric(
        "Your drawings it reads right",
        f"{lesson.right_after} of {lesson.examples}",
        f"{lesson.right_after - lesson.right_before:+d} (before: {lesson.right_before})",
        delta_color="normal",
    )
    if lesson.mnist_before is not None and lesson.mnist_after is not None:
        change = 100 * (lesson.mnist_after - lesson.mnist_before)
        right.metric(
            "MNIST's test digits",
            f"{lesson.mnist_after:.2%}",
            f"{change:+.2f} points (before: {lesson.mnist_before:.2%})",
            delta_color="normal",
        )
    st.caption(
        "The taught copy answers above now (*Which model answers* lets you go back). Reading the "
        "drawings it was taught is the easy part: draw new ones to see whether it learned your way "
        "of writing. If MNIST's score fell, it learned yours at the cost of others' (catastrophic "
        "forgetting, which the MNIST digits in each batch hold back); if you taught it a digit "
        "that is not what you drew, it learned that too."
    )
    row = st.container(horizontal=True, gap="small")
    row.button("Forget the lesson", icon=":material/undo:", key="teach_unlearn", on_click=_unlearn)
    taught = state["source"]
    meta = {"test_accuracy": lesson.mnist_after or 0.0, "taught_drawings": lesson.examples}
    row.download_button(
        "Download the taught model (.pt)",
        # Made on the click, and the click reruns nothing (as the Train page's downloads).
        lambda: checkpoint.to_bytes(taught.model, taught.config, meta),
        file_name="mnist-mlp-taught.pt",
        mime="application/octet-stream",
        icon=":material/download:",
        help="Weights and settings; opens with the Draw page or `python -m playground predict`",
        on_click="ignore",
        key="teach_download",
    )


def _unlearn() -> None:
    st.session_state.pop(LESSON_KEY, None)  # the picker, finding its choice gone, picks the best


def keep_number(digits: list[number.ReadDigit], open_lesson: Callable[[], None]) -> None:
    """On the number tab, under its digits: keep them all for a lesson, each with the digit the
    visitor types (the number as read is offered). `open_lesson` opens the one-digit tab, where
    the lesson is."""
    inputs = [d.processed.model_input for d in digits]
    signature = hash(b"".join(x.numpy().tobytes() for x in inputs))
    if st.session_state.get(NUMBER_FOR_KEY) != signature:  # a new number: offer what it read
        st.session_state[NUMBER_FOR_KEY] = signature
        st.session_state[NUMBER_KEY] = "".join(str(d.prediction.digit) for d in digits)
        st.session_state.pop(NUMBER_SAID_KEY, None)
    kept = st.session_state.get(NUMBER_KEPT_KEY) == signature
    st.caption(
        "Misread? Type the number it is and keep its digits for a lesson (*Teach it your "
        "handwriting*, on the *One digit* tab):"
    )
    row = st.container(horizontal=True, gap="small", vertical_alignment="bottom")
    row.text_input("The number it is", key=NUMBER_KEY, max_chars=2 * number.MAX_DIGITS, width=220)
    row.button(
        "Kept" if kept else ("Keep it" if len(inputs) == 1 else f"Keep these {len(inputs)} digits"),
        icon=":material/add:",
        key="teach_keep_number",
        on_click=_keep_number,
        args=(inputs, signature),
        disabled=kept,
    )
    said = st.session_state.get(NUMBER_SAID_KEY)
    if said is None:
        return
    outcome, text = said
    if outcome == "refused":
        st.warning(text)
        return
    st.success(text)
    if st.button("Open the lesson", icon=":material/school:", key="teach_open", on_click=open_lesson):
        st.rerun()  # a click reruns the number's fragment only: the whole page must rerun for the tab


def _keep_number(inputs: list[torch.Tensor], signature: int) -> None:
    try:
        digits = teach.number_labels(st.session_state.get(NUMBER_KEY) or "", len(inputs))
    except teach.LessonError as err:
        st.session_state[NUMBER_SAID_KEY] = ("refused", f"Nothing kept: {err}.")
        return
    examples = st.session_state.setdefault(EXAMPLES_KEY, [])
    room = max(teach.MAX_EXAMPLES - len(examples), 0)
    if room == 0:
        st.session_state[NUMBER_SAID_KEY] = (
            "refused",
            f"Nothing kept: you have kept {teach.MAX_EXAMPLES} drawings, as many as a lesson takes "
            "(*Forget my drawings*, on the *One digit* tab, makes room).",
        )
        return
    examples.extend((x.clone(), digit) for x, digit in list(zip(inputs, digits))[:room])
    kept, left = min(room, len(inputs)), max(len(inputs) - room, 0)
    text = f"Kept {kept} digit{'s' if kept != 1 else ''} ({len(examples)} of {teach.MAX_EXAMPLES} in all)"
    if left:
        last = "the last digit was" if left == 1 else f"the last {left} were"
        text += f"; a lesson takes {teach.MAX_EXAMPLES}, so {last} left out"
    st.session_state[NUMBER_SAID_KEY] = ("kept", text + ".")
    st.session_state[NUMBER_KEPT_KEY] = signature
