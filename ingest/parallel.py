"""Ingesting many files at once: worker processes read and normalize each file into a staging
store of their own, and this process, the store's one writer, copies each staged file's traces in
under new ids, one transaction per file, in the order the files were given.

DuckDB allows one writer per store file, so the workers never touch the user's store; everything
costly (parsing, normalizing, building edges) happens in them, and the commit is a columnar copy.
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
from retime.ingest.pipeline import IngestResult, SameEvents, check_not_stored, ingest_file, mark_same_events

from retime.errors import StoreError
from retime.sqlfiles import load_sql, run_script, set_variables
from retime.store import configure, connect, next_trace_id, transaction

PACKAGE = "retime.ingest"


_known_sha256: frozenset[str] = frozenset()  # in a worker: the hashes the store held when the ingest began


def _remember(known: frozenset[str]) -> None:
    global _known_sha256
    _known_sha256 = known


def _stage(path: str, job: str | None, folder_job: str | None, stage_db: str, threads: int,
           memory_limit: str | None) -> IngestResult:
    """In a worker: ingest one file into a fresh staging store, unless the store already holds it."""
    stage = connect(stage_db)  # through the store module, as the front door opens stores
    try:
        configure(stage, threads=threads, memory_limit=memory_limit)
        return ingest_file(stage, path, job=job, folder_job=folder_job, known_sha256=_known_sha256)
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
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_remember,
                                 initargs=(known,)) as pool:
            futures = [pool.submit(_stage, str(path), job, folder_job, str(stage_dir / f"{n}.duckdb"), threads,
                                   memory_limit)
                       for n, (path, folder_job) in enumerate(files)]
            for n, future in enumerate(futures):
                staged = stage_dir / f"{n}.duckdb"
                try:
                    result = future.result()
                except Exception as exc:  # a worker that died (killed, out of memory) fails its file only
                    result = IngestResult(path=str(files[n][0]), status="failed",
                                          error=f"{files[n][0]}: the worker reading it stopped ({type(exc).__name__}: {exc})")
                if result.status == "ingested":
                    _commit(con, staged, result)
                elif result.status == "already":  # the worker skipped it: the store says which trace
                    _point_at_stored(con, result)
                for leftover in (staged, Path(f"{staged}.wal")):
                    leftover.unlink(missing_ok=True)
                if on_result:
                    on_result(result)
                yield result
    finally:
        shutil.rmtree(stage_dir, ignore_errors=True)


def _commit(con: duckdb.DuckDBPyConnection, staged: Path, result: IngestResult) -> None:
    """Copy a staged file's traces into the store under new ids, or mark it as already there."""
    try:
        con.execute(f"ATTACH '{staged}' AS staged (READ_ONLY)").fetchall()
    except duckdb.Error as exc:
        raise StoreError(f"{result.path}: its staging store could not be opened ({exc})") from None
    try:
        if _point_at_stored(con, result):  # an identical file committed earlier in this ingest
            result.events = result.lanes = 0
            return
        new_ids = []
        try:
            with transaction(con):
                for old_id in result.trace_ids:
                    new_id = next_trace_id(con)
                    set_variables(con, old_id=old_id, new_id=new_id)
                    run_script(con, PACKAGE, "commit_staged")
                    new_ids.append(new_id)
                check_not_stored(con, new_ids[0])
        except SameEvents as stored:  # another file of a trace the store holds: as a one-by-one ingest leaves it
            mark_same_events(result, stored)
            return
        result.trace_ids, result.trace_id = new_ids, new_ids[0]
    finally:
        con.execute("DETACH staged").fetchall()


def _point_at_stored(con: duckdb.DuckDBPyConnection, result: IngestResult) -> bool:
    """If the store holds a file with the result's hash, mark the result 'already', pointing at it."""
    existing = con.execute(load_sql(PACKAGE, "find_by_sha"), {"sha256": result.sha256}).fetchall()
    if existing:
        result.status, result.trace_id, result.trace_ids = "already", existing[0][0], [r[0] for r in existing]
    return bool(existing)
