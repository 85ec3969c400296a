"""Ingesting files and job directories into the store, one transaction per file.

Each file either lands whole (traces, lanes, events, deps, counters rows) or not at all; a bad
file is reported in one line and the next file goes on. A file whose bytes are already in the
store is skipped, so re-running an ingest is safe.
"""
from __future__ import annotations

import gzip
import os
import re
import shutil
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Iterable

import duckdb
from retime.ingest import chrome, nsys, pytorch_et, rocprof, xplane
from retime.ingest.trace_row import TraceRow, to_json

from retime.store import jobs
from retime.store.derived import derive_trace
from retime.core.errors import RetimeError, TraceFormatError
from retime.core.sqlfiles import load_sql, scratch_tables
from retime.store import next_trace_id, transaction

PACKAGE = "retime.ingest"
TRACE_SUFFIXES = (".json", ".json.gz", ".sqlite", ".xplane.pb")


@dataclass
class IngestResult:
    """What happened to one file."""

    path: str
    status: str                      # 'ingested' | 'already' | 'failed'
    trace_id: int | None = None      # the first (often only) trace the file became
    trace_ids: list[int] = field(default_factory=list)
    ranks: list[int | None] = field(default_factory=list)
    format: str | None = None
    events: int = 0
    lanes: int = 0
    rank: int | None = None
    world_size: int | None = None
    seconds: float = 0.0
    size_bytes: int = 0
    json_bytes: int = 0
    sha256: str | None = None        # of the file's bytes: what "already in the store" compares first
    same: str = "bytes"              # an 'already' file's match: 'bytes' (its sha256) or 'events' (another file of that trace)
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


def skipped_files(paths: Iterable[str | os.PathLike]) -> dict[Path, list[Path]]:
    """Per directory given, the files under it that expand_paths leaves out (their names do not end
    in a trace suffix), so an ingest can say what it did not read."""
    skipped = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            others = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.endswith(TRACE_SUFFIXES))
            if others:
                skipped[path] = others
    return skipped


def settle_folder_jobs(con: duckdb.DuckDBPyConnection, files: list[tuple[Path, str | None]],
                       results: list[IngestResult]) -> None:
    """A folder's files form the job named after it only when they look like the ranks of one run:
    every trace names a rank, no rank twice, one world size, first events within an hour
    (retime/store/jobs.py). Otherwise the files just ingested leave that job (job NULL) and each says
    why in its warnings (not when no file names a rank and nothing else disagrees: profiles of
    single processes, which were no job to begin with). Traces already in the job stay in it."""
    new: dict[str, list[IngestResult]] = {}
    for (_, folder), result in zip(files, results):
        if folder is not None and result.status == "ingested":
            new.setdefault(folder, []).append(result)
    for folder, landed in new.items():
        ids = [t for r in landed for t in r.trace_ids]
        check = jobs.problems(con, folder)  # no traces (the files named their own job, as an nsys report does): no reasons
        if not check.reasons:
            continue
        con.execute(load_sql(PACKAGE, "folder_job_clear"), {"job": folder, "ids": ids}).fetchall()
        if check.single_processes:
            continue  # single-process profiles of one session (no rank anywhere): no job, and nothing to warn of
        note = (f"not grouped into job {folder!r} (the folder's name): its files are not the ranks of one run: "
                f"{'; '.join(check.reasons)}. Give them a job (job=NAME, --job NAME) to group them anyway")
        for result in landed:
            result.warnings.append(note)


class SameEvents(Exception):
    """Raised inside an ingest's transaction (so it rolls back) when the file's first trace holds
    the same events as a stored trace: another file of one trace."""

    def __init__(self, trace_id: int):
        super().__init__(trace_id)
        self.trace_id = trace_id


def check_not_stored(con: duckdb.DuckDBPyConnection, trace_id: int) -> None:
    """Raise SameEvents when a trace stored before `trace_id` holds the same events
    (find_same_events.sql, with the macros the readers define first): a re-compressed or copied
    file is not stored twice."""
    found = con.execute(load_sql(PACKAGE, "find_same_events"), {"trace_id": trace_id}).fetchall()
    if found and found[0][0] is not None:
        raise SameEvents(found[0][0])


def mark_same_events(result: IngestResult, stored: SameEvents) -> None:
    """The result of a file whose events the store already held, pointing at that trace."""
    result.status, result.same, result.trace_id, result.trace_ids = "already", "events", stored.trace_id, [stored.trace_id]
    result.events = result.lanes = 0


def _is_xplane(path: Path, head: bytes) -> bool:
    """A protobuf file (not JSON) whose first plane is named like XPlane's ("/host:...", "/device:...")."""
    return path.name.endswith(".pb") or (head[:1] not in b"{[ \t\r\n" and (b"/host:" in head or b"/device:" in head))


# a PyTorch execution trace opens with its schema version (ExecutionTraceObserver writes it first)
ET_HEAD = re.compile(rb'^\s*\{\s*"schema"\s*:\s*"\d+\.')


def _head(path: Path, size: int = 4096) -> bytes:
    """The first bytes of a file's content, decompressed where it is gzip (b'' where it cannot be read)."""
    with open(path, "rb") as fh:
        head = fh.read(size)
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read(size)
        except (OSError, EOFError, zlib.error):  # a damaged stream: the JSON reader says how it is damaged
            return head
    return head


def links_to_stored(path: Path) -> bool:
    """Whether a file is read into a trace already stored (a PyTorch execution trace, linked to its
    Kineto trace) rather than into traces of its own: a parallel ingest leaves it to the writer."""
    try:
        return path.is_file() and reader_for(path) is pytorch_et
    except (OSError, TraceFormatError):
        return False


def reader_for(path: Path):
    """The reader module for a file, by its content: SQLite databases are Nsight Systems exports,
    JSON under a `rocprofiler-sdk-tool` key is rocprofv3's, a protobuf of XPlane's planes is an
    XPlane (JAX / TensorFlow profiler), one with a `schema` and `nodes` a PyTorch execution trace
    (linked to its stored Kineto trace), everything else is read as Chrome/Kineto JSON (which reports what it is when it is not). A
    format retime recognises but does not read is refused here, by name, with what to do instead."""
    head = _head(path)
    if head.startswith(b"SQLite format 3"):
        return nsys
    if b'"rocprofiler-sdk-tool"' in head:
        return rocprof
    if _is_xplane(path, head):
        return xplane
    if ET_HEAD.match(head):
        return pytorch_et
    return chrome


def ingest_file(con: duckdb.DuckDBPyConnection, path: str | os.PathLike, job: str | None = None,
                on_bytes: Callable[[int], None] | None = None, folder_job: str | None = None,
                known_sha256: Collection[str] = ()) -> IngestResult:
    """Ingest one file; never raises for a bad file, the result says what went wrong.

    The job is `job` when given, else what the file itself says (an nsys report of several ranks
    is one job), else `folder_job` (the folder the file was found in). A file whose hash is in
    `known_sha256` (held by a store other than `con`, as in a parallel ingest's workers) is
    reported 'already' without a trace id, and not loaded."""
    path = Path(path)
    started = time.perf_counter()
    result = IngestResult(path=str(path), status="failed")
    work_dir = Path(tempfile.mkdtemp(prefix="retime-ingest-"))
    try:
        if not path.is_file():
            raise TraceFormatError(f"{path}: no such file")
        reader = reader_for(path)
        prepared = reader.prepare(path, work_dir, on_bytes)
        result.size_bytes, result.json_bytes, result.sha256 = prepared.size_bytes, prepared.json_bytes, prepared.sha256
        if prepared.sha256 in known_sha256:
            result.status = "already"
            return result
        existing = con.execute(load_sql(PACKAGE, "find_by_sha"), {"sha256": prepared.sha256}).fetchall()
        if existing:
            result.status, result.trace_id = "already", existing[0][0]
            result.trace_ids = [r[0] for r in existing]
            return result
        try:
            rows = _write(con, path, reader, prepared, job, folder_job)
        except SameEvents as stored:
            mark_same_events(result, stored)
            return result
        result.status, result.format = "ingested", rows[0].format
        result.trace_ids = [r.trace_id for r in rows]
        result.trace_id = rows[0].trace_id
        result.events = sum(r.event_count for r in rows)
        result.lanes = sum(r.lane_count for r in rows)
        result.ranks = [r.rank for r in rows]
        result.rank, result.world_size = rows[0].rank, rows[0].world_size
        result.warnings = list(dict.fromkeys(w for r in rows for w in r.warnings))
    except RetimeError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"{path}: cannot read: {exc.strerror or exc}"
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
        result.seconds = time.perf_counter() - started
    return result


def _write(con: duckdb.DuckDBPyConnection, path: Path, reader, prepared, job: str | None,
           folder_job: str | None) -> list[TraceRow]:
    """The file's records staged in temporary tables first, outside any transaction (what a
    transaction appends, DuckDB holds until it ends: staging inside one cost 1.4 GB more at the
    peak of a 1 GB nsys export), then all its traces in one transaction: the store gains all of
    them or none. The staging tables are dropped either way."""
    try:
        with scratch_tables(con):
            reader.stage(con, prepared)
            with transaction(con):
                return _load(con, path, reader, prepared, job, folder_job)
    except duckdb.Error as exc:
        raise TraceFormatError(reader.explain(path, prepared, exc)) from None


def _load(con: duckdb.DuckDBPyConnection, path: Path, reader, prepared, job: str | None,
          folder_job: str | None) -> list[TraceRow]:
    """Inside the file's transaction: its traces from the staged records, derived and described."""
    rows = reader.load(con, prepared, lambda: next_trace_id(con))
    for row in rows:
        derive_trace(con, row.trace_id)
        con.execute(load_sql(PACKAGE, "insert_trace"), {
            "trace_id": row.trace_id, "job": job or row.job or folder_job, "format": row.format,
            "source_path": str(path.resolve()), "sha256": row.sha256, "size_bytes": row.size_bytes,
            "rank": row.rank, "world_size": row.world_size, "backend": row.backend, "gpu_names": row.gpu_names,
            "device_properties": to_json(row.device_properties), "distributed_info": to_json(row.distributed_info),
            "metadata": to_json(row.metadata), "time_base_ns": row.time_base_ns, "start_ns": row.start_ns,
            "end_ns": row.end_ns, "event_count": row.event_count, "warnings": row.warnings,
        }).fetchall()
    check_not_stored(con, rows[0].trace_id)
    return rows
