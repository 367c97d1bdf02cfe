"""Draw a digit: the canvas, the MNIST-style preprocessing steps, and a model's answer.

The logic lives in playground.digits: preprocessing (drawing → model input) and predict (models,
answers).
"""

import streamlit as st

from ui import shell

shell.run_inside_app()
from streamlit_drawable_canvas import st_canvas  # raises outside `streamlit run`/AppTest: page only

from playground import figures
from playground.core import checkpoint, data
from playground.digits import alike, digit_map, predict, preprocessing, saliency
from ui import ideal_digits, session

CANVAS = 280  # px; a digit drawn to fill it is shrunk about 10× to MNIST's 20 px box
STROKE = 18  # shrunk 10×, a stroke is about 2 px wide: MNIST's pen
# Tests put an (H, W, 4) uint8 image here: AppTest renders the canvas but cannot draw on it.
SYNTHETIC_IMAGE_KEY = "draw_synthetic_image"
INITIAL_DRAWING_KEY = "draw_initial"  # what Undo puts on the canvas

st.title("✏️ Draw a digit")
st.markdown(
    "Draw one digit, large or small, anywhere on the canvas. It is turned into a 28×28 image the "
    "way MNIST's digits were made (crop, shrink to fit 20×20, centre by mass) and classified."
)


def clear_canvas() -> None:
    # A new key mounts a fresh, empty canvas.
    st.session_state["draw_canvas_version"] = st.session_state.get("draw_canvas_version", 0) + 1
    st.session_state.pop(SYNTHETIC_IMAGE_KEY, None)
    st.session_state.pop(INITIAL_DRAWING_KEY, None)


def undo_stroke(canvas_key: str) -> None:
    """The canvas's own undo is in a toolbar that shows on hover: a finger never sees it. This
    gives the canvas its drawing less the last stroke. It reads the strokes the click brought
    (the canvas's state, as st_canvas itself reads it), not the page's last run, which may not
    have seen the latest stroke yet."""
    try:
        objects = list(st.session_state[canvas_key]["drawing"]["raw"]["objects"])
    except (KeyError, TypeError):  # no stroke yet, or a state this page does not know: keep all
        return
    undone = st.session_state.get("draw_undone", 0) + 1
    st.session_state["draw_undone"] = undone
    # The canvas redraws when its initial drawing changes; the count makes each undo a change.
    st.session_state[INITIAL_DRAWING_KEY] = {"objects": objects[:-1], "undone": undone}


def uploaded_source() -> predict.ModelSource | None:
    """The checkpoint from the uploader, read once per file; a bad file shows why."""
    file = st.file_uploader(
        "Use a checkpoint file (.pt) instead",
        type=["pt", "pth"],
        max_upload_size=checkpoint.MAX_BYTES // (1024 * 1024),
        help="A model saved by the Train page or `python -m playground train --out`.",
    )
    if file is None:
        st.session_state.pop("draw_upload", None)  # the file was removed: forget it
        return None
    cached = st.session_state.get("draw_upload")
    if cached is not None and cached[0] == file.file_id:
        return cached[1]
    try:
        source = predict.upload_source(file.getvalue(), file.name)
    except checkpoint.CheckpointError as err:
        st.error(f"Cannot use {file.name}: {err}.")
        return None
    st.session_state["draw_upload"] = (file.file_id, source)
    return source


col_canvas, col_answer = st.columns([1, 1.3], gap="large")

with col_canvas:
    st.caption("Mouse, pen or finger.")
    st.space("small")  # room for the canvas's toolbar, which floats above it on hover
    canvas_key = f"draw_canvas_{st.session_state.get('draw_canvas_version', 0)}"
    canvas = st_canvas(
        stroke_width=st.session_state.get("draw_stroke", STROKE),
        stroke_color="#FFFFFF",
        background_color="#000000",  # MNIST's look: white ink on black
        width=CANVAS,
        height=CANVAS,
        drawing_mode="freedraw",
        initial_drawing=st.session_state.get(INITIAL_DRAWING_KEY),
        return_image_data=True,
        key=canvas_key,
    )
    strokes = len((canvas.json_data or {}).get("objects") or [])
    buttons = st.container(horizontal=True, gap="small")
    buttons.button(
        "Undo stroke", on_click=undo_stroke, args=(canvas_key,), icon=":material/undo:", disabled=not strokes
    )
    buttons.button("Clear", on_click=clear_canvas, icon=":material/delete:")
    st.slider(
        "Pen width (px)",
        8,
        36,
        STROKE,
        key="draw_stroke",
        help=f"{STROKE} px on this {CANVAS} px canvas draws MNIST-like strokes.",
    )

image = canvas.image_data
if image is None:
    image = st.session_state.get(SYNTHETIC_IMAGE_KEY)


def training_source() -> predict.ModelSource | None:
    """The run this session is training now, with the weights of its latest finished epoch."""
    record = session.run_history().active
    if record is None or record.epoch_model is None:
        return None
    epoch, model = record.epoch_model
    return predict.training_source(record, epoch, model)


def chosen_source(upload: predict.ModelSource | None) -> predict.ModelSource:
    """The model the visitor picked (by its stable key), else the first choice."""
    sources = predict.model_sources(session.run_history().trained(), upload, training_source())
    by_key = {s.key: s for s in sources}
    return by_key.get(st.session_state.get("draw_model"), sources[0])


def classify(source: predict.ModelSource) -> predict.Classification | None:
    result = predict.classify(source.model, image) if image is not None else None
    return None if result is None or result.prediction is None else result


# While a run trains, both parts of the answer are asked again every second, so that a learner
# watches their digit's answer firm up epoch by epoch. The canvas stays outside them: a redraw
# must not touch a drawing.
EVERY = 1.0 if session.run_history().active else None


@st.fragment(run_every=EVERY)
def answer() -> None:
    with st.expander("Which model answers", expanded=False):
        upload = uploaded_source()
        sources = predict.model_sources(session.run_history().trained(), upload, training_source())
        labels = {s.key: s.label for s in sources}
        picked = st.session_state.get("draw_model_picked") and st.session_state.get("draw_model") in labels
        if not picked:  # nothing picked (or that run was deleted): the best choice answers
            st.session_state["draw_model"] = sources[0].key
        st.selectbox(
            "Model",
            list(labels),
            format_func=labels.get,
            key="draw_model",
            on_change=lambda: st.session_state.update(draw_model_picked=True),
            help="Your latest run answers by default (while one trains: its latest epoch); "
            "the shipped model answers before you train one.",
        )
    source = chosen_source(upload)
    st.caption(f"Answering: **{source.description}**.")
    result = classify(source)
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
    st.plotly_chart(figures.drawing.probability_figure(prediction), key="draw_probabilities")
    st.caption(f"Preprocessing + prediction: {result.seconds * 1000:.1f} ms on the server.")


@st.fragment(run_every=EVERY)
def explanation() -> None:
    source = chosen_source(st.session_state.get("draw_upload", (None, None))[1])
    result = classify(source)
    if result is None:
        return
    steps = result.processed
    st.subheader("What the model sees")
    pictures = [
        (steps.ink, f"Your drawing ({steps.ink.shape[1]}×{steps.ink.shape[0]})"),
        (steps.cropped, f"Cropped to the ink ({steps.cropped.shape[1]}×{steps.cropped.shape[0]})"),
        (steps.scaled, f"Shrunk to fit 20×20 ({steps.scaled.shape[1]}×{steps.scaled.shape[0]})"),
        (steps.centred, "Centred by mass in 28×28: the model's input"),
    ]
    # Beside what it sees, what it looks for: the picture it scores highest as the answer's digit.
    digit = result.prediction.digit
    looked_for = ideal_digits.found_for(source.model).pixels[digit]
    pictures.append((figures.inside.ink_picture(looked_for) / 255.0, f"What it looks for in a {digit}"))
    st.image(  # one list: a row on a wide screen, rows of two on a phone (not five stacked)
        [preprocessing.enlarge(pixels, 140) for pixels, _ in pictures],
        caption=[caption for _, caption in pictures],
        width=140,
    )

    st.subheader(f"Which pixels made it say {result.prediction.digit}")
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

    st.subheader("How the hidden layers respond")
    st.caption("Each square is one unit after its activation; bright units fire for this drawing.")
    for i, layer in enumerate(result.prediction.activations, start=1):
        st.plotly_chart(figures.drawing.activation_figure(layer, i), key=f"draw_activations_{i}")
    show_test_digits(source, steps.model_input, result.prediction.digit)


def show_test_digits(source: predict.ModelSource, model_input, digit: int) -> None:
    """The drawing among MNIST's test digits: the most alike, and where it lands on a map."""
    st.subheader("The test digits it finds most alike")
    if not data.is_available(session.data_dir()):
        st.caption("MNIST's test digits are not on this server, so there is nothing to compare with.")
        return
    images, labels = data.load_test_images(session.data_dir())
    show_most_alike(source, model_input, digit, images, labels)
    show_digit_map(source, model_input, images, labels)


def show_most_alike(source: predict.ModelSource, model_input, digit: int, images, labels) -> None:
    st.caption(
        "Among MNIST's 10,000 test digits, the nearest to your drawing two ways. **As the network "
        "sees them**: the digits its last hidden layer responds to most like it does to yours. "
        "**As pixels**: the digits with ink most in the same places. Pixel neighbours can be other "
        "digits drawn in the same spot; the network's tend to be the same digit, whatever the pen "
        "did. That is what training taught it. Under each: its label, and how alike it is (cosine "
        "similarity: 1 is the same)."
    )
    found = alike.most_alike(source.model, model_input, images, labels)
    for title, row in (("As the network sees them", found.by_network), ("As pixels", found.by_pixels)):
        same = sum(a.label == digit for a in row)
        st.markdown(f"**{title}**: {digit}s among them, {same} of {len(row)}")
        st.image(
            [preprocessing.enlarge(images[a.index].numpy() / 255.0, 56) for a in row],
            caption=[f"{a.label} · {a.similarity:.2f}" for a in row],
            width=56,
        )


def show_digit_map(source: predict.ModelSource, model_input, images, labels) -> None:
    st.subheader("Where your drawing lands")
    network, pixels = digit_map.digit_maps(source.model, model_input, images, labels)
    st.caption(
        f"The test digits spread on a plane along the two directions in which they differ most "
        f"(principal components), {len(network.xy):,} of them as dots; your drawing is the star. "
        f"The network has pulled the digits apart into groups: on its plane the digits stand "
        f"{network.separation / pixels.separation:.1f}× as far apart as on the pixels' (the spread "
        f"between the digits' middles over the spread within a digit: {network.separation:.1f} "
        f"against {pixels.separation:.1f}). Two directions cannot show all of the layer's "
        f"{network.dimensions} units: a drawing read right can still land between groups."
    )
    maps = [(network, "As the network sees them", "network"), (pixels, "As pixels", "pixels")]
    for column, (picture, title, name) in zip(st.columns(2), maps):
        column.plotly_chart(figures.drawing.digit_map_figure(picture, title), key=f"draw_map_{name}")


with col_answer:
    answer()
explanation()
