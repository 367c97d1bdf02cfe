"""The Draw page's *Change its mind*: a small change to the drawing's 28×28 pixels that makes the
network read another digit, beside random noise of the same size that does not
(`playground.digits.adversarial`)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from playground.digits import adversarial, predict, preprocessing
from playground.figures.drawing import mind_change_figure
from playground.figures.inside import change_picture
from ui import inline

TARGET_KEY = "draw_change_to"
ANSWER_KEY = "draw_change_for"  # the answer the digit on offer was chosen for
LAST_KEY = "draw_change_last"  # the last question and its answer: reused while the question is the same
SIDE = 140


def panel(source: predict.ModelSource, centred: np.ndarray, probabilities: np.ndarray) -> None:
    """centred: the (28, 28) ink the network read; probabilities: its answer for it."""
    answer = int(probabilities.argmax())
    st.subheader("Change its mind")
    st.caption(
        "Autograd turned round: training moves the weights and holds the pixels; here the weights "
        "hold and your digit's pixels move, a small step at a time, down the gradient of the "
        "network's loss for another digit, until it is at least half sure of that digit."
    )
    if st.session_state.get(ANSWER_KEY) != answer:  # a new answer: offer its runner-up
        st.session_state[ANSWER_KEY] = answer
        st.session_state[TARGET_KEY] = int(np.argsort(probabilities)[::-1][1])
    st.pills(
        "Make it read",
        list(range(10)),
        key=TARGET_KEY,
        help="The digit the network should read. Its runner-up is offered first: the nearest.",
    )
    target = st.session_state.get(TARGET_KEY)
    if target is None or target == answer:
        st.caption(f"It reads {answer} already: pick another digit." if target == answer else "Pick a digit.")
        return
    changed = _changed(source, centred, int(target))
    _pictures(changed, answer, probabilities)
    _verdict(changed, answer)
    st.plotly_chart(mind_change_figure(changed.path, answer, changed.digit), key="draw_change_path")


def _changed(source: predict.ModelSource, centred: np.ndarray, target: int) -> adversarial.MindChange:
    """The search, or its answer from the last run when nothing asked has changed: the page runs
    again each second while a run trains, and on any click, and the search can take 0.1–0.7 s
    for the largest networks."""
    asked = (source.key, centred.tobytes(), target)
    last = st.session_state.get(LAST_KEY)  # (model, asked, answer): the model itself, not its id,
    if last is None or last[0] is not source.model or last[1] != asked:  # which a new one may reuse
        last = (source.model, asked, adversarial.change_mind(source.model, centred, target))
        st.session_state[LAST_KEY] = last
    return last[2]


def _pictures(changed: adversarial.MindChange, answer: int, probabilities: np.ndarray) -> None:
    now, noisy = changed.probabilities, changed.noisy_probabilities
    inline.image(  # a row on a wide screen, rows of two on a phone
        [
            preprocessing.enlarge(changed.before, SIDE),
            change_picture(changed.change, SIDE),
            preprocessing.enlarge(changed.after, SIDE),
            preprocessing.enlarge(changed.noisy, SIDE),
        ],
        caption=[
            f"What it read: {answer} ({probabilities[answer]:.0%})",
            "The change: red more ink, blue less",
            f"Changed: {int(now.argmax())} ({now.max():.0%})",
            f"Noise as large: {int(noisy.argmax())} ({noisy.max():.0%})",
        ],
        width=SIDE,
    )


def _verdict(changed: adversarial.MindChange, answer: int) -> None:
    target, now, noisy = changed.digit, changed.probabilities, changed.noisy_probabilities
    noisy_answer = int(noisy.argmax())
    noise = (
        f"still reads {answer}" if noisy_answer == answer else f"reads {noisy_answer}"
    ) + f" ({noisy.max():.0%} sure)"
    if not changed.reached:
        st.markdown(
            f"In {changed.steps} steps it did not come to read {target}: after them it gives {target} "
            f"{now[target]:.0%}, and the steps stop there. This network holds on to its {answer}."
        )
        return
    article = "an" if answer == 8 else "a"
    st.markdown(
        f"**{changed.steps} small steps made it read {target}** ({now[target]:.0%} sure): a change "
        f"{changed.share_of_digit:.0%} the size of your digit, no pixel more than "
        f"{changed.largest_pixel_change:.0%} of full ink. You probably still see {article} {answer}. "
        f"Random noise of the same size {noise}: it is not how much changed but where, along the "
        "few directions the network reads."
    )
