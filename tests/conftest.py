"""Shared fixtures: a fresh store per test, the shipped sample traces, and ../shared/traces when present."""
from __future__ import annotations

import gzip
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
from retime.store import tables

import retime

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_TRACES = ROOT / "sample_traces"
SHARED_TRACES = ROOT.parent / "shared" / "traces"


@pytest.fixture
def store(tmp_path):
    with retime.open(tmp_path / "store.duckdb") as s:
        yield s


@pytest.fixture
def shared_traces() -> Path:
    if not SHARED_TRACES.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    return SHARED_TRACES


@contextmanager
def shared_store(tmp_path_factory, *paths: Path):
    """A store holding `paths` (files of ../shared/traces) and their trace ids, for a module-scoped
    fixture; skips where a file is absent."""
    if not all(p.is_file() for p in paths):
        pytest.skip("../shared/traces is not present in this checkout")
    with retime.open(tmp_path_factory.mktemp("shared") / "s.duckdb") as store:
        yield store, [r.trace_id for r in store.ingest(list(paths))]


def shared_json_traces() -> list[str]:
    """Every Chrome/Kineto JSON file under ../shared/traces (relative names), for parametrizing."""
    if not SHARED_TRACES.is_dir():
        return []
    names = []
    for path in sorted(SHARED_TRACES.rglob("*.json*")):
        if path.name.startswith("pytorch_et"):  # a PyTorch execution trace, not a profiler trace
            continue
        if path.parent.name == "derived":  # cut-off copies, checked against their originals
            continue
        if path.parent.name == "rocprof":  # rocprofv3 JSON, checked against its records in tests/ingest/test_rocprof.py
            continue
        names.append(str(path.relative_to(SHARED_TRACES)))
    return names


def load_json(path: Path):
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return orjson.loads(data)


STORE_TABLES = tables.names("base", "derived")


def table_counts(s: retime.Store) -> dict[str, int]:
    """Row counts of every store table: equal before and after a failed ingest."""
    return {t: s.sql(f"SELECT count(*) AS n FROM {t}")["n"][0] for t in STORE_TABLES}
