"""The exported .py trains on its own: run it in a subprocess on the small MNIST."""

import subprocess
import sys

import torch

from playground.config import RunConfig
from playground.export import summary, training_script
from playground.model import build_model


def test_exported_script_runs_and_trains(fake_mnist_dir, tmp_path):
    config = RunConfig(hidden=(64, 32), dropout=(0.1, 0.1), activation="gelu", optimizer="adamw",
                       lr=3e-3, schedule="onecycle", batch_size=32, epochs=3)
    script = tmp_path / "train_mnist.py"
    script.write_text(training_script(config))
    out = tmp_path / "weights.pt"
    result = subprocess.run([sys.executable, str(script), "--data-dir", str(fake_mnist_dir), "--device", "cpu",
                             "--out", str(out)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert len(lines) == 3 and "epoch 3/3" in lines[-1]
    accuracy = float(lines[-1].split("test accuracy ")[1].split("%")[0])
    assert accuracy > 50
    # the exported model has the same layout as the app's: its weights load into ours
    build_model(config).load_state_dict(torch.load(out, weights_only=True))


def test_script_only_imports_torch_and_torchvision():
    text = training_script(RunConfig())
    imports = {line.split()[1].split(".")[0] for line in text.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {"argparse", "math", "time", "torch", "torchvision"}
    assert "HIDDEN = (548, 252)" in text and "LR = 0.001" in text
    assert summary(RunConfig()).startswith("784 → 548 → 252 → 10, BatchNorm, ReLU")
