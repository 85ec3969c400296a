"""Ingesting files and job directories into the store, one transaction per file.

Each file either lands whole (traces, lanes, events, deps, counters rows) or not at all; a bad
file is reported in one line and the next file goes on. A file whose bytes are already in the
store is skipped, so re-running an ingest is safe.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import duckdb

from retime.errors import RetimeError, TraceFormatError
from retime.ingest import chrome
from retime.sqlfiles import load_sql

PACKAGE = "retime.ingest"
TRACE_SUFFIXES = (".json", ".json.gz", ".sqlite")


@dataclass
class IngestResult:
    """What happened to one file."""

    path: str
    status: str                      # 'ingested' | 'already' | 'failed'
    trace_id: int | None = None
    format: str | None = None
    events: int = 0
    lanes: int = 0
    rank: int | None = None
    world_size: int | None = None
    seconds: float = 0.0
    size_bytes: int = 0
    json_bytes: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[tuple[Path, str | None]]:
    """Files to ingest, each with the job it belongs to.

    The per-rank files of one job sit together in one directory, so a file found inside a directory
    given on the command line belongs to the job named after the folder that holds it
    (`run/rank0.json` -> job `run`; `traces/jobA/rank3.json` -> job `jobA`).
    """
    found: list[tuple[Path, str | None]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            members = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(TRACE_SUFFIXES))
            found.extend((p, p.parent.resolve().name) for p in members)
        else:
            found.append((path, None))
    return found


def ingest_file(con: duckdb.DuckDBPyConnection, path: str | os.PathLike, job: str | None = None,
                on_bytes: Callable[[int], None] | None = None) -> IngestResult:
    """Ingest one file; never raises for a bad file, the result says what went wrong."""
    path = Path(path)
    started = time.perf_counter()
    result = IngestResult(path=str(path), status="failed")
    work_dir = Path(tempfile.mkdtemp(prefix="retime-ingest-"))
    try:
        if not path.is_file():
            raise TraceFormatError(f"{path}: no such file")
        split = chrome.prepare(path, work_dir, on_bytes)
        result.size_bytes, result.json_bytes = split.size_bytes, split.json_bytes
        existing = con.execute(load_sql(PACKAGE, "find_by_sha"), {"sha256": split.sha256}).fetchall()
        if existing:
            result.status, result.trace_id = "already", existing[0][0]
            return result
        row, trace_id = _write(con, path, split, job)
        result.status, result.trace_id, result.format = "ingested", trace_id, row.format
        result.events, result.lanes, result.rank, result.world_size = row.event_count, row.lane_count, row.rank, row.world_size
        result.warnings = row.warnings
    except RetimeError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"{path}: cannot read: {exc.strerror or exc}"
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
        result.seconds = time.perf_counter() - started
    return result


def _write(con: duckdb.DuckDBPyConnection, path: Path, split, job: str | None):
    con.execute("BEGIN TRANSACTION").fetchall()
    try:
        trace_id = con.execute("SELECT nextval('trace_id_seq')").fetchall()[0][0]
        row = chrome.load(con, split, trace_id)
        con.execute(load_sql(PACKAGE, "insert_trace"), {
            "trace_id": trace_id, "job": job, "format": row.format, "source_path": str(path.resolve()),
            "sha256": row.sha256, "size_bytes": row.size_bytes, "rank": row.rank, "world_size": row.world_size,
            "backend": row.backend, "gpu_names": row.gpu_names,
            "device_properties": chrome.to_json(row.device_properties),
            "distributed_info": chrome.to_json(row.distributed_info),
            "metadata": chrome.to_json(row.metadata), "time_base_ns": row.time_base_ns,
            "start_ns": row.start_ns, "end_ns": row.end_ns, "event_count": row.event_count,
            "warnings": row.warnings,
        }).fetchall()
        con.execute("COMMIT").fetchall()
        return row, trace_id
    except BaseException as exc:
        con.execute("ROLLBACK").fetchall()
        if isinstance(exc, duckdb.Error):
            raise TraceFormatError(_explain(path, split.events_path, exc)) from None
        raise


def _explain(path: Path, events_path: Path, exc: duckdb.Error) -> str:
    """DuckDB's message, pointed at the user's file instead of retime's working copy."""
    text = str(exc).strip().splitlines()[0]
    for written in (f'in file "{events_path}"', f'"{events_path}"', str(events_path)):
        text = text.replace(written, "in the events array" if written.startswith("in file") else "the events array")
    return f"{path}: {text}"
