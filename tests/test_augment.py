"""Data augmentation (core/augment.py): what it does to digits, that it is repeatable, that the
engine, the URL, the command line and the exported script all carry it, and the CUDA path."""

import pytest
import torch
import torch.nn.functional as F

from playground.__main__ import _parser, config_from_args
from playground.core import augment, data
from playground.core.config import AUGMENTED, PRESETS, TUTORIAL, ConfigError, RunConfig
from playground.core.engine import Trainer
from playground.export import training_script

LOW, HIGH = (0 - data.MEAN) / data.STD, (1 - data.MEAN) / data.STD  # normalised ink 0 and 1


def test_off_is_the_batch_itself(fake_mnist):
    x = fake_mnist.train_x[:32]
    assert augment.augment_batch(x, 0.0, augment.make_generator(0, "cpu")) is x


def test_augmented_batch_is_new_digits_on_the_same_scale(fake_mnist):
    x = fake_mnist.train_x[:64]
    y = augment.augment_batch(x, 0.7, augment.make_generator(0, "cpu"))
    assert y.shape == x.shape and y.dtype == x.dtype
    assert y.min() >= LOW - 1e-4 and y.max() <= HIGH + 1e-4  # still ink 0..1, normalised
    assert torch.allclose(y.amax(dim=1), torch.full((64,), HIGH), atol=1e-4)  # peak ink 1, as drawn
    changed = (y - x).abs().mean(dim=1)
    assert (changed > 0.05).all(), "every digit is redrawn"


def test_same_seed_same_batches_and_another_seed_others(fake_mnist):
    x = fake_mnist.train_x[:64]
    a, b, c = (augment.make_generator(seed, "cpu") for seed in (5, 5, 6))
    first, second = augment.augment_batch(x, 0.7, a), augment.augment_batch(x, 0.7, b)
    assert torch.equal(first, second)
    assert not torch.equal(first, augment.augment_batch(x, 0.7, c))
    assert not torch.equal(first, augment.augment_batch(x, 0.7, a))  # the stream moves on


def test_strength_scales_the_change(fake_mnist):
    x = fake_mnist.train_x[:256]
    change = {
        s: (augment.augment_batch(x, s, augment.make_generator(0, "cpu")) - x).abs().mean().item()
        for s in (0.2, 0.5, 1.0)
    }
    assert change[0.2] < change[0.5] < change[1.0]


def test_stroke_jitter_thickens_and_thins():
    bar = torch.zeros(1, 1, 28, 28)
    bar[..., 8:20, 12:15] = 1.0  # a vertical stroke 3 px wide
    assert torch.equal(augment.neighbourhood(bar, torch.maximum), F.max_pool2d(bar, 3, stride=1, padding=1))
    assert torch.equal(augment.neighbourhood(bar, torch.minimum), -F.max_pool2d(-bar, 3, stride=1, padding=1))
    widths = []
    for seed in range(40):
        out = augment.jitter_strokes(bar, 1.0, augment.make_generator(seed, "cpu"))
        widths.append(out[0, 0, 14].sum().item())  # ink across one row: the stroke's width
    assert min(widths) < 2.6 and max(widths) > 5.0


def test_the_affine_grid_is_torchs():
    """The broadcast grid equals F.affine_grid of the same rotation, scale, shear and shift."""
    import math

    gen_a, gen_b = augment.make_generator(3, "cpu"), augment.make_generator(3, "cpu")
    grid = augment.affine_grid(16, 0.8, gen_a, "cpu").permute(0, 2, 3, 1)
    angle, scale, shear, sx, sy = (
        v.flatten() for v in augment.uniform((5, 16, 1, 1), -0.8, 0.8, gen_b, "cpu")
    )
    angle, scale = angle * augment.MAX_ROTATION_DEG * math.pi / 180, 1 + scale * augment.MAX_SCALE
    shear, shift = shear * augment.MAX_SHEAR, augment.MAX_SHIFT_PX * 2 / 28
    cos, sin = angle.cos() / scale, angle.sin() / scale
    theta = torch.stack(
        [
            torch.stack([cos, cos * shear - sin, sx * shift], 1),
            torch.stack([sin, sin * shear + cos, sy * shift], 1),
        ],
        1,
    )
    assert torch.allclose(grid, F.affine_grid(theta, [16, 1, 28, 28], align_corners=False), atol=1e-6)


def test_augmentation_uses_the_datas_normalisation():
    assert (augment.MNIST_MEAN, augment.MNIST_STD) == (data.MEAN, data.STD)


def test_augmented_digits_stay_readable_by_the_default_model(real_mnist_dir):
    """The labels stay true: the shipped model reads augmented test digits at the preset's
    strength almost as well as the digits themselves."""
    from playground.digits.predict import load_default

    model = load_default()[0]
    mnist = data.load_mnist(real_mnist_dir, "cpu")
    x, y = mnist.test_x[:2000], mnist.test_y[:2000]
    redrawn = augment.augment_batch(x, AUGMENTED.augment, augment.make_generator(0, "cpu"))
    with torch.no_grad():
        plain = (model(x).argmax(1) == y).float().mean().item()
        augmented = (model(redrawn).argmax(1) == y).float().mean().item()
    assert augmented >= 0.95 and augmented >= plain - 0.04, (plain, augmented)


def test_the_sample_grid_shows_the_digits_then_augmented_batches(fake_mnist_dir):
    from playground.figures.augment import GAP, ZOOM, augment_grid

    digits = data.load_test_images(fake_mnist_dir)[0][:10].numpy()
    for strength, rows in ((0.0, 1), (0.7, 4)):
        grid = augment_grid(digits, strength)
        assert grid.dtype.name == "uint8"
        assert grid.shape == ((rows * (28 + GAP) - GAP) * ZOOM, (10 * (28 + GAP) - GAP) * ZOOM)
    plain, augmented = augment_grid(digits, 0.0), augment_grid(digits, 0.7)
    assert (augmented[: plain.shape[0]] == plain).all()  # the first row: the digits as they are
    assert not (augmented[plain.shape[0] :][: plain.shape[0]] == plain).all()
    assert (augment_grid(digits, 0.7) == augmented).all()  # the same picture for the same strength


# --- the engine -------------------------------------------------------------------------------


def _weights(trainer):
    for _ in trainer:
        pass
    return torch.cat([p.detach().flatten() for p in trainer.model.parameters()])


def test_the_engine_trains_on_augmented_batches_repeatably(fake_mnist):
    config = RunConfig(hidden=(32,), dropout=(0.1,), batch_size=100, epochs=1, augment=0.6, device="cpu")
    # One after the other: each Trainer seeds torch's global stream (weights, dropout) when made.
    assert torch.equal(_weights(Trainer(config, fake_mnist)), _weights(Trainer(config, fake_mnist)))
    plain = Trainer(config.replace(augment=0.0), fake_mnist)
    indices = torch.arange(10)
    assert torch.equal(plain.batch_inputs(indices), fake_mnist.train_x[:10])
    assert not torch.equal(Trainer(config, fake_mnist).batch_inputs(indices), fake_mnist.train_x[:10])
    assert not torch.equal(_weights(plain), _weights(Trainer(config, fake_mnist)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_graph_captures_the_augmented_step(fake_mnist_dir):
    mnist = data.load_mnist(fake_mnist_dir, "cuda", download=False)
    config = RunConfig(hidden=(64,), dropout=(0.1,), batch_size=50, epochs=3, augment=0.7, device="cuda")
    trainer = Trainer(config, mnist)
    first = _weights(trainer)
    second = _weights(Trainer(config, mnist))
    assert trainer.uses_cuda_graph and trainer.graph_error is None
    assert torch.equal(first, second)  # the graph replays the generator's stream deterministically
    # Each replay draws new random numbers: two batches of the same indices differ.
    indices = torch.arange(50, device="cuda")
    assert not torch.equal(trainer.batch_inputs(indices), trainer.batch_inputs(indices))


# --- config, URL, command line, export ------------------------------------------------------


def test_config_round_trips_and_rejects_bad_strengths():
    config = TUTORIAL.replace(augment=0.35)
    assert config.to_params()["augment"] == "0.35"
    assert RunConfig.from_params(config.to_params()) == config
    assert RunConfig(augment=1) == RunConfig(augment=1.0)
    assert TUTORIAL.augment == 0.0 and PRESETS["augmented"] is AUGMENTED and AUGMENTED.augment == 0.7
    for bad in (-0.1, 1.5, float("nan"), "0.5", True):
        with pytest.raises(ConfigError, match="augment: must be a strength from 0 .off. to 1"):
            RunConfig(augment=bad)
    with pytest.raises(ConfigError, match="augment: cannot read 'lots'"):
        RunConfig.from_params({"augment": "lots"})
    config, warnings = RunConfig.from_params_lenient({"augment": "3", "epochs": "2"})
    assert config.augment == 0.0 and config.epochs == 2
    assert warnings == [
        "Ignored URL parameter augment: must be a strength from 0 (off) to 1; using the default."
    ]


def test_command_line_option(cli_here):
    args = _parser().parse_args(["train", "--preset", "augmented", "--augment", "0.4"])
    assert config_from_args(args) == AUGMENTED.replace(augment=0.4)
    result = cli_here("train", "--augment", "1.5", "--epochs", "1")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: augment: must be a strength from 0 (off) to 1"


def test_the_exported_script_augments_exactly_like_the_engine(fake_mnist, tmp_path):
    import importlib.util

    config = RunConfig(hidden=(16,), dropout=(0.0,), augment=0.5)
    path = tmp_path / "exported_augment.py"
    path.write_text(training_script(config))
    spec = importlib.util.spec_from_file_location("exported_augment", path)
    exported = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exported)
    assert exported.AUGMENT == 0.5
    x = fake_mnist.train_x[:32]
    ours = augment.augment_batch(x, 0.5, augment.make_generator(0, "cpu"))
    theirs = exported.augment_batch(x, exported.AUGMENT, exported.make_generator(0, "cpu"))
    assert torch.equal(ours, theirs)
    assert "augment_batch(train_x[idx], AUGMENT, augment_generator)" in path.read_text()
