"""The dtype table, what a dtype stores for a given number, and a memory calculator.

Everything here is read from or tried on the running torch, so the page stays true when torch
changes: only the one-line descriptions and the 2017 tutorial's own table are typed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import pandas as pd
import torch

# The tutorial's eight, then the newer ones. Names missing from this torch are skipped.
TUTORIAL_DTYPES = ("float32", "float64", "float16", "uint8", "int8", "int16", "int32", "int64")
NEWER_DTYPES = (
    "bfloat16",
    "bool",
    "complex64",
    "complex128",
    "float8_e4m3fn",
    "float8_e4m3fnuz",
    "float8_e5m2",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    "uint16",
    "uint32",
    "uint64",
)

DESCRIPTIONS = {
    "float32": "Single precision: torch's default float; what models train in.",
    "float64": "Double precision: NumPy's default float; slow on most GPUs.",
    "float16": "Half precision: 5-bit exponent, overflows above 65504.",
    "uint8": "Unsigned byte: images; wraps around modulo 256.",
    "int8": "Signed byte: quantized weights.",
    "int16": "Short integer.",
    "int32": "Integer; NumPy's default int on some platforms.",
    "int64": "Long: torch's default integer; class labels and indices.",
    "bfloat16": "Brain float: float32's range with 8 bits of precision; mixed-precision training.",
    "bool": "True/False masks; stored in one byte.",
    "complex64": "Two float32s (real, imaginary); FFTs.",
    "complex128": "Two float64s (real, imaginary).",
    "float8_e4m3fn": "8-bit float for weights/activations (no infinity); H100-class matmuls.",
    "float8_e4m3fnuz": "8-bit float, AMD variant: no negative zero, no infinity.",
    "float8_e5m2": "8-bit float with float16's range; gradients.",
    "float8_e5m2fnuz": "8-bit float, AMD variant of e5m2.",
    "float8_e8m0fnu": "Exponent only: powers of two, used as block scales (MX formats).",
    "uint16": "Unsigned 16-bit; limited operator support.",
    "uint32": "Unsigned 32-bit; limited operator support.",
    "uint64": "Unsigned 64-bit; limited operator support.",
}

# The 2017 tutorial's table, quoted as it was (its CPU column said N/A for half precision).
TUTORIAL_2017 = {
    "float32": ("torch.FloatTensor", "torch.cuda.FloatTensor"),
    "float64": ("torch.DoubleTensor", "torch.cuda.DoubleTensor"),
    "float16": ("N/A", "torch.cuda.HalfTensor"),
    "uint8": ("torch.ByteTensor", "torch.cuda.ByteTensor"),
    "int8": ("torch.CharTensor", "torch.cuda.CharTensor"),
    "int16": ("torch.ShortTensor", "torch.cuda.ShortTensor"),
    "int32": ("torch.IntTensor", "torch.cuda.IntTensor"),
    "int64": ("torch.LongTensor", "torch.cuda.LongTensor"),
}

# The operations "basic arithmetic" means here; each is tried on a tiny tensor.
ARITHMETIC_OPS = {
    "+": lambda a: a + a,
    "*": lambda a: a * a,
    "sum": lambda a: a.sum(),
    "matmul": lambda a: a @ a,
}


@dataclass(frozen=True)
class DtypeRow:
    name: str  # "float32"
    dtype: torch.dtype
    cpu_type: str | None  # legacy tensor type name, e.g. "torch.FloatTensor"; None if torch has none
    gpu_type: str | None  # e.g. "torch.cuda.FloatTensor"
    numpy: str | None  # NumPy dtype name, None when .numpy() refuses
    bits: int
    min: float | int
    max: float | int
    eps: float | None  # None for integers and bool
    resolution: float | None
    smallest_normal: float | None
    cpu_arithmetic: str  # "yes", "partial (no +, sum)", "no"
    gpu_arithmetic: str  # as cpu_arithmetic, or "no GPU here"
    description: str
    in_tutorial: bool


def available_dtypes() -> list[tuple[str, torch.dtype]]:
    """(name, dtype) for every dtype this page covers that this torch has."""
    names = TUTORIAL_DTYPES + NEWER_DTYPES
    return [(n, getattr(torch, n)) for n in names if isinstance(getattr(torch, n, None), torch.dtype)]


def legacy_type_names(dtype: torch.dtype) -> tuple[str | None, str | None]:
    """The legacy CPU and GPU tensor class names, where torch still defines those classes.

    `Tensor.type()` proposes a name for every dtype (e.g. torch.Float8_e4m3fnTensor); only the
    ones that exist as classes are real legacy types."""
    short = torch.empty(0, dtype=dtype).type().removeprefix("torch.")
    cpu = f"torch.{short}" if isinstance(getattr(torch, short, None), type) else None
    gpu = f"torch.cuda.{short}" if isinstance(getattr(torch.cuda, short, None), type) else None
    return cpu, gpu


def numpy_name(dtype: torch.dtype) -> str | None:
    """The NumPy dtype torch converts to, or None where NumPy has no equivalent."""
    try:
        return str(torch.empty(0, dtype=dtype).numpy().dtype)
    except (TypeError, RuntimeError):
        return None


def limits(dtype: torch.dtype) -> dict[str, float | int | None]:
    """min/max/eps/resolution/smallest_normal from torch.finfo or torch.iinfo.

    Complex dtypes report their real component's finfo (torch does the same)."""
    if dtype == torch.bool:
        return dict(min=0, max=1, eps=None, resolution=None, smallest_normal=None)
    if dtype.is_floating_point or dtype.is_complex:
        fi = torch.finfo(dtype)
        return dict(
            min=fi.min, max=fi.max, eps=fi.eps, resolution=fi.resolution, smallest_normal=fi.smallest_normal
        )
    ii = torch.iinfo(dtype)
    return dict(min=ii.min, max=ii.max, eps=None, resolution=None, smallest_normal=None)


def try_arithmetic(dtype: torch.dtype, device: str = "cpu") -> str:
    """Whether +, *, sum and matmul run for this dtype on this device, found by trying."""
    try:
        a = torch.ones(2, 2, device=device).to(dtype)
    except (RuntimeError, TypeError) as e:
        return f"no ({str(e).splitlines()[0][:60]})"
    failed = []
    for name, op in ARITHMETIC_OPS.items():
        try:
            op(a)
        except (RuntimeError, NotImplementedError, TypeError):
            failed.append(name)
    if not failed:
        return "yes"
    if len(failed) == len(ARITHMETIC_OPS):
        return "no"
    return f"partial (no {', '.join(failed)})"


@cache  # trying every op on every dtype is cheap, but not free on each rerun
def dtype_rows(gpu: bool | None = None) -> tuple[DtypeRow, ...]:
    """One row per available dtype, read from torch; `gpu` defaults to torch.cuda.is_available()."""
    gpu = torch.cuda.is_available() if gpu is None else gpu
    rows = []
    for name, dtype in available_dtypes():
        cpu_type, gpu_type = legacy_type_names(dtype)
        rows.append(
            DtypeRow(
                name=name,
                dtype=dtype,
                cpu_type=cpu_type,
                gpu_type=gpu_type,
                numpy=numpy_name(dtype),
                bits=dtype.itemsize * 8,
                **limits(dtype),
                cpu_arithmetic=try_arithmetic(dtype, "cpu"),
                gpu_arithmetic=try_arithmetic(dtype, "cuda") if gpu else "no GPU here",
                description=DESCRIPTIONS.get(name, ""),
                in_tutorial=name in TUTORIAL_DTYPES,
            )
        )
    return tuple(rows)


def fmt_number(v: float | int | None) -> str:
    """Integers exactly (uint64's max does not fit a float), floats to 6 significant digits."""
    if v is None:
        return "–"
    if isinstance(v, int):
        return str(v)
    return f"{v:.6g}"


def dtype_table(rows: tuple[DtypeRow, ...]) -> pd.DataFrame:
    """The rows as display strings: mixed int/float columns (and 2**64 - 1) don't fit Arrow."""
    return pd.DataFrame(
        [
            {
                "dtype": f"torch.{r.name}",
                "CPU tensor type": r.cpu_type or "–",
                "GPU tensor type": r.gpu_type or "–",
                "NumPy": r.numpy or "–",
                "bits": r.bits,
                "min": fmt_number(r.min),
                "max": fmt_number(r.max),
                "eps": fmt_number(r.eps),
                "resolution": fmt_number(r.resolution),
                "smallest normal": fmt_number(r.smallest_normal),
                "arithmetic on CPU": r.cpu_arithmetic,
                "arithmetic on GPU": r.gpu_arithmetic,
                "in 2017 tutorial": "✓" if r.in_tutorial else "",
                "description": r.description,
            }
            for r in rows
        ]
    )


def table_height(n_rows: int) -> int:
    """Pixels for st.dataframe to show every row without an inner scrollbar (35 px a row)."""
    return (n_rows + 1) * 35 + 3


# --- what a dtype stores ----------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    dtype: str
    stored: str  # the value read back, as text
    error: float | None  # stored - typed (absolute), None when not comparable (NaN, bool)
    note: str  # "exact", "rounded", "overflow → inf", "wrapped around", ...


def parse_number(text: str) -> int | float:
    """An int when the text is one (so 2**63 stays exact), else a float ('1e3', 'inf', 'nan')."""
    text = text.strip().replace("_", "")
    try:
        return int(text)
    except ValueError:
        return float(text)


def _source_tensor(value: int | float) -> torch.Tensor:
    # Integers that fit int64 are cast from int64 so integer → integer casts wrap as in C;
    # everything else goes through float64, the widest type every dtype converts from.
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return torch.tensor(value, dtype=torch.int64)
    return torch.tensor(float(value), dtype=torch.float64)


def _read_back(t: torch.Tensor) -> int | float | bool | complex:
    if t.dtype == torch.bool:
        return bool(t.item())
    if t.dtype.is_complex:
        return complex(t.to(torch.complex128).item())
    if t.dtype.is_floating_point:
        return t.to(torch.float64).item()  # float8 and friends have no .item() of their own
    return int(t.item())


def _note(value: int | float, stored: int | float, dtype: torch.dtype) -> str:
    if isinstance(stored, float) and math.isnan(stored):
        return (
            "exact (NaN)"
            if isinstance(value, float) and math.isnan(value)
            else "overflow → NaN (no inf in this format)"
        )
    if isinstance(value, float) and math.isnan(value):
        return "NaN has no integer: undefined, this CPU gives this"
    if stored == value:
        return "exact"
    if isinstance(stored, float) and math.isinf(stored):
        return "overflow → inf"
    lim = limits(dtype)
    if dtype.is_floating_point or dtype.is_complex:
        return "saturated to max" if abs(stored) == lim["max"] else "rounded"
    # Integer target
    whole = math.trunc(value) if math.isfinite(value) else value
    if lim["min"] <= whole <= lim["max"]:
        return "fraction dropped (truncated toward 0)"
    span = lim["max"] - lim["min"] + 1
    # int64 → intN casts wrap modulo 2**N; float → int out of range is undefined behaviour in
    # C++, so only call it wrapping when the result happens to be the wrapped value.
    if math.isfinite(whole) and stored == (int(whole) - lim["min"]) % span + lim["min"]:
        return "out of range: wrapped around"
    return "out of range: undefined in C++, this CPU gives this"


def what_is_stored(value: int | float, dtypes: list[tuple[str, torch.dtype]] | None = None) -> list[Stored]:
    """Cast `value` into each dtype, read it back and say what happened."""
    src = _source_tensor(value)
    out = []
    for name, dtype in dtypes or available_dtypes():
        try:
            stored = _read_back(src.to(dtype))
        except (RuntimeError, TypeError, OverflowError) as e:
            out.append(Stored(name, "–", None, f"cannot convert: {str(e).splitlines()[0][:60]}"))
            continue
        if isinstance(stored, bool):
            out.append(Stored(name, str(stored), None, "nonzero → True" if stored else "zero → False"))
            continue
        if isinstance(stored, complex):
            stored = stored.real  # the value went into the real part; the imaginary part is 0
        error = _error(value, stored)
        out.append(Stored(name, fmt_stored(stored), error, _note(value, stored, dtype)))
    return out


def _error(value: int | float, stored: int | float) -> float | None:
    if isinstance(value, int) and isinstance(stored, int):
        return float(stored - value)  # exact in Python ints, then shown as a float
    diff = float(stored) - float(value)
    return None if math.isnan(diff) else diff


def fmt_stored(v: int | float) -> str:
    """Integers exactly; floats with every digit float64 needs (float32(0.1) is 0.10000000149…)."""
    return str(v) if isinstance(v, int) else repr(float(v))


def stored_table(results: list[Stored]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "dtype": f"torch.{r.dtype}",
                "stores": r.stored,
                "error (stored − typed)": "–" if r.error is None else f"{r.error:.6g}",
                "what happened": r.note,
            }
            for r in results
        ]
    )


# --- memory -----------------------------------------------------------------------------------


def parse_shape(text: str) -> tuple[int, ...]:
    """'64, 1, 28, 28' or '64x1x28x28' → (64, 1, 28, 28)."""
    parts = [p for p in text.replace("x", ",").replace("×", ",").replace("(", "").replace(")", "").split(",")]
    shape = tuple(int(p) for p in (p.strip() for p in parts) if p)
    if any(s < 0 for s in shape):
        raise ValueError("sizes must be ≥ 0")
    return shape


def tensor_bytes(shape: tuple[int, ...], dtype: torch.dtype) -> int:
    """Bytes a tensor of this shape and dtype holds, as torch reports it (on the meta device,
    so even a terabyte-sized shape allocates nothing)."""
    return torch.empty(shape, dtype=dtype, device="meta").nbytes


def human_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def memory_table(shape: tuple[int, ...]) -> pd.DataFrame:
    """Bytes for `shape` in every available dtype."""
    numel = math.prod(shape)
    return pd.DataFrame(
        [
            {
                "dtype": f"torch.{name}",
                "bytes per element": dtype.itemsize,
                "elements": numel,
                "bytes": tensor_bytes(shape, dtype),
                "size": human_bytes(tensor_bytes(shape, dtype)),
            }
            for name, dtype in available_dtypes()
        ]
    )
