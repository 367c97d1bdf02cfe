"""`python -m playground evaluate`: a model's accuracy on MNIST's test images, end to end on the
small MNIST: the model trained in a subprocess, evaluated in this process."""

import json
import os
import subprocess
import sys

from playground.core import checkpoint


def cli(*args, timeout=300, **env):
    return subprocess.run(
        [sys.executable, "-m", "playground", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
    )


def test_evaluate_agrees_with_the_training_runs_own_figure(fake_mnist_dir, tmp_path, cli_here):
    out = tmp_path / "model.pt"
    trained = cli(
        "train", "--data-dir", fake_mnist_dir, "--hidden", 32, "--epochs", 3, "--batch-size", 50,
        "--augment", 0.3, "--device", "cpu", "--out", out, "--json",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    result = cli_here("evaluate", "--model", out, "--data-dir", fake_mnist_dir, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["digits"] == 200  # the small MNIST's test split
    assert summary["test_accuracy"] == checkpoint.load(out)[2]["test_accuracy"]
    assert 0.2 < summary["test_accuracy"] <= 1.0
    assert summary["config"]["augment"] == "0.3" and summary["model"] == str(out)
    text = cli_here("evaluate", "--model", out, "--data-dir", fake_mnist_dir)
    assert text.returncode == 0
    assert f"test accuracy {summary['test_accuracy']:.2%} on 200 MNIST test digits" in text.stdout


def test_evaluate_uses_the_default_model_when_none_is_named(fake_mnist_dir, cli_here):
    from playground.digits.predict import load_default

    result = cli_here("evaluate", "--data-dir", fake_mnist_dir, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["model"] == "default"
    assert summary["config"] == load_default()[1].to_params()
    assert 0.0 <= summary["test_accuracy"] <= 1.0


def test_evaluate_says_what_is_wrong(fake_mnist_dir, tmp_path, cli_here, monkeypatch):
    missing = cli_here("evaluate", "--model", tmp_path / "nope.pt", "--data-dir", fake_mnist_dir)
    assert missing.returncode == 2 and missing.stderr.startswith("error: cannot open")
    assert "Traceback" not in missing.stderr
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    bad = cli_here("evaluate", "--model", junk, "--data-dir", fake_mnist_dir)
    assert bad.returncode == 2 and "not a PyTorch checkpoint" in bad.stderr
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "1")
    no_data = cli_here("evaluate", "--data-dir", tmp_path / "empty")
    assert no_data.returncode == 2 and no_data.stderr.startswith("error: MNIST is not in")
    assert "Traceback" not in no_data.stderr
