import io
import pickle

import pytest
import torch

from playground.core import checkpoint
from playground.core.config import RunConfig
from playground.core.model import build_model

CONFIG = RunConfig(hidden=(32,), dropout=(0.1,), batchnorm=True)


def test_round_trip_keeps_weights_config_and_meta(tmp_path):
    model = build_model(CONFIG)
    torch.nn.init.normal_(model.output.weight)
    path = tmp_path / "m.pt"
    checkpoint.save(path, model, CONFIG, {"test_accuracy": 0.9})
    loaded, config, meta = checkpoint.load(path)
    assert config == CONFIG and meta == {"test_accuracy": 0.9}
    assert not loaded.training
    x = torch.randn(4, 784)
    assert torch.allclose(loaded(x), model.eval()(x))
    assert checkpoint.load(checkpoint.to_bytes(model, CONFIG))[1] == CONFIG


@pytest.mark.parametrize(
    "blob, words",
    [
        (b"", "not a PyTorch checkpoint"),
        (b"hello, this is not a checkpoint", "not a PyTorch checkpoint"),
    ],
)
def test_garbage_is_refused_clearly(blob, words):
    with pytest.raises(checkpoint.CheckpointError, match=words):
        checkpoint.load(blob)


def test_truncated_file_is_refused():
    blob = checkpoint.to_bytes(build_model(CONFIG), CONFIG)
    with pytest.raises(checkpoint.CheckpointError, match="damaged"):
        checkpoint.load(blob[: len(blob) // 2])


def test_arbitrary_objects_are_never_unpickled():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    buffer = io.BytesIO()
    torch.save(
        {"format": checkpoint.FORMAT, "config": CONFIG.to_params(), "state_dict": {}, "meta": Evil()}, buffer
    )
    with pytest.raises(checkpoint.CheckpointError, match="refused"):
        checkpoint.load(buffer.getvalue())
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.load(pickle.dumps({"a": 1}))


def test_other_torch_files_and_wrong_architecture_are_refused():
    buffer = io.BytesIO()
    torch.save(build_model(CONFIG).state_dict(), buffer)
    with pytest.raises(checkpoint.CheckpointError, match="not a PyTorch Playground checkpoint"):
        checkpoint.load(buffer.getvalue())
    buffer = io.BytesIO()
    other = RunConfig(hidden=(64,), dropout=(0.1,))
    torch.save(
        {
            "format": checkpoint.FORMAT,
            "config": CONFIG.to_params(),
            "state_dict": build_model(other).state_dict(),
            "meta": {},
        },
        buffer,
    )
    with pytest.raises(checkpoint.CheckpointError, match="do not fit"):
        checkpoint.load(buffer.getvalue())
    buffer = io.BytesIO()
    torch.save({"format": checkpoint.FORMAT, "config": {"epochs": "0"}, "state_dict": {}, "meta": {}}, buffer)
    with pytest.raises(checkpoint.CheckpointError, match="settings are invalid.*epochs"):
        checkpoint.load(buffer.getvalue())


def test_size_limit_and_missing_file(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "MAX_BYTES", 1000)
    with pytest.raises(checkpoint.CheckpointError, match="limit"):
        checkpoint.load(checkpoint.to_bytes(build_model(CONFIG), CONFIG))
    with pytest.raises(checkpoint.CheckpointError, match="cannot open"):
        checkpoint.load(tmp_path / "nope.pt")
