"""MNIST through torchvision, normalised once and kept resident on the training device.

The training loop never touches PIL images or per-sample transforms: `load_mnist` returns the
whole dataset as four tensors on the device, shared by every run in the process.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.datasets import MNIST
from torchvision.datasets.utils import check_integrity, extract_archive

# The usual MNIST normalisation; digits.py must feed drawings through the same `normalize`.
MEAN, STD = 0.1307, 0.3081
RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

ProgressFn = Callable[[float, str], None]  # (fraction done 0..1, what is happening)


class MissingDataError(RuntimeError):
    """MNIST is not on disk and could not be downloaded."""


@dataclass(frozen=True)
class MnistTensors:
    train_x: torch.Tensor  # (60000, 784) float32, normalised
    train_y: torch.Tensor  # (60000,) int64
    test_x: torch.Tensor  # (10000, 784) float32, normalised
    test_y: torch.Tensor  # (10000,) int64
    test_images: torch.Tensor  # (10000, 28, 28) uint8 on the CPU, for galleries
    root: Path

    @property
    def device(self) -> torch.device:
        return self.train_x.device


def default_data_dir() -> Path:
    """PLAYGROUND_DATA_DIR if set, else a per-user cache directory."""
    env = os.environ.get("PLAYGROUND_DATA_DIR")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "pytorch-playground"


def raw_dir(root: Path | str) -> Path:
    return Path(root) / "MNIST" / "raw"


def missing_files(root: Path | str) -> list[str]:
    """The raw MNIST files torchvision needs that are not under `root` (empty: all there)."""
    return [name for name in RAW_FILES if not (raw_dir(root) / name).is_file()]


def is_available(root: Path | str) -> bool:
    return not missing_files(root)


def missing_data_message(root: Path | str) -> str:
    files = ", ".join(missing_files(root)) or "(none)"
    return (
        f"MNIST is not in {raw_dir(root)} and could not be downloaded. "
        f"Missing: {files}. Put the four uncompressed MNIST files "
        f"({', '.join(RAW_FILES)}) in that folder, or set PLAYGROUND_DATA_DIR to a folder that "
        "holds MNIST/raw/."
    )


def download_mnist(
    root: Path | str,
    progress: ProgressFn | None = None,
    mirrors: Sequence[str] | None = None,
    resources: Sequence[tuple[str, str | None]] | None = None,
) -> None:
    """Download the four MNIST archives into root/MNIST/raw and unpack them, reporting progress.

    Uses torchvision's mirrors and checksums. We fetch the files ourselves (rather than
    `MNIST(download=True)`) so that progress reaches the UI instead of a terminal tqdm bar.
    """
    mirrors = list(mirrors or MNIST.mirrors)
    resources = list(resources or MNIST.resources)
    target = raw_dir(root)
    target.mkdir(parents=True, exist_ok=True)
    for index, (filename, md5) in enumerate(resources):
        if (target / filename.removesuffix(".gz")).is_file():
            continue

        def report(fraction: float, filename: str = filename, index: int = index) -> None:
            if progress:
                progress((index + fraction) / len(resources), f"Downloading {filename}")

        archive = target / filename
        _download_from_mirrors(mirrors, filename, archive, md5, report)
        extract_archive(str(archive), str(target), remove_finished=True)
    if progress:
        progress(1.0, "MNIST downloaded")


def _download_from_mirrors(
    mirrors: Sequence[str], filename: str, dest: Path, md5: str | None, report: Callable[[float], None]
) -> None:
    errors = []
    for mirror in mirrors:
        try:
            _fetch(f"{mirror}{filename}", dest, report)
            if md5 is None or check_integrity(str(dest), md5):
                return
            errors.append(f"{mirror}: checksum mismatch")
        except OSError as err:
            errors.append(f"{mirror}: {err}")
        dest.unlink(missing_ok=True)
    raise MissingDataError(f"Could not download {filename}: " + "; ".join(errors))


def _fetch(url: str, dest: Path, report: Callable[[float], None]) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "pytorch-playground"})
    with urllib.request.urlopen(request, timeout=30) as response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while chunk := response.read(1 << 16):
            out.write(chunk)
            done += len(chunk)
            report(done / total if total else 0.0)


def ensure_mnist(root: Path | str, progress: ProgressFn | None = None, download: bool = True) -> None:
    """Make sure the raw files are under root, downloading them if allowed.
    Raises MissingDataError with instructions when they are not and cannot be had."""
    if is_available(root):
        return
    if download and not os.environ.get("PLAYGROUND_OFFLINE"):  # offline: never try the network
        try:
            download_mnist(root, progress)
        except (MissingDataError, OSError) as err:
            raise MissingDataError(f"{missing_data_message(root)} ({err})") from err
    if not is_available(root):
        raise MissingDataError(missing_data_message(root))


def normalize(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 0–255 (or float 0–1) pixels → the model's input scale. Shape is kept."""
    if pixels.dtype == torch.uint8:
        pixels = pixels.float() / 255.0
    return (pixels - MEAN) / STD


# One resident copy per device (about 220 MB on each): a load from another root replaces it.
_cache: dict[str, MnistTensors] = {}
_cache_lock = threading.Lock()


def load_mnist(
    root: Path | str | None = None,
    device: torch.device | str = "cpu",
    progress: ProgressFn | None = None,
    download: bool = True,
) -> MnistTensors:
    """MNIST as resident, normalised tensors on `device`: one shared copy per process and device
    (concurrent callers wait for the first load instead of loading twice). Asking for another
    root replaces the copy rather than adding one, so memory stays bounded per device."""
    root = Path(root) if root is not None else default_data_dir()
    device = torch.device(device)
    key = str(device)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None or cached.root.resolve() != root.resolve():
            _cache.pop(key, None)  # let the old copy go before reading the new one
            ensure_mnist(root, progress, download)
            _cache[key] = _load_tensors(root, device)
        return _cache[key]


def _load_tensors(root: Path, device: torch.device) -> MnistTensors:
    train = MNIST(root=str(root), train=True, download=False)
    test = MNIST(root=str(root), train=False, download=False)
    to_x = lambda images: normalize(images.reshape(len(images), -1)).to(device)  # noqa: E731
    return MnistTensors(
        train_x=to_x(train.data),
        train_y=train.targets.to(device),
        test_x=to_x(test.data),
        test_y=test.targets.to(device),
        test_images=test.data.clone(),
        root=root,
    )


_test_cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}


def load_test_images(root: Path | str) -> tuple[torch.Tensor, torch.Tensor]:
    """The test split as (10000, 28, 28) uint8 images and (10000,) int64 labels on the CPU, for
    galleries in a process that does not train (the web server). One copy: the latest root's."""
    key = str(Path(root).resolve())
    with _cache_lock:
        if key not in _test_cache:
            test = MNIST(root=str(root), train=False, download=False)
            _test_cache.clear()
            _test_cache[key] = (test.data, test.targets)
        return _test_cache[key]


_replay_cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
REPLAY_COUNT = 10_000  # of the 60,000: plenty to mix into a lesson's 80 batches, 8 MB kept


def load_train_sample(root: Path | str, count: int = REPLAY_COUNT) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `count` training digits as (count, 28, 28) uint8 images and (count,) int64
    labels on the CPU, for a process that does not train (the web server: a lesson's replay).
    One copy: the latest root's."""
    key = f"{Path(root).resolve()}:{count}"
    with _cache_lock:
        if key not in _replay_cache:
            train = MNIST(root=str(root), train=True, download=False)
            _replay_cache.clear()
            _replay_cache[key] = (train.data[:count].clone(), train.targets[:count].clone())
        return _replay_cache[key]
