"""Replay graphs kept on disk, so each trace's graph is built once: a replay, a sweep or a job
replay after the first reads the arrays back instead of running the graph SQL again.

The cache sits beside the store (`STORE.replay-cache/`), one folder of .npy files per trace, keyed
by what could change the graph: the trace (id, content hash, event count, when it was stored) and
the replayer itself (its SQL files and constants). A graph read back is mapped from its files, not
copied (copy-on-write: a caller may still change its arrays), so a replay of a large cached graph
starts at once and reads only the pages it touches. A store whose folder cannot be written simply
builds graphs every time.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

import duckdb
import numpy as np

from retime import foundation
from retime.core.progress import Progress
from retime.replay import graph as replay_graph
from retime.core.sqlfiles import load_sql

ARRAYS = ("measured", "indptr", "src", "base_lag", "edge_class", "bytes", "offset", "point_event", "point_is_end",
          "point_lane", "point_is_gpu", "point_name", "point_gpu_class", "point_flop_per_byte", "point_roof",
          "point_shape", "kernel_shapes")


@lru_cache(maxsize=1)
def replayer_version() -> str:
    """A digest of everything that shapes a graph besides the trace: the graph SQL and the array
    build (graph_build.py, graph_passes.py), the shared macros they use, the kernel class rules and
    the GPU presets (the ridge point) they read, and the engine's constants."""
    digest = hashlib.sha256()
    package = resources.files("retime.replay")
    for item in sorted(package.joinpath("sql").iterdir(), key=lambda f: f.name):
        if item.name.startswith("graph_"):
            digest.update(item.read_bytes())
    for module in ("graph.py", "graph_build.py", "graph_passes.py"):
        digest.update(package.joinpath(module).read_bytes())
    for module in foundation.modules():
        digest.update(foundation.text(module).encode())
    for file in foundation.DATA_FILES:
        digest.update(foundation.data_text(file).encode())
    digest.update(repr((replay_graph.QUEUE_GAP_NS, replay_graph.THREAD_WAKE_NS, replay_graph.THREAD_IDLE_NS, replay_graph.EDGE_CLASSES,
                        replay_graph.BACKPRESSURE_DEPTH_SHARE, replay_graph.BACKPRESSURE_SLOW_FACTOR)).encode())
    return digest.hexdigest()[:16]


def _path(con: duckdb.DuckDBPyConnection, trace_id: int, folder: Path) -> Path:
    """Where the cache keeps this trace's current graph."""
    key = con.execute(load_sql("retime.replay", "graph_cache_key"), {"trace_id": trace_id}).fetchall()
    stamp = hashlib.sha256(repr((key, replayer_version())).encode()).hexdigest()[:20]
    return folder / f"trace_{trace_id}_{stamp}"


def cached(con: duckdb.DuckDBPyConnection, trace_id: int, store_path: str | None) -> bool:
    """Whether the cache holds this trace's current graph (a replay will not build it)."""
    folder = _folder(store_path)
    return folder is not None and _path(con, trace_id, folder).is_dir()


def graph(con: duckdb.DuckDBPyConnection, trace_id: int, store_path: str | None,
          progress: Progress | None = None) -> replay_graph.ReplayGraph:
    """The replay graph of a trace, from the cache when it holds this trace's current graph.
    `progress` hears how a build goes (nothing when the graph is read back)."""
    folder = _folder(store_path)
    if folder is None:
        return replay_graph.build_graph(con, trace_id, progress)
    path = _path(con, trace_id, folder)
    if path.is_dir():
        try:
            return _load(path, trace_id)
        except (OSError, ValueError, EOFError):
            shutil.rmtree(path, ignore_errors=True)  # a damaged cached graph is rebuilt, never trusted
    built = replay_graph.build_graph(con, trace_id, progress)
    _save(folder, path, built)
    return built


def _folder(store_path: str | None) -> Path | None:
    if not store_path or store_path == ":memory:":
        return None
    folder = Path(f"{store_path}.replay-cache")
    try:
        folder.mkdir(exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def _save(folder: Path, path: Path, g: replay_graph.ReplayGraph) -> None:
    arrays = {name: getattr(g, name) for name in ARRAYS}
    arrays.update(origin_ns=np.int64(g.origin_ns), names=np.array(g.names, dtype=np.str_))
    try:  # written aside, then renamed: a reader never sees half a graph
        aside = Path(tempfile.mkdtemp(dir=folder, prefix=".building_"))
    except OSError:
        return
    try:
        for name, array in arrays.items():
            np.save(aside / f"{name}.npy", array, allow_pickle=False)
        os.replace(aside, path)
        for stale in folder.glob(f"trace_{g.trace_id}_*"):  # earlier graphs of the trace (and .npz files of old versions)
            if stale == path:
                continue
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
    except OSError:  # a full disk, a read-only folder, or another process that kept it first: the graph is still returned
        shutil.rmtree(aside, ignore_errors=True)


def _load(path: Path, trace_id: int) -> replay_graph.ReplayGraph:
    def read(name: str, mapped: bool = True) -> np.ndarray:
        return np.asarray(np.load(path / f"{name}.npy", mmap_mode="c" if mapped else None, allow_pickle=False))
    return replay_graph.ReplayGraph(trace_id=trace_id, origin_ns=int(read("origin_ns", False)),
                                    names=read("names", False).tolist(), **{name: read(name) for name in ARRAYS})
