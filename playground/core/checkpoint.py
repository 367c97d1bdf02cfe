"""Save and load a trained model together with its config.

The file is a `torch.save` of plain data only (strings, numbers, tensors), and loading uses
`torch.load(weights_only=True)`, so a checkpoint can never run code when it is opened; and
`archive_check` first makes sure it cannot make the loader inflate or expand it either.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any, BinaryIO

import torch

from playground.core import archive_check
from playground.core.config import ConfigError, RunConfig
from playground.core.model import MLP, build_model

FORMAT = "pytorch-playground/1"
MAX_BYTES = 20 * 1024 * 1024  # the largest allowed config (4×1024 units) is about 13 MB


class CheckpointError(ValueError):
    """The file is not a readable PyTorch Playground checkpoint; the message says why."""


def save(
    target: str | Path | BinaryIO, model: MLP, config: RunConfig, meta: dict[str, Any] | None = None
) -> None:
    """Write model weights, config and optional metadata (plain values: str, int, float, bool)."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save(
        {"format": FORMAT, "config": config.to_params(), "state_dict": state, "meta": meta or {}}, target
    )


def to_bytes(model: MLP, config: RunConfig, meta: dict[str, Any] | None = None) -> bytes:
    buffer = io.BytesIO()
    save(buffer, model, config, meta)
    return buffer.getvalue()


def load(
    source: str | Path | bytes | BinaryIO, device: torch.device | str = "cpu"
) -> tuple[MLP, RunConfig, dict[str, Any]]:
    """Read a checkpoint → (model in eval mode on `device`, its config, its metadata).
    Anything wrong (not a checkpoint, damaged, too large, wrong architecture) raises
    CheckpointError with a message meant for the user."""
    blob = _read_bytes(source)
    if len(blob) > MAX_BYTES:
        raise CheckpointError(f"the file is {len(blob) / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB")
    try:
        archive_check.check(blob)
    except archive_check.ArchiveError as err:
        raise CheckpointError(str(err)) from None
    try:
        payload = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        code = [line.strip() for line in str(err).splitlines() if "Unsupported global" in line]
        if code:  # the file would have imported and called something: never load it
            raise CheckpointError(
                f"the file holds code, not only weights and settings; refused ({code[0][:200]})"
            ) from None
        raise CheckpointError("not a PyTorch checkpoint, or a damaged one (unreadable pickle data)") from None
    except Exception:  # noqa: BLE001 - garbage makes the unpickler fail in many ways, none telling
        raise CheckpointError("not a PyTorch checkpoint, or a damaged one") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError("this is a PyTorch file, but not a PyTorch Playground checkpoint")
    try:
        config = RunConfig.from_params(_settings(payload.get("config")))
    except ConfigError as err:
        raise CheckpointError(f"the checkpoint's settings are invalid ({err})") from None
    model = build_model(config)
    try:
        model.load_state_dict(_weights(payload.get("state_dict")))
    except (RuntimeError, KeyError, TypeError, AttributeError) as err:
        raise CheckpointError(
            f"the weights do not fit the model its settings describe ({_first_line(err)})"
        ) from None
    return model.to(device).eval(), config, _plain_meta(payload.get("meta"))


def _settings(config: object) -> dict[str, str]:
    """The saved settings: short strings by name, as `RunConfig.to_params` writes them."""
    if not (
        isinstance(config, dict)
        and len(config) <= 64
        and all(isinstance(k, str) and isinstance(v, str) and len(v) <= 200 for k, v in config.items())
    ):
        raise CheckpointError("the checkpoint's settings are invalid (not a table of short texts)")
    return config


def _weights(state: object) -> dict[str, torch.Tensor]:
    """The saved weights: plain dense tensors by name (no sparse, quantized or nested ones)."""
    if not (
        isinstance(state, dict)
        and all(
            isinstance(k, str) and isinstance(v, torch.Tensor) and v.layout == torch.strided
            for k, v in state.items()
        )
        and not any(v.is_quantized or v.is_nested for v in state.values())
    ):
        raise CheckpointError("the checkpoint's weights are not a table of plain tensors")
    return state


def _plain_meta(meta: object) -> dict[str, Any]:
    """The notes saved with the model (test accuracy, seconds per epoch…): short plain values."""
    if not isinstance(meta, dict):
        return {}
    return {k: v for k, v in meta.items() if isinstance(k, str) and _is_short_plain_value(v)}


def _is_short_plain_value(value: object) -> bool:
    if isinstance(value, str):
        return len(value) <= 200
    if isinstance(value, int):  # bool too
        return abs(value) < 2**63
    return isinstance(value, float)


def _read_bytes(source: str | Path | bytes | BinaryIO) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as err:
            raise CheckpointError(f"cannot open {path}: {err.strerror}") from None
        if size > MAX_BYTES:
            raise CheckpointError(f"the file is {size / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB")
        return path.read_bytes()
    return source.read(MAX_BYTES + 1)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
