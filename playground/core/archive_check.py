"""What a checkpoint file from a stranger must be before `torch.load` opens it.

`torch.load(weights_only=True)` runs no code from the file, but it trusts the file's sizes and
shapes. Two small files could stall a server with it:
- an archive of compressed parts: torch.save never compresses, but the loader inflates what it
  is given, so 1 MB of deflated zeros becomes 1 GB in memory (the 20 MB upload limit: 20 GB);
- a pickle that refers to one tuple or list twice, then builds a pair of pairs of pairs:
  2 KB that stand for 2⁶⁰ items. Hashing such a tuple as a dictionary key, or printing such a
  list, runs for hours inside one C call, holding the GIL that every visitor's page needs.
So a checkpoint must be an archive as torch.save writes it, of stored parts, with a pickle in
which only a string, a number or a name is used twice.
The checks read the archive's directory and the pickle's opcodes: time linear in the file.
"""

from __future__ import annotations

import io
import pickletools
import zipfile

MAX_PARTS = 200  # the largest network (4×1024, BatchNorm) is saved in 36 parts
MAX_PICKLE_BYTES = 1024 * 1024  # its settings and tensor records: about 4 KB

# Opcodes that push a string, a number or a name: using one twice costs nothing. Every other
# memoised object (a tuple, list, dict, tensor) must be used once, so the pickle is a tree no
# larger than itself.
_ATOMS = {
    "GLOBAL", "STACK_GLOBAL", "NONE", "NEWTRUE", "NEWFALSE", "EMPTY_TUPLE",
    "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
    "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE",
    "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
}  # fmt: skip
_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}
_GETS = {"GET", "BINGET", "LONG_BINGET"}


class ArchiveError(ValueError):
    """The file is not safe to open as a checkpoint; the message says why, for the user."""


def check(blob: bytes) -> None:
    """Raise ArchiveError unless `blob` is a zip archive as torch.save writes it, with a pickle
    whose objects are each used once (strings, numbers and names excepted)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise ArchiveError(
            "not a PyTorch checkpoint, or a damaged one (torch.save writes a zip archive)"
        ) from None
    _check_parts(parts)
    pickle_part = f"{parts[0].filename.split('/')[0]}/data.pkl"
    try:
        data = archive.read(pickle_part)
    except KeyError:
        raise ArchiveError("not a PyTorch checkpoint (the archive holds no data.pkl)") from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise ArchiveError("not a PyTorch checkpoint, or a damaged one") from None
    check_pickle(data)


def _check_parts(parts: list[zipfile.ZipInfo]) -> None:
    """Stored parts of one archive folder. (Their sizes need no check here: the loader's zip
    reader refuses a stored part that would reach past the end of the file.)"""
    if not parts or len(parts) > MAX_PARTS:
        raise ArchiveError(f"the archive has {len(parts)} parts; a checkpoint has 1 to {MAX_PARTS}")
    prefix = parts[0].filename.split("/")[0]
    for part in parts:
        if part.compress_type != zipfile.ZIP_STORED:
            raise ArchiveError(
                "its parts are compressed, and torch.save never compresses them; "
                "use the file as the Train page or `python -m playground train --out` saved it"
            )
        if part.filename.split("/")[0] != prefix:
            raise ArchiveError("not a PyTorch checkpoint (its archive holds more than one folder)")


def check_pickle(data: bytes) -> None:
    """Raise ArchiveError if the pickle is too large, unreadable, or uses a tuple, list, dict
    or other built object a second time."""
    if len(data) > MAX_PICKLE_BYTES:
        raise ArchiveError(
            f"its settings part is {len(data) / 1e6:.1f} MB; a checkpoint's is a few KB "
            f"(limit {MAX_PICKLE_BYTES / 1e6:.0f} MB)"
        )
    memo_is_atom: dict[int, bool] = {}
    last_is_atom = False  # whether the opcode before a PUT pushed a string, number or name
    try:
        for opcode, arg, _ in pickletools.genops(data):
            name = opcode.name
            if name in _PUTS:
                memo_is_atom[arg] = last_is_atom
            elif name == "MEMOIZE":
                memo_is_atom[len(memo_is_atom)] = last_is_atom
            elif name in _GETS or name == "DUP":
                reuses_an_atom = memo_is_atom.get(arg, False) if name in _GETS else last_is_atom
                if not reuses_an_atom:
                    raise ArchiveError(
                        "its data uses one container twice, which a checkpoint saved by "
                        "torch.save never does; refused"
                    )
                last_is_atom = True
            else:
                last_is_atom = name in _ATOMS
    except ArchiveError:
        raise
    except Exception:  # noqa: BLE001 - pickletools reports a bad pickle in several ways
        raise ArchiveError("not a PyTorch checkpoint, or a damaged one (unreadable pickle data)") from None
