"""Shared fixtures: a fresh store per test, the shipped sample traces, and ../shared/traces when present."""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on POSIX: each worker builds its own store
    fcntl = None

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


@lru_cache(maxsize=1)
def _code_hash() -> str:
    """The hash of the code that writes a store (every .py, .sql and .toml under retime/) and of
    DuckDB's version: a store built by other code is built again."""
    import duckdb
    digest = hashlib.sha256(duckdb.__version__.encode())
    for path in sorted((ROOT / "retime").rglob("*")):
        if path.suffix in (".py", ".sql", ".toml") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def built_once(name: str, paths: list[Path]) -> Path:
    """A store of `paths`, built by the first worker of a test run that asks for it while the
    others wait on a file lock, and kept in .pytest_cache/stores/ under the hash of the code that
    wrote it and of the files' names and sizes: later workers and later runs of the same code read
    it instead of ingesting again. Copy it (copy_of) before writing to it."""
    digest = hashlib.sha256(_code_hash().encode())
    for path in paths:
        digest.update(f"{path}\0{path.stat().st_size if path.is_file() else 'dir'}\n".encode())
    folder = ROOT / ".pytest_cache" / "stores"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}-{digest.hexdigest()[:16]}.duckdb"
    with open(folder / f"{name}.lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            for old in folder.glob(f"{name}-*"):
                shutil.rmtree(old) if old.is_dir() else old.unlink()
            building = folder / f"{name}.building.duckdb"
            building.unlink(missing_ok=True)
            with retime.open(building) as s:
                s.ingest(paths)
            os.replace(building, target)
    return target


def copy_of(built: Path, folder: Path) -> Path:
    """A copy of a store built_once made, for one worker to open and write to."""
    copy = folder / built.name
    shutil.copyfile(built, copy)
    return copy


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
