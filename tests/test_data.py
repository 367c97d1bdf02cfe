"""MNIST loading through torchvision: offline error, download with progress, resident tensors."""

import functools
import gzip
import http.server
import shutil
import threading

import pytest
import torch

from playground.core import data


def test_missing_files_give_a_clear_error_naming_files_and_folder(tmp_path):
    with pytest.raises(data.MissingDataError) as err:
        data.load_mnist(tmp_path, "cpu", download=False)
    message = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    for name in data.RAW_FILES:
        assert name in message
    assert "PLAYGROUND_DATA_DIR" in message


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path))
    assert data.default_data_dir() == tmp_path
    monkeypatch.delenv("PLAYGROUND_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.default_data_dir() == tmp_path / "cache" / "pytorch-playground"


def test_resident_normalised_tensors_shared_per_process(fake_mnist_dir):
    first = data.load_mnist(fake_mnist_dir, "cpu", download=False)
    assert first.train_x.shape == (600, 784) and first.train_x.dtype == torch.float32
    assert first.test_x.shape == (200, 784) and first.test_y.dtype == torch.int64
    assert first.test_images.shape == (200, 28, 28) and first.test_images.dtype == torch.uint8
    assert first.train_x.min() == pytest.approx(-data.MEAN / data.STD, abs=1e-5)  # black pixels
    assert data.load_mnist(fake_mnist_dir, "cpu", download=False) is first


def test_normalize_matches_for_uint8_and_float():
    pixels = torch.tensor([0, 255, 128], dtype=torch.uint8)
    assert torch.allclose(data.normalize(pixels), data.normalize(pixels.float() / 255))
    assert data.normalize(pixels)[1] == pytest.approx((1 - data.MEAN) / data.STD)


@pytest.fixture
def mirror(fake_mnist_dir, tmp_path):
    """A loopback HTTP server serving gzipped copies of the small MNIST, like a real mirror."""
    served = tmp_path / "mirror"
    served.mkdir()
    for name in data.RAW_FILES:
        with (
            open(data.raw_dir(fake_mnist_dir) / name, "rb") as src,
            gzip.open(served / f"{name}.gz", "wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_download_reports_progress_and_unpacks(mirror, tmp_path):
    target = tmp_path / "downloaded"
    seen = []
    resources = [(f"{name}.gz", None) for name in data.RAW_FILES]
    data.download_mnist(
        target, progress=lambda f, m: seen.append((f, m)), mirrors=[mirror], resources=resources
    )
    assert data.is_available(target)
    assert not list(data.raw_dir(target).glob("*.gz"))  # archives removed after unpacking
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("train-images" in m for _, m in seen)
    assert len(data.load_mnist(target, "cpu", download=False).train_x) == 600


def test_download_falls_back_to_next_mirror_and_checks_md5(mirror, tmp_path):
    target = tmp_path / "fallback"
    resources = [(f"{name}.gz", None) for name in data.RAW_FILES]
    data.download_mnist(target, mirrors=["http://127.0.0.1:9/", mirror], resources=resources)
    assert data.is_available(target)
    with pytest.raises(data.MissingDataError, match="checksum mismatch"):
        data.download_mnist(
            tmp_path / "bad", mirrors=[mirror], resources=[("t10k-labels-idx1-ubyte.gz", "0" * 32)]
        )


def test_ensure_mnist_when_offline_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(data.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(data.MissingDataError, match="Put the four uncompressed MNIST files"):
        data.ensure_mnist(tmp_path)
