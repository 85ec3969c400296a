"""Ingesting many files at once: worker processes read and normalize the files into staging stores
of their own, and this process, the store's one writer, copies the staged traces in under new ids,
in the order the files were given.

DuckDB allows one writer per store file, so the workers never touch the user's store; everything
costly (parsing, normalizing, building edges) happens in them, and the commit is a columnar copy.
Small files travel in batches: a worker reads a batch's files one after another into one staging
store (each file in its own transaction there, so a bad file fails alone), and the writer commits
the batch in one transaction with one statement per table, so a job of many small ranks pays the
staging store, the attach and the statements' planning once per batch rather than once per file.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import numpy as np
from retime.ingest.pipeline import IngestResult, ingest_file

from retime.core import arrow
from retime.core.errors import StoreError
from retime.ingest import define_macros
from retime.core.sqlfiles import load_sql
from retime.store import configure, connect, next_trace_id, tables, transaction

PACKAGE = "retime.ingest"
SMALL_FILE_BYTES = 4 << 20    # files up to this size on disk share a batch (a DLRM rank is 77 kB, an A100 rank 4.7 MB)
BATCH_BYTES = 16 << 20        # a batch holds at most this many bytes of files
BATCH_FILES = 32              # and at most this many files
BATCHES_PER_WORKER = 4        # enough batches that the workers finish together


_known_sha256: frozenset[str] = frozenset()  # in a worker: the hashes the store held when the ingest began


def _remember(known: frozenset[str]) -> None:
    global _known_sha256
    _known_sha256 = known


def batches(sizes: list[int], workers: int) -> list[list[int]]:
    """The files' indexes in batches, in order: a file above SMALL_FILE_BYTES alone, runs of small
    files together, each batch within BATCH_BYTES and BATCH_FILES and small enough that there are
    BATCHES_PER_WORKER batches for each worker."""
    small = sum(1 for size in sizes if size <= SMALL_FILE_BYTES)
    most = max(1, min(BATCH_FILES, small // (workers * BATCHES_PER_WORKER)))
    groups: list[list[int]] = []
    current: list[int] = []
    current_bytes = 0
    for n, size in enumerate(sizes):
        if size > SMALL_FILE_BYTES:
            if current:
                groups.append(current)
            groups.append([n])
            current, current_bytes = [], 0
            continue
        if current and (len(current) >= most or current_bytes + size > BATCH_BYTES):
            groups.append(current)
            current, current_bytes = [], 0
        current.append(n)
        current_bytes += size
    if current:
        groups.append(current)
    return groups


def _stage(paths: list[str], jobs: list[str | None], job: str | None, stage_db: str, threads: int,
           memory_limit: str | None) -> list[IngestResult]:
    """In a worker: ingest a batch of files, one after another, into one fresh staging store, each
    unless the store already holds it. A file repeating an earlier one of the batch is 'already',
    pointing at the staged trace."""
    stage = connect(stage_db)  # through the store module, as the front door opens stores
    try:
        configure(stage, threads=threads, memory_limit=memory_limit)
        return [ingest_file(stage, path, job=job, folder_job=folder_job, known_sha256=_known_sha256)
                for path, folder_job in zip(paths, jobs)]
    finally:
        stage.close()


def ingest_many(con: duckdb.DuckDBPyConnection, files: list[tuple[Path, str | None]], job: str | None,
                workers: int, memory_limit: str | None = None,
                on_result: Callable[[IngestResult], None] | None = None) -> Iterator[IngestResult]:
    """Ingest `files` ((path, folder job) pairs) with `workers` processes; yields one result per
    file, in the given order, each after its traces are committed (or found already stored)."""
    stage_dir = Path(tempfile.mkdtemp(prefix="retime-stage-"))
    threads = max(1, (os.cpu_count() or 1) // workers)
    # spawn, not fork: this process holds an open DuckDB connection a forked child must not inherit
    context = multiprocessing.get_context("spawn")
    known = frozenset(row[0] for row in con.execute(load_sql(PACKAGE, "known_sha256")).fetchall())
    define_macros(con)  # stored_with_same_events, for the commits' checks
    groups = batches([_size(path) for path, _ in files], workers)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_remember,
                                 initargs=(known,)) as pool:
            futures = [pool.submit(_stage, [str(files[i][0]) for i in group], [files[i][1] for i in group], job,
                                   str(stage_dir / f"{n}.duckdb"), threads, memory_limit)
                       for n, group in enumerate(groups)]
            for n, (group, future) in enumerate(zip(groups, futures)):
                staged = stage_dir / f"{n}.duckdb"
                try:
                    results = future.result()
                except Exception as exc:  # a worker that died (killed, out of memory) fails its batch only
                    results = [IngestResult(path=str(files[i][0]), status="failed",
                                            error=f"{files[i][0]}: the worker reading it stopped ({type(exc).__name__}: {exc})")
                               for i in group]
                if any(r.status != "failed" for r in results):
                    _commit(con, staged, results)
                for leftover in (staged, Path(f"{staged}.wal")):
                    leftover.unlink(missing_ok=True)
                for result in results:
                    if on_result:
                        on_result(result)
                    yield result
    finally:
        shutil.rmtree(stage_dir, ignore_errors=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # the worker says what is wrong with it
        return 0


def _commit(con: duckdb.DuckDBPyConnection, staged: Path, results: list[IngestResult]) -> None:
    """Copy a staged batch's traces into the store under new ids, in one transaction; a file the
    store holds already (its bytes, or another file of its trace) is marked 'already', pointing at
    the stored trace, and so is one repeating an earlier file of the batch."""
    try:
        con.execute(f"ATTACH '{staged}' AS staged (READ_ONLY)").fetchall()
    except duckdb.Error as exc:
        raise StoreError(f"{results[0].path}: its staging store could not be opened ({exc})") from None
    try:
        with transaction(con):
            resolved: dict[int, int] = {}  # staged trace id -> the store's
            copied: dict[int, int] = {}    # the same, for the traces copied in
            for result in results:
                if result.status == "ingested":
                    _place(con, result, resolved, copied)
                elif result.status == "already" and result.trace_ids:  # an earlier file of the batch
                    result.trace_ids = [resolved[t] for t in result.trace_ids]
                    result.trace_id = result.trace_ids[0]
                elif result.status == "already":  # the worker skipped it: the store says which trace
                    _point_at_stored(con, result)
            if copied:
                con.register("staged_ids", arrow.table({"old_id": np.fromiter(copied, np.int64, len(copied)),
                                                        "new_id": np.fromiter(copied.values(), np.int64, len(copied))}))
                try:
                    con.execute(tables.statements("commit_staged", *tables.PER_TRACE)).fetchall()
                finally:
                    con.unregister("staged_ids")
    finally:
        con.execute("DETACH staged").fetchall()


def _place(con: duckdb.DuckDBPyConnection, result: IngestResult, resolved: dict[int, int],
           copied: dict[int, int]) -> None:
    """New ids for a staged file's traces (in `copied`), unless the store holds the file already:
    its bytes (committed by an earlier batch) or its events (another file of a stored trace, as a
    one-by-one ingest leaves it)."""
    staged_ids = result.trace_ids
    if not _point_at_stored(con, result):
        same = con.execute(load_sql(PACKAGE, "find_same_events_staged"), {"old_id": staged_ids[0]}).fetchall()[0][0]
        if same is None:
            new_ids = [next_trace_id(con) for _ in staged_ids]
            copied.update(zip(staged_ids, new_ids))
            resolved.update(zip(staged_ids, new_ids))
            result.trace_ids, result.trace_id = new_ids, new_ids[0]
            return
        result.status, result.same, result.trace_id, result.trace_ids = "already", "events", same, [same]
    result.events = result.lanes = 0
    resolved.update((t, result.trace_id) for t in staged_ids)


def _point_at_stored(con: duckdb.DuckDBPyConnection, result: IngestResult) -> bool:
    """If the store holds a file with the result's hash, mark the result 'already', pointing at it."""
    existing = con.execute(load_sql(PACKAGE, "find_by_sha"), {"sha256": result.sha256}).fetchall()
    if existing:
        result.status, result.trace_id, result.trace_ids = "already", existing[0][0], [r[0] for r in existing]
    return bool(existing)
