"""The Autograd page's *backward() on the tutorial network*: one training step of a real network on
64 of MNIST's test digits, seen through autograd (playground.lessons.backprop)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from playground import figures
from playground.core import data
from playground.core.config import RunConfig
from playground.digits import predict
from playground.figures.inside import change_picture, ink_picture
from playground.lessons import backprop
from ui import inline, scroll, session

LAST_KEY = "bp_last"  # the last question and its answer: reused while the question is the same
NEXT_KEY = "bp_model_next"  # a network another page asked to show (a key of _sources)
PANEL_KEY = "bp_panel"  # the section's heading: where a visitor sent from a run's results lands
SHOWN_PULLS = 8

# Networks as a run starts them: the tutorial's, and one whose gradient vanishes towards the input
# (the sigmoid's slope is at most ¼, and nothing rescales the layers' outputs).
UNTRAINED = {
    "untrained": ("Untrained tutorial network (as a run starts)", RunConfig()),
    "untrained_sigmoid": (
        "Untrained: 4 layers of 256, Sigmoid, no BatchNorm",
        RunConfig(hidden=(256,) * 4, dropout=(0.0,) * 4, activation="sigmoid", batchnorm=False),
    ),
}


def panel() -> None:
    with st.container(key=PANEL_KEY):
        st.subheader("At full size: backward() on the tutorial network")
        scroll.here(PANEL_KEY, scroll.keyed(PANEL_KEY), block="start")  # when another page sent us
    st.markdown(
        "Training is the example above, bigger: `out` is the mean loss of a batch of 64 digits "
        "and `x` is every weight of the network. One `loss.backward()` fills each weight's "
        "`.grad`; the optimizer then moves the weights against it. Here is one such step, on a "
        "copy of the network you pick (dropout off, so that the same batch gives the same step), "
        "with MNIST's test digits: training takes its batches from the training digits, by the "
        "same arithmetic."
    )
    if not data.is_available(session.data_dir()):
        st.caption("MNIST's test digits are not on this server, so there is no batch to show.")
        return
    images, labels = data.load_test_images(session.data_dir())
    sources = {s.key: s for s in _sources()}
    if st.session_state.get(NEXT_KEY) in sources:
        st.session_state["bp_model"] = st.session_state.pop(NEXT_KEY)
    if st.session_state.get("bp_model") not in sources:  # a run deleted since it was picked
        st.session_state.pop("bp_model", None)
    left, right = st.columns(2)
    key = left.selectbox("Network", list(sources), format_func=lambda k: sources[k].label, key="bp_model")
    source = sources.get(key) or next(iter(sources.values()))
    batches = len(labels) // backprop.BATCH
    number = right.slider("Which 64 test digits", 1, batches, 1, key="bp_batch", format="batch %d")
    start = (number - 1) * backprop.BATCH
    batch = slice(start, start + backprop.BATCH)
    step = _step(source, number, images[batch], labels[batch])

    _overview(step)
    _by_hand(step)
    _pulls(step, images[batch])
    st.plotly_chart(figures.lessons.layer_gradient_figure(step.layers), key="bp_layers")
    st.caption(_layers_caption(step.layers))
    _pushes(step)
    _optimizers(step)


def open_with(key: str) -> None:
    """Go to the Autograd page with the network `key` ("run:<id>") picked (the picker's own state
    belongs to that page, so the choice waits under a key of its own)."""
    st.session_state[NEXT_KEY] = key
    scroll.request(PANEL_KEY)  # the section is at the page's end
    st.switch_page("pages/autograd.py")


def _sources() -> list[predict.ModelSource]:
    """This session's runs, the shipped model, and networks as a run starts them."""
    fresh = [
        predict.ModelSource(key, label, "a network before any training", _untrained(key), config)
        for key, (label, config) in UNTRAINED.items()
    ]
    return predict.model_sources(session.run_history().trained()) + fresh


@st.cache_resource(show_spinner=False)
def _untrained(key: str):
    return backprop.untrained(UNTRAINED[key][1])


def _step(source: predict.ModelSource, number: int, images: torch.Tensor, labels: torch.Tensor):
    """The step, or its answer from the last run when nothing asked has changed: any widget of the
    page reruns it, and a step takes 35–45 ms for the tutorial's network, up to 0.3 s for the
    widest a run may have (one thread)."""
    last = st.session_state.get(LAST_KEY)  # (model, batch, answer): the model itself, not its id,
    if last is None or last[0] is not source.model or last[1] != number:  # which a new one may reuse
        inputs = data.normalize(images.reshape(len(images), -1))
        last = (source.model, number, backprop.one_step(source.model, inputs, labels))
        st.session_state[LAST_KEY] = last
    return last[2]


def _overview(step: backprop.Backprop) -> None:
    loss, right, check = st.columns(3)
    loss.metric("loss of this batch", f"{step.loss:.3g}")
    right.metric("read right", f"{step.right} of {step.batch}")
    check.metric(
        "max |by hand − autograd|",
        f"{step.by_hand_difference:.1g}",
        help="The largest difference between the output layer's gradient worked out by hand (below) "
        "and autograd's, over its weights and bias.",
    )


def _layers_caption(layers: list[backprop.LayerGradient]) -> str:
    text = (
        "Each layer's gradient is far smaller than its weights: one step changes a network a "
        "little, and training takes thousands. "
    )
    shrink = backprop.vanishing(layers)
    if shrink is None:
        return text
    if shrink >= 3:
        return text + (
            f"Here it vanishes towards the input: the first hidden layer's gradient is {shrink:,.0f}× "
            "smaller than the last hidden layer's, so the layers nearest the pixels learn slowest. "
            "ReLU (its slope is 1, the sigmoid's at most ¼) or BatchNorm (it rescales each layer's "
            "output) each keeps a gradient from vanishing so; the tutorial's network has both."
        )
    return text + (
        "Its hidden layers' gradients are of one size. Pick *Untrained: 4 layers of 256, Sigmoid, "
        "no BatchNorm* to see a gradient vanish towards the input."
    )


def _by_hand(step: backprop.Backprop) -> None:
    with st.expander("The output layer's gradient, by hand"):
        st.markdown(
            "The output layer computes z = h·Wᵀ + b from the last hidden layer's h; the loss is "
            "the mean over the batch of −log softmax(z) at each digit's label. Differentiating "
            "by hand, with δ the batch's softmax minus each digit's one-hot label, over B:"
        )
        st.latex(
            r"\delta = \frac{\mathrm{softmax}(z) - \mathrm{onehot}(y)}{B},\qquad"
            r"\frac{\partial\,\mathrm{loss}}{\partial W} = \delta^{\top} h,\qquad"
            r"\frac{\partial\,\mathrm{loss}}{\partial b} = \textstyle\sum_{\text{batch}} \delta"
        )
        st.markdown(
            f"Worked out so from the same forward pass, they match `output.weight.grad` and "
            f"`output.bias.grad` to within {step.by_hand_difference:.1g}: float32's rounding."
        )


def _pulls(step: backprop.Backprop, images: torch.Tensor) -> None:
    st.markdown("**Which digits pull the weights**")
    strongest = step.pulls[:SHOWN_PULLS]
    inline.image(
        [_enlarged(images[p.index]) for p in strongest],
        caption=[_pull_caption(p) for p in strongest],
        width=70,
    )
    sure = [p for p in step.pulls if p.probability >= 0.99]
    wrong = [p for p in step.pulls if p.read_as != p.label]
    parts = []
    if sure:
        parts.append(f"the {len(sure)} it reads at least 99% sure of pull {_share(sure)} of it")
    if wrong:
        parts.append(f"the {len(wrong)} it reads wrong {_share(wrong)}")
    summary = "; ".join(parts) if parts else "no digit stands out yet"
    moral = (
        "A trained network learns from what it still gets wrong."
        if sure
        else "It is sure of none of them yet, so the pull is spread over many digits."
    )
    st.caption(
        "Each digit's row of δ is its softmax minus its label: a digit read surely right adds "
        "almost nothing to the gradient, a wrong one adds the most. Above, the batch's strongest "
        f"pulls, with each one's share of the output layer's δ; {summary}. {moral}"
    )


def _pull_caption(p: backprop.Pull) -> str:
    read = f"{p.label}" if p.read_as == p.label else f"{p.label} read {p.read_as}"
    return f"{read} · {p.share:.0%}"


def _share(pulls: list[backprop.Pull]) -> str:
    return f"{sum(p.share for p in pulls):.0%}"


def _enlarged(image: torch.Tensor):
    picture = ink_picture(image.numpy() / 255.0)
    return picture.repeat(3, axis=0).repeat(3, axis=1)


def _pushes(step: backprop.Backprop) -> None:
    st.markdown("**Where the step pushes the first layer**")
    inline.image(
        [change_picture(push.numpy(), 84) for push in step.pushes],
        caption=[f"unit {unit}" for unit in step.pushed_units],
        width=84,
    )
    st.caption(
        "Minus the gradient of the first-layer units with the largest gradient, each unit's 784 "
        "weights as its 28×28 picture: red where the step raises a weight (the unit will respond "
        "more to ink there), blue where it lowers one. The digits that pull hardest show through: "
        "each unit learns a little of what this batch still gets wrong."
    )


def _optimizers(step: backprop.Backprop) -> None:
    st.markdown(f"**One step with that gradient** (the batch's loss was {step.loss:.3g})")
    st.table(
        pd.DataFrame(
            [
                {
                    "optimizer": s.name,
                    "moves each weight by": s.rule,
                    "median change": f"{s.median_change:.2g}",
                    "largest change": f"{s.largest_change:.2g}",
                    "loss after": f"{s.loss_after:.3g}",
                }
                for s in step.steps
            ]
        ),
        hide_index=True,
    )
    st.caption(
        "Plain gradient descent moves each weight in proportion to its gradient, so the few large "
        "gradients make most of the change. A fresh Adam divides each gradient by its own size "
        "(the square root of its running mean square), so its first step moves nearly every "
        "weight by the same learning rate, large gradient or small."
    )
