"""Draw a digit, or a number: the canvas, the MNIST-style preprocessing steps, and a model's answer.

The logic lives in playground.digits: preprocessing (drawing → model input), predict (models,
answers), number (a number cut into digits); the page's parts in ui/ (drawing_pad, draw_models,
most_alike, number_reading).
"""

import streamlit as st

from ui import shell

shell.run_inside_app()

from playground import figures
from playground.digits import number, predict, preprocessing, saliency
from ui import (
    change_mind,
    draw_models,
    drawing_pad,
    ideal_digits,
    inline,
    most_alike,
    number_reading,
    teach_panel,
)

ONE_DIGIT = drawing_pad.Pad(
    "draw", 280, 280, stroke=18, pen_help="18 px on this 280 px canvas draws MNIST-like strokes."
)
# Wide enough for four or five digits, and narrow enough for a phone 360 px wide: a canvas wider
# than the screen makes the page scroll sideways, and the browser takes a finger's stroke that
# starts leftwards for that scroll (seen in Chromium at 390 px with a 360 px canvas).
NUMBER = drawing_pad.Pad(
    "number", 320, 150, stroke=12, pen_help="12 px draws MNIST-like strokes in digits about 110 px tall."
)

EVEN_PEN_HELP = (
    "MNIST's digits were written with pens about a ninth as wide as the digit. A thick pen on a "
    "small digit fills its loops (a 6, 8 or 9 becomes a blob). With this on, your strokes are "
    "redrawn with a pen in proportion to your digit before the model reads them; turn it off to "
    "see what the model makes of your own pen."
)
NUMBER_EVEN_PEN_HELP = (
    "MNIST's digits were written with pens about a ninth as wide as the digit. With this on, your "
    "number is read from your strokes: strokes above one another are one digit (so digits that "
    "touch still come apart), and each digit's strokes are redrawn with a pen in proportion to "
    "that digit before the model reads it. Turn it off to see the number read from its picture, "
    "with your own pen."
)

st.title("✏️ Draw a digit")
# The mode lives in the URL (/draw?mode=number), so a teacher can share the number pad itself.
if "draw_mode" not in st.session_state and st.query_params.get("mode") == "number":
    st.session_state["draw_mode"] = "A number"
# Only the open tab's content runs (the tabs rerun the page when one is chosen).
one_digit_tab, number_tab = st.tabs(["One digit", "A number"], key="draw_mode", on_change="rerun")
if number_tab.open:
    st.query_params["mode"] = "number"
else:
    st.query_params.pop("mode", None)

# While a run trains, the answers are asked again every second, so that a learner watches their
# drawing's answer firm up epoch by epoch. The canvas stays outside them: a redraw must not touch
# a drawing.
EVERY = 1.0 if draw_models.training() else None


def classify(source: predict.ModelSource, image) -> predict.Classification | None:
    result = predict.classify(source.model, image) if image is not None else None
    return None if result is None or result.prediction is None else result


def offer_the_number_pad() -> None:
    """A button that moves the drawing onto the number pad and opens that tab. A click reruns the
    answer's fragment only: the whole page must rerun for the tab to change."""
    if st.button("Read it as a number", icon=":material/pin:", on_click=read_as_number, key="draw_as_number"):
        st.rerun()


def read_as_number() -> None:
    """The one-digit pad's strokes, moved onto the number pad, and its tab opened."""
    if drawing_pad.move_drawing(ONE_DIGIT, NUMBER):
        st.session_state["draw_mode"] = "A number"


@st.fragment(run_every=EVERY)
def answer(image, lines) -> None:
    """lines: the drawing's strokes when the model reads them redrawn with an even pen, else None."""
    source = draw_models.picked_source()
    st.caption(f"Answering: **{source.description}**.")
    result = classify(source, image)
    if result is None:
        st.info("Draw a digit first: the model answers as soon as there is one on the canvas.")
        return
    prediction = result.prediction
    st.metric(
        "The model reads",
        str(prediction.digit),
        f"{prediction.confidence:.1%} confident",
        delta_color="off",
        delta_arrow="off",
    )
    several = number_reading.several_digits_hint(source.model, image, lines)
    if several and drawing_pad.stroke_lines(ONE_DIGIT):
        offer_the_number_pad()
    st.plotly_chart(figures.drawing.probability_figure(prediction), key="draw_probabilities")
    st.caption(f"Preprocessing + prediction: {result.seconds * 1000:.1f} ms on the server.")


@st.fragment(run_every=EVERY)
def explanation(image, drawn) -> None:
    """image: what the model reads (the drawing, or its strokes redrawn with an even pen); drawn:
    the drawing as the canvas shows it."""
    source = draw_models.chosen_source()
    result = classify(source, image)
    if result is None:
        return
    steps = result.processed
    st.subheader("What the model sees")
    yours = preprocessing.ink(drawn)
    pictures = [(yours, f"Your drawing ({yours.shape[1]}×{yours.shape[0]})")]
    if image is not drawn:
        pictures.append((steps.ink, "Your strokes with an even pen"))
    pictures += [
        (steps.cropped, f"Cropped to the ink ({steps.cropped.shape[1]}×{steps.cropped.shape[0]})"),
        (steps.scaled, f"Shrunk to fit 20×20 ({steps.scaled.shape[1]}×{steps.scaled.shape[0]})"),
        (steps.centred, "Centred by mass in 28×28: the model's input"),
    ]
    # Beside what it sees, what it looks for: the picture it scores highest as the answer's digit.
    digit = result.prediction.digit
    looked_for = ideal_digits.found_for(source.model).pixels[digit]
    article = "an" if digit == 8 else "a"
    pictures.append(
        (figures.inside.ink_picture(looked_for) / 255.0, f"What it looks for in {article} {digit}")
    )
    inline.image(  # one list: a row on a wide screen, rows of two on a phone (not five stacked)
        [preprocessing.enlarge(pixels, 140) for pixels, _ in pictures],
        caption=[caption for _, caption in pictures],
        width=140,
    )

    st.subheader(f"Which pixels made it say {digit}")
    st.caption(
        "Autograd on your drawing: the gradient of a digit's score with respect to the 28×28 input. "
        "Red pixels: more ink there would make the model surer of that digit; blue: less sure. The "
        "answer on the left, the runner-up on the right. Try the log-probability: for a confident "
        "answer it barely moves, and neither does its gradient."
    )
    target = st.radio(
        "Gradient of",
        list(saliency.TARGETS),
        format_func=saliency.TARGETS.get,
        horizontal=True,
        key="draw_saliency_target",
    )
    st.page_link("pages/autograd.py", label="How autograd computes a gradient like this", icon="🔁")
    explained = saliency.top_two(source.model, steps.model_input, result.prediction.probabilities, target)
    for col, item in zip(st.columns(2), explained):
        probability = float(result.prediction.probabilities[item.digit])
        col.plotly_chart(figures.inside.saliency_figure(item, probability), key=f"draw_saliency_{item.digit}")
    change_mind.panel(source, steps.centred, result.prediction.probabilities)

    st.subheader("How the hidden layers respond")
    st.caption("Each square is one unit after its activation; bright units fire for this drawing.")
    for i, layer in enumerate(result.prediction.activations, start=1):
        st.plotly_chart(figures.drawing.activation_figure(layer, i), key=f"draw_activations_{i}")
    most_alike.test_digits_near(source, steps.model_input, digit)


@st.fragment(run_every=EVERY)
def number_answer(image, lines) -> None:
    source = draw_models.picked_source()
    st.caption(f"Answering: **{source.description}**.")
    number_reading.number_answer(source, image, lines, under_digits=under_the_digits)


def under_the_digits(digits: list[number.ReadDigit]) -> None:
    offer_the_one_digit_pad(digits)
    teach_panel.keep_number(digits, open_lesson=open_the_one_digit_tab)


def open_the_one_digit_tab() -> None:
    st.session_state["draw_mode"] = "One digit"
    teach_panel.bring_into_view()


def offer_the_one_digit_pad(digits: list[number.ReadDigit]) -> None:
    """A button for each digit drawn in strokes of its own: it moves them onto the one-digit pad,
    where the page shows how the network reads that digit (what it sees, which pixels decided)."""
    lines = drawing_pad.stroke_lines(NUMBER)
    if lines is None:
        return
    which = "one of them" if len(digits) > 1 else "it"
    st.caption(f"See how the network reads {which}, step by step, on the *One digit* tab:")
    row = st.container(horizontal=True, gap="small")
    for i, read in enumerate(digits):
        drawn_with = number.strokes_in(read.digit.box, lines)
        own = drawn_with and not read.digit.touched  # a digit cut from a stroke has none of its own
        if row.button(
            str(read.prediction.digit),
            key=f"number_explain_{i}",
            on_click=explain_digit,
            args=(drawn_with,),
            disabled=not own,
            icon=":material/zoom_in:",
            help="Its strokes move to the One digit tab" if own else "Cut from a stroke it shares",
        ):
            st.rerun()  # a click reruns this fragment only: the whole page must rerun for the tab


def explain_digit(drawn_with: list[int]) -> None:
    """The number pad's strokes `drawn_with`, moved onto the one-digit pad, and its tab opened."""
    if drawing_pad.move_drawing(NUMBER, ONE_DIGIT, only=drawn_with):
        st.session_state["draw_mode"] = "One digit"


def even_pen(drawing):
    """The drawing the model reads (its strokes redrawn with an even pen, when that is chosen),
    and those strokes (None when it reads the drawing as drawn)."""
    on = st.toggle("Even out the pen", value=True, key="draw_even_pen", help=EVEN_PEN_HELP)
    if drawing is None or not on:
        return drawing, None
    evened = drawing_pad.evened(ONE_DIGIT)
    if evened.ink is None:
        st.caption(f"Read as drawn: {evened.why_not}.")
        return drawing, None
    st.caption(f"Read with a {evened.pen:.0f} px pen: a ninth of your digit's size, as MNIST's pens were.")
    return evened.ink, evened.lines


def number_strokes(drawing):
    """The number's strokes, for it to be read from them (each digit with an even pen), when chosen."""
    on = st.toggle("Even out the pen", value=True, key="number_even_pen", help=NUMBER_EVEN_PEN_HELP)
    if drawing is None or not on:
        return None
    lines = drawing_pad.stroke_lines(NUMBER)
    if lines is None:
        st.caption(f"Read as drawn: {drawing_pad.NO_STROKES}.")
        return None
    st.caption("Read from your strokes: each digit with a pen a ninth of its size, as MNIST's pens were.")
    return lines


ANSWER_MIN_WIDTH = "20rem"  # the answer's charts and pictures want about a phone's width


def pad_and_answer(pad):
    """The pad beside the answer, or above it where there is no room for both. The canvas keeps
    its size (it does not scale): in columns of ratios, a window 700–1250 px wide made its column
    narrower than the pad, and the answer's column covered the canvas's right part."""
    row = st.container(horizontal=True, gap="large")
    answer_key = f"{pad.name}_answer"
    st.html(  # on the flex item around the answer's container: it would shrink to nothing, not wrap
        f"<style>[data-testid=stLayoutWrapper]:has(> .st-key-{answer_key}) {{ "
        f"flex: 1 1 {ANSWER_MIN_WIDTH}; min-width: min({ANSWER_MIN_WIDTH}, 100%); }}</style>"
    )
    return row.container(width=pad.width), row.container(width="stretch", key=answer_key)


if one_digit_tab.open:
    with one_digit_tab:
        st.markdown(
            "Draw one digit, large or small, anywhere on the canvas. It is turned into a 28×28 image "
            "the way MNIST's digits were made (crop, shrink to fit 20×20, centre by mass) and classified."
        )
        col_canvas, col_answer = pad_and_answer(ONE_DIGIT)
        with col_canvas:
            st.caption("Mouse, pen or finger.")
            drawing = drawing_pad.drawing(ONE_DIGIT)
            read, lines = even_pen(drawing)
        with col_answer:
            answer(read, lines)
        source = draw_models.chosen_source()
        teach_panel.panel(ONE_DIGIT, source, classify(source, read))
        explanation(read, drawing)

if number_tab.open:
    with number_tab:
        st.markdown(
            "Write a number, its digits side by side with a little space between them: the page cuts "
            "it into digits and the network reads each one."
        )
        col_canvas, col_answer = pad_and_answer(NUMBER)
        with col_canvas:
            drawing = drawing_pad.drawing(NUMBER)
            lines = number_strokes(drawing)
        with col_answer:
            number_answer(drawing, lines)
