"""An ingest, a replay and a query never import pandas: pyarrow's constructors and conversions import
it wherever it is installed (0.2 s and ~50 MB a process), so the library makes and reads its Arrow
arrays through retime/core/arrow.py instead, and reads Parquet through DuckDB."""
from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from retime.core import arrow

ROOT = Path(__file__).resolve().parents[2]
# the calls that import pandas, by attribute name (pa.array, pa.table, table.to_numpy(), ...)
IMPORTS_PANDAS = {"array", "table", "chunked_array", "scalar", "from_pylist", "to_numpy", "read_table", "fill_null",
                  "combine_chunks", "to_pandas"}
# where they stay: the exports run on their own command, and rocprof's records are Python dicts
# whose struct type pyarrow infers
ALLOWED = {"retime/core/arrow.py", "retime/ingest/rocprof.py"}


def calls(path: Path) -> list[str]:
    """`owner.attribute` for each call of an attribute IMPORTS_PANDAS names, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in IMPORTS_PANDAS:
            owner = ast.unparse(node.func.value)
            if owner in ("arrow", "np", "numpy") or owner.startswith("np."):
                continue
            found.append(f"{node.lineno}: {owner}.{node.func.attr}")
    return found


def test_the_library_calls_no_pyarrow_constructor_or_conversion_that_imports_pandas():
    library = [p for p in sorted((ROOT / "retime").rglob("*.py")) if "export" not in p.parts]
    offenders = {str(p.relative_to(ROOT)): calls(p) for p in library if str(p.relative_to(ROOT)) not in ALLOWED}
    assert {p: c for p, c in offenders.items() if c} == {}


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas is not installed")
def test_an_ingest_a_replay_and_a_query_leave_pandas_unimported(tmp_path):
    trace = ROOT / "sample_traces" / "gpu_h100" / "h2d_pageable.pt.trace.json.gz"
    script = f"""
import sys, retime
with retime.open({str(tmp_path / 's.duckdb')!r}) as store:
    [result] = store.ingest({str(trace)!r})
    store.replay(result.trace_id, ["pcie.h2d=2x"], save=True)
    store.replay(result.trace_id, store.scenario(result.trace_id, to="a100"))
    store.query("temporal_breakdown", result.trace_id)
print("pandas" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_arrays_from_buffers_equal_pyarrows_own():
    ints = np.array([3, -1, 7, 0], np.int64)
    mask = np.array([False, True, False, False])
    assert arrow.column(ints, mask).equals(pa.array(ints, mask=mask))
    assert arrow.column(ints[::2]).equals(pa.array(ints[::2]))
    assert arrow.column(ints > 0, mask).equals(pa.array(ints > 0, mask=mask))
    assert arrow.column(ints, type=pa.int32()).equals(pa.array(ints, pa.int32()))
    assert arrow.strings(["a", None, "héllo", ""]).equals(pa.array(["a", None, "héllo", ""], pa.string()))
    assert arrow.numbers([1.5, None], pa.float64()).equals(pa.array([1.5, None], pa.float64()))
    assert arrow.numbers([2, None], pa.int32()).equals(pa.array([2, None], pa.int32()))
    table = arrow.table({"x": np.arange(3, dtype=np.int32), "y": arrow.strings(["a", "b", None])})
    assert table.equals(pa.table({"x": pa.array([0, 1, 2], pa.int32()), "y": pa.array(["a", "b", None])}))


def test_numpy_from_columns_equals_pyarrows_own():
    column = pa.chunked_array([pa.array([1, 2, None, 4]), pa.array([5, None])])
    assert arrow.to_numpy(column).tolist() == [1, 2, 0, 4, 5, 0]
    assert arrow.to_numpy(column, np.int8, fill=-1).tolist() == [1, 2, -1, 4, 5, -1]
    assert arrow.valid(column).tolist() == [True, True, False, True, True, False]
    flags = pa.chunked_array([pa.array([True, None, False]), pa.array([True])])
    assert arrow.to_numpy(flags).tolist() == [True, False, False, True]
    sliced = pa.array(np.arange(20)).slice(3, 5)
    assert arrow.to_numpy(sliced).tolist() == sliced.to_numpy().tolist()
    assert arrow.to_numpy(pa.array([True, False] * 9).slice(5, 7)).tolist() == [False, True, False, True, False, True, False]
    assert len(arrow.to_numpy(pa.chunked_array([], pa.int64()))) == 0
