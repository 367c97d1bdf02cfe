"""The train page's controls: widgets ↔ RunConfig, presets, and the URL that holds the config.

The RunConfig in st.session_state["train_config"] is the source of truth. Widget keys are
refilled from it when missing, because Streamlit forgets a widget's state when the user visits
another page, and the run config must survive that.
"""

from __future__ import annotations

import streamlit as st

from playground.core import config as cfg
from playground.core import system
from playground.core.model import activation_name
from playground.hosting.settings import settings
from ui.precision_control import check_url_config, precision_control

CONFIG_KEY = "train_config"
LR_CHOICES = [m * 10.0**e for e in range(-5, 0) for m in (1, 2, 5)] + [1.0]
BATCH_CHOICES = [2**p for p in range(3, 13)]
DEVICE_LABELS = {"auto": "Auto", "cuda": "GPU", "cpu": "CPU"}
# The controls' keys besides each layer's units and dropout (w_units_0, w_dropout_0, …).
SCALAR_KEYS = ("w_layers", "w_batchnorm", "w_activation", "w_optimizer", "w_lr", "w_schedule")
SCALAR_KEYS += ("w_batch_size", "w_epochs", "w_seed", "w_device", "w_precision", "w_augment")
# (the controls' values before a preset, the preset's values, its config) until a control moves.
PRESET_PENDING_KEY = "preset_not_yet_shown"


def current_config() -> cfg.RunConfig:
    return st.session_state.get(CONFIG_KEY, cfg.TUTORIAL)


def load_from_url_once() -> None:
    """On a session's first visit, take the config from the URL; bad values become warnings."""
    if CONFIG_KEY in st.session_state:
        return
    config, warnings = cfg.RunConfig.from_params_lenient(st.query_params.to_dict())
    if config.epochs > settings().max_epochs:
        warnings.append(
            f"This server caps a run at {settings().max_epochs} epochs; "
            f"epochs set to {settings().max_epochs}."
        )
        config = config.replace(epochs=settings().max_epochs)
    if config.device == "cuda" and system.gpu_unavailable_reason():
        warnings.append(
            f"Ignored URL parameter device: GPU unavailable ({system.gpu_unavailable_reason()}); using auto."
        )
        config = config.replace(device="auto")
    config = check_url_config(config, warnings)
    st.session_state["url_warnings"] = warnings
    _set_widgets(config)
    st.session_state[CONFIG_KEY] = config


def write_url(config: cfg.RunConfig) -> None:
    """Keep the browser address equal to the config, so that it can be shared."""
    params = config.to_params()
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def _set_widgets(config: cfg.RunConfig) -> None:
    state = st.session_state
    state["w_layers"] = len(config.hidden)
    for i, (units, rate) in enumerate(zip(config.hidden, config.dropout)):
        state[f"w_units_{i}"], state[f"w_dropout_{i}"] = units, rate
    state["w_batchnorm"] = config.batchnorm
    state["w_activation"] = config.activation
    state["w_optimizer"] = config.optimizer
    state["w_lr"] = config.lr
    state["w_schedule"] = config.schedule
    state["w_batch_size"] = config.batch_size
    state["w_epochs"] = config.epochs
    state["w_seed"] = config.seed
    state["w_device"] = config.device
    state["w_precision"] = config.precision
    state["w_augment"] = config.augment


def _control_values() -> dict:
    """The controls' values as the browser last sent them (the layers it shows, no others)."""
    state = st.session_state
    keys = [k for k in SCALAR_KEYS if k in state]
    for i in range(state.get("w_layers", 0)):
        keys += [f"w_units_{i}", f"w_dropout_{i}"]
    return {k: state.get(k) for k in keys}


def apply_preset(name: str) -> None:
    """Button callback: runs before the widgets are drawn, so it may set their state."""
    preset = cfg.PRESETS[name]
    before = _control_values()
    config = preset.replace(
        device=current_config().device,
        precision=current_config().precision,  # a preset is a recipe, not a number format
        epochs=min(preset.epochs, settings().max_epochs),
    )
    _set_widgets(config)
    if _control_values() != before:  # else no value from before can undo the preset
        st.session_state[PRESET_PENDING_KEY] = (before, _control_values(), config)


def keep_preset_over_stale_values() -> None:
    """Train's and Stop's callback, and the live area's first step at each of its ticks. What
    the browser sends before it has drawn a preset's values carries the values from before the
    preset, and Streamlit takes them over the ones the preset set: Train would train the old
    settings, Stop would put them back on the page, a tick of the live area would put them back
    for the next full run (and in the URL). Exactly those values from a click or a tick are
    such values, so the preset is set again. (A visitor who moves a control back by hand makes
    a full run of the page, which forgets the preset: see `controls`.)"""
    pending = st.session_state.get(PRESET_PENDING_KEY)
    if pending and _control_values() == pending[0]:
        _set_widgets(pending[2])


def controls() -> cfg.RunConfig:
    """Draw every control; return the config they describe (also stored as the current one)."""
    config = current_config()
    kept = ("w_layers", "w_batchnorm", "w_lr", "w_epochs", "w_precision", "w_augment")
    missing = [k for k in kept if k not in st.session_state]
    if missing:
        _set_widgets(config)

    # A row that wraps, each button as wide as its label: three equal columns cut the labels
    # short ("🌀 Augm…" at 1280 px with the sidebar open, "🌀 Au…" at 1024 px).
    presets = st.container(horizontal=True, gap="small")
    presets.button(
        "📜 Tutorial",
        on_click=apply_preset,
        args=("tutorial",),
        help="The 2017 recipe: 784 → 548 → 252 → 10, BatchNorm, ReLU, dropout 0.5/0.2, Adam 1e-3, "
        "batch 64, 15 epochs",
    )
    presets.button(
        "⚡ Fast",
        on_click=apply_preset,
        args=("fast",),
        help="Batch 512 and a one-cycle learning rate: ≥ 97.6% in about 3 epochs",
    )
    presets.button(
        "🌀 Augmented",
        on_click=apply_preset,
        args=("augmented",),
        help="The shipped default model's recipe: the tutorial's network on augmented digits "
        "(strength 0.7), batch 256, one-cycle lr peaking at 3e-3, 40 epochs: ≥ 99% and reads "
        "drawings best",
    )
    pending = st.session_state.get(PRESET_PENDING_KEY)
    if pending and _control_values() != pending[1]:  # a control was moved since the preset
        st.session_state.pop(PRESET_PENDING_KEY)

    layers = st.slider("Hidden layers", cfg.MIN_LAYERS, cfg.MAX_LAYERS, key="w_layers")
    hidden, dropout = [], []
    for i in range(layers):
        st.session_state.setdefault(f"w_units_{i}", 128)
        st.session_state.setdefault(f"w_dropout_{i}", 0.2)
        left, right = st.columns(2)
        hidden.append(left.slider(f"Layer {i + 1} units", cfg.MIN_UNITS, cfg.MAX_UNITS, key=f"w_units_{i}"))
        dropout.append(
            right.slider(
                f"Layer {i + 1} dropout", cfg.MIN_DROPOUT, cfg.MAX_DROPOUT, step=0.05, key=f"w_dropout_{i}"
            )
        )
    left, right = st.columns(2)
    batchnorm = left.toggle("BatchNorm", key="w_batchnorm")
    activation = right.selectbox(
        "Activation", cfg.ACTIVATIONS, key="w_activation", format_func=activation_name
    )
    left, right = st.columns(2)
    optimizer = left.selectbox(
        "Optimizer",
        cfg.OPTIMIZERS,
        key="w_optimizer",
        format_func={"adam": "Adam", "adamw": "AdamW", "sgd": "SGD (momentum 0.9)"}.get,
    )
    schedule = right.selectbox(
        "LR schedule",
        cfg.SCHEDULES,
        key="w_schedule",
        format_func={"constant": "constant", "onecycle": "one-cycle"}.get,
    )
    precision = precision_control(st.session_state.get("w_device", "auto"))
    lr = st.select_slider(
        "Learning rate (log scale)",
        _with(LR_CHOICES, st.session_state["w_lr"]),
        key="w_lr",
        format_func=lambda v: f"{v:g}",
    )
    batch_size = st.select_slider(
        "Batch size", _with(BATCH_CHOICES, st.session_state["w_batch_size"]), key="w_batch_size"
    )
    epochs = st.slider(
        "Epochs",
        cfg.MIN_EPOCHS,
        settings().max_epochs,
        key="w_epochs",
        help=None if settings().max_epochs == cfg.MAX_EPOCHS else "This server caps the epochs of a run",
    )
    augment = st.slider(
        "Data augmentation",
        cfg.MIN_AUGMENT,
        cfg.MAX_AUGMENT,
        step=0.05,
        key="w_augment",
        help="0: MNIST as it is (the tutorial). Above 0, every training batch is redrawn at random: "
        "rotated, scaled, sheared, shifted, elastically bent, strokes thinned or thickened, the "
        "more the stronger. Slower to learn, better at reading drawings.",
    )
    left, right = st.columns(2)
    seed = left.number_input("Seed", 0, cfg.MAX_SEED, step=1, key="w_seed")
    device = _device_control(right)

    new = cfg.RunConfig(
        hidden=tuple(hidden),
        dropout=tuple(dropout),
        batchnorm=batchnorm,
        activation=activation,
        optimizer=optimizer,
        lr=float(lr),
        schedule=schedule,
        batch_size=int(batch_size),
        epochs=int(epochs),
        seed=int(seed),
        device=device,
        precision=precision,
        augment=round(float(augment), 2),  # 0.35, not 0.35000000000000003, in the URL
    )
    st.session_state[CONFIG_KEY] = new
    return new


def _device_control(container) -> str:
    reason = system.gpu_unavailable_reason()
    options = ["auto", "cpu"] if reason else ["auto", "cuda", "cpu"]
    if st.session_state.get("w_device") not in options:
        st.session_state["w_device"] = "auto"
    device = container.radio(
        "Device", options, key="w_device", horizontal=True, format_func=DEVICE_LABELS.get
    )
    if reason:
        container.caption(f"GPU: unavailable ({reason})")
    return device


def _with(choices: list, value) -> list:
    """The choices plus `value` (from a URL, say) in sorted position."""
    return sorted(set(choices) | {value})
