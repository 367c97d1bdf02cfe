import io
import pickle
import zipfile

import pytest
import torch

from playground.core import archive_check, checkpoint
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


# --- files made to stall a server: what archive_check refuses before torch.load opens them ---


def _saved(payload: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def _pairs_of_pairs(depth: int, make=tuple):
    """A pair of pairs of … pairs, each level the same object twice: `depth` levels in the
    pickle, 2**depth items once expanded."""
    item = make()
    for _ in range(depth):
        item = make((item, item))
    return item


def test_a_pickle_that_uses_a_container_twice_is_refused_before_loading():
    """At depth 24 the old loader spent 0.3 s hashing the key (twice as long per level: a
    file of this size at depth 60 hashes for years, holding the GIL) and 3.6 s printing the
    list at depth 22; both files are under 2 KB."""
    tuple_key = {"format": checkpoint.FORMAT, "config": {_pairs_of_pairs(24): "1"}, "state_dict": {}}
    list_value = {"format": checkpoint.FORMAT, "config": {"hidden": _pairs_of_pairs(22, list)}}
    for payload in (tuple_key, list_value):
        blob = _saved(payload)
        assert len(blob) < 2000
        with pytest.raises(checkpoint.CheckpointError, match="uses one container twice"):
            checkpoint.load(blob)


def _recompressed(blob: bytes) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(blob)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for part in source.infolist():
            target.writestr(part.filename, source.read(part), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_compressed_parts_are_never_inflated():
    """torch.load inflates deflated parts (1 MB of them held 1 GB of zeros, 11 s to read):
    a checkpoint, even a good one, with compressed parts is refused."""
    zeros = _recompressed(_saved({"format": checkpoint.FORMAT, "w": torch.zeros(4_000_000)}))
    assert len(zeros) < 100_000
    good = _recompressed(checkpoint.to_bytes(build_model(CONFIG), CONFIG))
    assert torch.load(io.BytesIO(good), weights_only=True)["format"] == checkpoint.FORMAT
    for blob in (zeros, good):
        with pytest.raises(checkpoint.CheckpointError, match="compressed"):
            checkpoint.load(blob)


def _rezipped(blob: bytes, rename=lambda name: name, keep=lambda name: True) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(blob)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for part in source.infolist():
            if keep(part.filename):
                target.writestr(rename(part.filename), source.read(part))
    return out.getvalue()


def test_archives_unlike_torch_saves_are_refused(monkeypatch):
    blob = checkpoint.to_bytes(build_model(CONFIG), CONFIG)
    assert checkpoint.load(_rezipped(blob))[1] == CONFIG  # stored parts, as torch.save writes
    two_folders = _rezipped(blob, rename=lambda name: name if "data.pkl" in name else f"other/{name}")
    with pytest.raises(checkpoint.CheckpointError, match="more than one folder"):
        checkpoint.load(two_folders)
    with pytest.raises(checkpoint.CheckpointError, match="no data.pkl"):
        checkpoint.load(_rezipped(blob, keep=lambda name: not name.endswith("data.pkl")))
    monkeypatch.setattr(archive_check, "MAX_PICKLE_BYTES", 1000)  # a real one is about 1.2 KB
    with pytest.raises(checkpoint.CheckpointError, match="settings part is"):
        checkpoint.load(blob)


@pytest.mark.filterwarnings("ignore:Validating sparse tensor invariants")
def test_the_legacy_format_and_odd_values_are_refused():
    legacy = io.BytesIO()
    payload = {"format": checkpoint.FORMAT, "config": CONFIG.to_params(), "state_dict": {}, "meta": {}}
    torch.save(payload, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(checkpoint.CheckpointError, match="zip archive"):
        checkpoint.load(legacy.getvalue())
    state = build_model(CONFIG).state_dict()
    odd_settings = {**payload, "config": {**CONFIG.to_params(), "epochs": 3}, "state_dict": state}
    with pytest.raises(checkpoint.CheckpointError, match="settings are invalid"):
        checkpoint.load(_saved(odd_settings))
    sparse = {**payload, "state_dict": {**state, "output.bias": torch.zeros(10).to_sparse()}}
    with pytest.raises(checkpoint.CheckpointError, match="plain tensors"):
        checkpoint.load(_saved(sparse))
    meta = {"test_accuracy": 0.5, "device": "x" * 10_000, "big": 10**30, "nested": [1]}
    loaded_meta = checkpoint.load(_saved({**payload, "state_dict": state, "meta": meta}))[2]
    assert loaded_meta == {"test_accuracy": 0.5}  # only short plain values come through
