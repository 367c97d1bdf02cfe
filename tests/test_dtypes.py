"""The dtype table and the stored-value explorer agree with torch, not with typed-in numbers."""

import math

import pytest
import torch

from playground.lessons import dtypes


@pytest.fixture(scope="module")
def rows():
    return {r.name: r for r in dtypes.dtype_rows()}


def test_covers_the_tutorials_eight_and_the_newer_dtypes(rows):
    for name in dtypes.TUTORIAL_DTYPES + ("bfloat16", "bool", "complex64", "complex128"):
        assert name in rows
    # the float8 / uint16-64 rows appear exactly when this torch has them
    for name in ("float8_e4m3fn", "float8_e5m2", "uint16", "uint32", "uint64"):
        assert (name in rows) == hasattr(torch, name)
    assert [r.name for r in rows.values() if r.in_tutorial] == list(dtypes.TUTORIAL_DTYPES)


@pytest.mark.parametrize("name", ["float32", "float64", "float16", "bfloat16", "float8_e4m3fn", "complex64"])
def test_float_rows_match_finfo(rows, name):
    if name not in rows:
        pytest.skip(f"this torch has no {name}")
    r, fi = rows[name], torch.finfo(getattr(torch, name))
    assert (r.min, r.max, r.eps, r.resolution, r.smallest_normal) == (
        fi.min,
        fi.max,
        fi.eps,
        fi.resolution,
        fi.smallest_normal,
    )
    assert r.bits == getattr(torch, name).itemsize * 8


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64", "uint64"])
def test_integer_rows_match_iinfo(rows, name):
    if name not in rows:
        pytest.skip(f"this torch has no {name}")
    r, ii = rows[name], torch.iinfo(getattr(torch, name))
    assert (r.min, r.max, r.eps) == (ii.min, ii.max, None)
    assert r.bits == ii.bits


def test_legacy_type_names_and_numpy(rows):
    assert rows["float32"].cpu_type == "torch.FloatTensor"
    assert rows["float32"].gpu_type == "torch.cuda.FloatTensor"
    assert rows["uint8"].cpu_type == "torch.ByteTensor"
    assert rows["float16"].cpu_type == "torch.HalfTensor"  # the tutorial's 2017 "N/A"
    assert rows["complex64"].cpu_type is None  # no legacy class, so no made-up name
    assert rows["int64"].numpy == "int64"
    assert rows["bfloat16"].numpy is None  # NumPy has no bfloat16


def test_arithmetic_column_is_found_by_trying(rows):
    assert rows["float32"].cpu_arithmetic == "yes"
    assert rows["float16"].cpu_arithmetic == "yes"  # half on the CPU works today
    assert "matmul" in rows["bool"].cpu_arithmetic  # no bool matmul on the CPU
    expected_gpu = "no GPU here" if not torch.cuda.is_available() else "yes"
    assert rows["float32"].gpu_arithmetic == expected_gpu


def test_table_is_display_strings_with_exact_integers(rows):
    df = dtypes.dtype_table(tuple(rows.values()))
    assert len(df) == len(rows)
    row = df[df["dtype"] == "torch.int64"].iloc[0]
    assert row["max"] == str(2**63 - 1)
    assert df[df["dtype"] == "torch.float16"].iloc[0]["max"] == "65504"


def by_dtype(value):
    return {s.dtype: s for s in dtypes.what_is_stored(value)}


def test_what_is_stored_rounding():
    s = by_dtype(dtypes.parse_number("0.1"))
    assert s["float64"].note == "exact" and s["float64"].error == 0
    assert s["float32"].stored == repr(float(torch.tensor(0.1, dtype=torch.float32)))
    assert s["float32"].note == "rounded"
    assert s["float32"].error == pytest.approx(float(torch.tensor(0.1)) - 0.1)
    assert s["int32"].stored == "0" and "truncated" in s["int32"].note


def test_what_is_stored_overflow_and_wraparound():
    s = by_dtype(dtypes.parse_number("70000"))
    assert s["float16"].stored == "inf" and s["float16"].note == "overflow → inf"
    assert s["int16"].stored == str(70000 - 65536) and "wrapped" in s["int16"].note
    assert s["int32"].note == "exact"
    s = by_dtype(-1)
    assert s["uint8"].stored == "255" and s["uint8"].error == 256
    assert s["bool"].stored == "True"


def test_huge_integer_and_nan_do_not_crash():
    assert by_dtype(dtypes.parse_number(str(2**64)))["float64"].note == "exact"
    s = by_dtype(dtypes.parse_number("nan"))
    assert s["float32"].note == "exact (NaN)" and s["float32"].error is None


def test_parse_number_and_shape():
    assert dtypes.parse_number("2_000") == 2000 and isinstance(dtypes.parse_number("7"), int)
    assert dtypes.parse_number("1e3") == 1000.0
    with pytest.raises(ValueError):
        dtypes.parse_number("abc")
    assert dtypes.parse_shape("64, 1, 28, 28") == (64, 1, 28, 28)
    assert dtypes.parse_shape("(3x4)") == (3, 4)
    with pytest.raises(ValueError):
        dtypes.parse_shape("3, -1")


def test_memory_matches_a_real_tensor_and_never_allocates():
    for name, dtype in dtypes.available_dtypes():
        real = torch.empty(3, 5, dtype=dtype)
        assert dtypes.tensor_bytes((3, 5), dtype) == real.numel() * real.element_size(), name
    # a terabyte-sized shape on the meta device costs nothing
    assert dtypes.tensor_bytes((1024, 1024, 1024, 256), torch.float32) == 2**40
    assert dtypes.human_bytes(2**40) == "1.00 TiB"
    assert dtypes.human_bytes(100) == "100 B"
    df = dtypes.memory_table((64, 1, 28, 28))
    assert df[df["dtype"] == "torch.float32"].iloc[0]["bytes"] == 64 * 28 * 28 * 4
    assert math.isclose(df[df["dtype"] == "torch.float64"].iloc[0]["bytes"], 64 * 28 * 28 * 8)
