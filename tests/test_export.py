"""The exported .py trains on its own: run it in a subprocess on the small MNIST."""

import subprocess
import sys

import pytest
import torch

from playground.core import schedule
from playground.core.config import RunConfig
from playground.core.engine import StepEvent, Trainer
from playground.core.model import build_model
from playground.export import summary, training_script


def test_exported_script_runs_and_trains(fake_mnist_dir, tmp_path):
    config = RunConfig(
        hidden=(64, 32),
        dropout=(0.1, 0.1),
        activation="gelu",
        optimizer="adamw",
        lr=3e-3,
        schedule="onecycle",
        batch_size=32,
        epochs=3,
    )
    script = tmp_path / "train_mnist.py"
    script.write_text(training_script(config))
    out = tmp_path / "weights.pt"
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            "--data-dir",
            str(fake_mnist_dir),
            "--device",
            "cpu",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert len(lines) == 3 and "epoch 3/3" in lines[-1]
    accuracy = float(lines[-1].split("test accuracy ")[1].split("%")[0])
    assert accuracy > 50
    # the exported model has the same layout as the app's: its weights load into ours
    build_model(config).load_state_dict(torch.load(out, weights_only=True))


def test_script_only_imports_torch_and_torchvision():
    text = training_script(RunConfig())
    imports = {
        line.split()[1].split(".")[0] for line in text.splitlines() if line.startswith(("import ", "from "))
    }
    assert imports <= {"argparse", "math", "time", "torch", "torchvision"}
    assert "HIDDEN = (548, 252)" in text and "LR = 0.001" in text
    assert summary(RunConfig()).startswith("784 → 548 → 252 → 10, BatchNorm, ReLU")


def _exported_module(config: RunConfig, tmp_path, name: str = "exported"):
    """The exported script imported as a module (its main() does not run)."""
    import importlib.util

    path = tmp_path / f"{name}.py"
    path.write_text(training_script(config))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", ["constant", "onecycle"])
def test_exported_schedule_and_epoch_length_are_the_engines(fake_mnist, tmp_path, kind):
    """Compared two ways: the engine's learning rate step by step (what its events report) against
    the exported lr_at, and the engine's steps per epoch against the exported formula."""
    config = RunConfig(
        hidden=(16,), dropout=(0.0,), lr=4e-3, schedule=kind, batch_size=48, epochs=3, device="cpu"
    )
    exported = _exported_module(config, tmp_path, f"exported_{kind}")
    trainer = Trainer(config, fake_mnist, log_every=1)
    engine_lrs = [e.lr for e in trainer if isinstance(e, StepEvent)]
    assert exported.steps_per_epoch(len(fake_mnist.train_x), 48) == trainer.steps_per_epoch
    total = trainer.total_steps
    assert engine_lrs == [
        exported.lr_at(step, total, exported.LR, exported.SCHEDULE) for step in range(total)
    ]
    for samples, batch in [(60000, 64), (60000, 7), (601, 100), (10, 4096)]:
        assert exported.steps_per_epoch(samples, batch) == schedule.steps_per_epoch(samples, batch)


def test_exported_model_computes_what_ours_computes(tmp_path):
    config = RunConfig(hidden=(32, 16), dropout=(0.3, 0.1), activation="tanh")
    exported = _exported_module(config, tmp_path)
    ours = build_model(config).eval()
    theirs = exported.MLP().eval()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(8, 784)
    assert torch.allclose(ours(x), theirs(x))
