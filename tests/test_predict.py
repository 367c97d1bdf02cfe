"""Classifying drawings: the CLI `predict` on PNGs of each background kind with the shipped
model, and the model choices and predictions the Draw page uses."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from playground.__main__ import main
from playground.core import checkpoint
from playground.core.config import AUGMENTED, RunConfig
from playground.core.model import build_model
from playground.digits import predict, preprocessing
from tests.drawings import as_picture, draw_digit

KINDS = ["transparent", "black-on-white", "white-on-black"]


def save_png(path, picture: np.ndarray):
    Image.fromarray(picture).save(path)
    return path


def run_cli(args, capsys) -> tuple[int, list[dict]]:
    code = main(["predict", "--json", *map(str, args)])
    lines = capsys.readouterr().out.strip().splitlines()
    return code, [json.loads(line) for line in lines]


def test_shipped_default_model_is_small_and_accurate():
    assert predict.DEFAULT_MODEL_PATH.stat().st_size <= 8 * 1024 * 1024
    _, config, meta = predict.load_default()
    assert meta["test_accuracy"] >= 0.99
    assert config == AUGMENTED.replace(device=config.device)  # the Augmented preset: reproducible


@pytest.mark.parametrize("kind", KINDS)
def test_cli_predicts_each_background_kind_with_the_default_model(kind, tmp_path, capsys):
    paths = [
        save_png(tmp_path / f"{digit}.png", as_picture(draw_digit(digit, offset=(-80, 30)), kind))
        for digit in (0, 1, 4, 7)
    ]
    code, results = run_cli(paths, capsys)
    assert code == 0
    assert [r["digit"] for r in results] == [0, 1, 4, 7]
    assert all(abs(sum(r["probabilities"]) - 1) < 1e-3 for r in results)


@pytest.mark.parametrize("size", [(120, 90), (1600, 1200)])
def test_cli_reads_images_of_any_size(size, tmp_path, capsys):
    picture = Image.fromarray(as_picture(draw_digit(7), "black-on-white")).resize(size)
    path = tmp_path / "seven.png"
    picture.save(path)
    code, results = run_cli([path], capsys)
    assert code == 0 and results[0]["digit"] == 7


def test_cli_says_when_an_image_is_empty(tmp_path, capsys):
    path = save_png(tmp_path / "blank.png", np.full((200, 200, 3), 255, np.uint8))
    code, results = run_cli([path], capsys)
    assert code == 0 and results[0]["digit"] is None


def test_cli_refuses_a_bad_model_file_clearly(tmp_path, capsys):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a checkpoint")
    image = save_png(tmp_path / "one.png", as_picture(draw_digit(1), "white-on-black"))
    assert main(["predict", "--model", str(bad), str(image)]) == 2
    assert "not a PyTorch checkpoint" in capsys.readouterr().err


def test_classify_gives_probabilities_and_each_hidden_layer():
    model, config, _ = predict.load_default()
    result = predict.classify(model, as_picture(draw_digit(0), "transparent"))
    assert not result.processed.empty
    assert result.prediction.digit == 0 and result.prediction.confidence > 0.9
    assert result.prediction.probabilities.shape == (10,)
    assert [a.shape for a in result.prediction.activations] == [(units,) for units in config.hidden]
    assert result.seconds < 1.0


def test_classify_an_empty_canvas_predicts_nothing():
    model = predict.load_default()[0]
    result = predict.classify(model, np.zeros((280, 280, 4), np.uint8))
    assert result.processed.empty and result.prediction is None


def small_model_record(run_id: int, name: str, accuracy: float, stopped: bool = False):
    """A trained run as the draw page sees one (predict.TrainedRun)."""
    config = RunConfig(hidden=(16,), dropout=(0.0,), epochs=1)
    return SimpleNamespace(
        id=run_id,
        name=name,
        stopped_early=stopped,
        config=config,
        model=build_model(config).eval(),
        final_accuracy=accuracy,
    )


def test_sources_put_the_latest_run_first_and_the_default_last():
    newest, older = small_model_record(2, "Run 2", 0.95), small_model_record(1, "Run 1", 0.9, stopped=True)
    sources = predict.model_sources([newest, older])
    assert [s.key for s in sources] == ["run:2", "run:1", "default"]
    assert "(latest)" in sources[0].label and "Run 2" in sources[0].description
    assert "stopped early" in sources[1].description
    assert "default model" in sources[-1].description


def test_before_any_training_the_default_model_answers():
    assert [s.key for s in predict.model_sources([])] == ["default"]


def test_an_uploaded_checkpoint_comes_first(tmp_path):
    config = RunConfig(hidden=(32, 16), dropout=(0.1, 0.1), epochs=1)
    blob = checkpoint.to_bytes(build_model(config), config, {"test_accuracy": 0.5})
    upload = predict.upload_source(blob, "mine.pt")
    sources = predict.model_sources([small_model_record(1, "Run 1", 0.9)], upload)
    assert [s.key for s in sources] == ["upload", "run:1", "default"]
    assert sources[0].config == config and "mine.pt" in sources[0].label


def test_a_bad_upload_raises_a_clear_error():
    with pytest.raises(checkpoint.CheckpointError, match="not a PyTorch checkpoint"):
        predict.upload_source(b"\x00garbage", "x.pt")


def test_predict_answers_from_the_model_and_reports_its_layers():
    """Computed two ways: the answer of `predict` equals the model's own forward pass, and the
    activations it reports are the hidden layers' widths, for a real drawn digit."""
    model, config = predict.load_default()[:2]
    model_input = preprocessing.preprocess(as_picture(draw_digit(7), "transparent")).model_input
    prediction = predict.predict(model, model_input.double())  # any dtype the page may hand it
    with torch.no_grad():
        direct = model(model_input.reshape(1, -1)).exp()[0].numpy()
    assert prediction.probabilities == pytest.approx(direct, abs=1e-6)
    assert int(prediction.probabilities.argmax()) == 7
    assert [len(a) for a in prediction.activations] == list(config.hidden)
