"""The command line on the small MNIST: training end to end in subprocesses; what answers in a
moment (refusals, predict) in this process (`cli_here`)."""

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from playground.core import checkpoint
from tests.fakemnist import render_digit


def cli(*args, timeout=300):
    result = subprocess.run(
        [sys.executable, "-m", "playground", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )
    return result


def test_train_json_summary_and_checkpoint_then_predict(fake_mnist_dir, tmp_path, cli_here):
    out = tmp_path / "model.pt"
    result = cli(
        "train",
        "--data-dir",
        fake_mnist_dir,
        "--hidden",
        64,
        32,
        "--dropout",
        0.1,
        0.1,
        "--epochs",
        5,
        "--batch-size",
        32,
        "--lr",
        0.003,
        "--optimizer",
        "adamw",
        "--seed",
        3,
        "--device",
        "cpu",
        "--out",
        out,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["config"]["hidden"] == "64,32" and summary["config"]["optimizer"] == "adamw"
    assert summary["config"]["seed"] == "3" and summary["device"] == "cpu"
    assert 0.6 < summary["test_accuracy"] <= 1.0
    assert summary["seconds_per_epoch"] > 0
    assert "epoch 5/5" in result.stderr
    model, config, meta = checkpoint.load(out)
    assert config.hidden == (64, 32) and meta["test_accuracy"] == summary["test_accuracy"]

    rng = np.random.default_rng(123)
    images = []
    for digit in range(10):
        path = tmp_path / f"digit{digit}.png"
        Image.fromarray(render_digit(digit, rng)).save(path)
        images.append(path)
    result = cli_here("predict", "--model", out, *images, "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["file"] for row in rows] == [str(p) for p in images]
    for row in rows:
        assert len(row["probabilities"]) == 10 and abs(sum(row["probabilities"]) - 1) < 1e-3
        assert row["digit"] == int(np.argmax(row["probabilities"]))
    assert sum(row["digit"] == d for d, row in enumerate(rows)) >= 6  # most of them right

    plain = cli_here("predict", "--model", out, images[0])
    assert plain.returncode == 0 and plain.stdout.startswith(f"{images[0]}: ")


def test_bad_option_values_fail_with_a_clear_message(fake_mnist_dir, cli_here):
    result = cli_here("train", "--data-dir", fake_mnist_dir, "--epochs", 0)
    assert result.returncode == 2 and "epochs" in result.stderr and "1 to 100" in result.stderr
    result = cli_here("train", "--data-dir", fake_mnist_dir, "--hidden", 64, 64, "--dropout", 0.5)
    assert result.returncode == 2 and "dropout" in result.stderr


def test_missing_data_is_explained(tmp_path, cli_here):
    env_free = cli_here("train", "--data-dir", tmp_path / "empty", "--epochs", 1)
    assert env_free.returncode == 2
    assert "MNIST/raw" in env_free.stderr and "train-images-idx3-ubyte" in env_free.stderr


def test_bad_checkpoint_is_explained(tmp_path, cli_here):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"nonsense")
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(image)
    result = cli_here("predict", "--model", bad, image)
    assert result.returncode == 2 and "not a PyTorch checkpoint" in result.stderr


def test_bench_compares_tutorial_loop_and_engine(fake_mnist_dir):
    result = cli(
        "bench", "--data-dir", fake_mnist_dir, "--epochs", 1, "--device", "cpu", "--precision", "fp32",
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["device"] == "cpu" and report["epochs"] == 1
    for loop in (report["tutorial"], report["engine"]["fp32"]):
        assert loop["seconds_per_epoch"] > 0
        assert 0 <= loop["test_accuracy"] <= 1
        assert len(loop["epoch_seconds"]) == 1  # each loop trained the one epoch asked for
    assert "tutorial loop  epoch 1/1" in result.stderr


def test_predict_reads_a_number_in_each_image(tmp_path, cli_here):
    from tests.drawings import as_picture, draw_number

    written = tmp_path / "number.png"
    Image.fromarray(as_picture(draw_number([4, 0, 7])[0], "black-on-white")).save(written)
    empty = tmp_path / "empty.png"
    Image.fromarray(np.full((150, 320), 255, np.uint8)).save(empty)
    result = cli_here("predict", "--number", written, empty, "--json")
    assert result.returncode == 0, result.stderr
    read, blank = (json.loads(line) for line in result.stdout.splitlines())
    assert read["number"] == "407" and [d["digit"] for d in read["digits"]] == [4, 0, 7]
    assert [d["box"][1] for d in read["digits"]] == sorted(d["box"][1] for d in read["digits"])
    assert not any(d["touched"] for d in read["digits"])  # written apart: nothing cut
    assert blank == {"file": str(empty), "number": None, "digits": [], "error": "no digit found"}
    plain = cli_here("predict", "--number", written)
    assert plain.stdout.startswith(f"{written}: 407 (4 ")
