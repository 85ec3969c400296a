"""Reader for Nsight Systems SQLite exports (`nsys export --type sqlite`).

The report's tables are read straight into Arrow by the ADBC SQLite driver (no row-by-row
Python), in rowid ranges on as many threads as the store's DuckDB has, conformed to the column
templates in sql/nsys_tables.sql, and normalized by the nsys_*.sql
steps into the same kinds, lanes and edges a Kineto trace gets. A report holding several CUDA
processes becomes one trace per process: the ranks of one job.
"""
from __future__ import annotations

import sqlite3
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import adbc_driver_manager
import duckdb
import orjson
import pyarrow as pa
from retime.ingest.trace_row import TraceRow, file_digest

from retime.core.errors import TraceFormatError
from retime.ingest import define_macros
from retime.core.sqlfiles import load_sql, one_row, run_script, set_variables

PACKAGE = "retime.ingest"
ACTIVITY_TABLES = ("CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_MEMCPY", "CUPTI_ACTIVITY_KIND_MEMSET",
                   "CUPTI_ACTIVITY_KIND_RUNTIME", "CUPTI_ACTIVITY_KIND_DRIVER", "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION",
                   "NVTX_EVENTS", "OSRT_API")
TEMPLATE_PREFIX = "nsys_"
# Rows of one read: the share of a table one thread reads, and one Arrow batch, so the driver infers
# each column's type from all of a part's rows (it infers from a batch's rows, and fails at a later
# batch whose values have another type: 1,024 NULL texts, then a text).
PART_ROWS = 1 << 19


@dataclass
class NsysReport:
    """An Nsight Systems SQLite export as found on disk, before its rows are read."""
    path: Path
    sha256: str
    size_bytes: int
    json_bytes: int                      # the bytes read (the whole file), for throughput reports
    tables: dict[str, set[str]] = field(default_factory=dict)   # table -> its columns


def _read(path: Path, query: str) -> pa.Table:
    """One query's rows as Arrow, through a connection of its own (a thread's); the driver's
    low-level API, whose import costs milliseconds where its DB-API module's costs most of a second."""
    import adbc_driver_sqlite
    with adbc_driver_sqlite.connect(f"file:{path}?mode=ro") as db, adbc_driver_manager.AdbcConnection(db) as conn, \
            adbc_driver_manager.AdbcStatement(conn) as statement:
        statement.set_options(**{"adbc.sqlite.query.batch_rows": str(PART_ROWS)})
        statement.set_sql_query(query)
        stream, _ = statement.execute_query()
        return pa.RecordBatchReader.from_stream(stream).read_all()


def _sqlite_error(path: Path, exc: Exception) -> TraceFormatError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "locked" in text.lower() or "busy" in text.lower():
        return TraceFormatError(f"{path}: the SQLite file is locked by another program (is nsys still writing it?)")
    return TraceFormatError(f"{path}: unreadable SQLite file: {text}")


def prepare(path: Path, work_dir: Path, on_bytes: Callable[[int], None] | None = None) -> NsysReport:
    """Hash the file and check it is an Nsight Systems export (no store access)."""
    sha256, size = file_digest(path, on_bytes)
    # the catalogue through the standard library's sqlite3: unlike the ADBC driver it honours other
    # processes' locks, so a report that nsys is still writing is refused instead of half-read
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
        try:
            tables: dict[str, set[str]] = {}
            for table, column in db.execute(load_sql(PACKAGE, "nsys_sqlite_tables")):
                tables.setdefault(table, set()).add(column)
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise _sqlite_error(path, exc) from None
    if "StringIds" not in tables or not set(tables).intersection(ACTIVITY_TABLES):
        raise TraceFormatError(f"{path}: an SQLite file but not an Nsight Systems export "
                               f"(needs StringIds and one of {', '.join(ACTIVITY_TABLES)})")
    return NsysReport(path=path, sha256=sha256, size_bytes=size, json_bytes=size, tables=tables)


def stage(con: duckdb.DuckDBPyConnection, report: NsysReport) -> None:
    """Before the store's transaction, in temporary tables only: the report's rows in their
    templates, and its processes (nsys_processes.sql)."""
    define_macros(con)
    run_script(con, PACKAGE, "nsys_tables")
    _fill_templates(con, report)
    run_script(con, PACKAGE, "nsys_enums")
    run_script(con, PACKAGE, "nsys_processes")


def load(con: duckdb.DuckDBPyConnection, report: NsysReport, new_trace_id: Callable[[], int]) -> list[TraceRow]:
    """Inside the caller's transaction, after stage: write one trace per process."""
    facts = one_row(con, PACKAGE, "nsys_report")
    export_meta = orjson.loads(facts["export_metadata"]) if facts["export_metadata"] else {}
    time_base_ns = facts["session_start_ns"] or 0
    procs = con.execute(load_sql(PACKAGE, "nsys_process_list")).fetchall()
    if not procs:
        raise TraceFormatError(f"{report.path}: the export holds no CUDA, NVTX or OS runtime activity")

    warnings_for_all = []
    if not facts["session_start_ns"]:
        warnings_for_all.append("no TARGET_INFO_SESSION_START_TIME: times are nanoseconds from the session start")
    ranked = sum(1 for p in procs if p[4] is not None)
    if ranked:
        warnings_for_all.append(f"{ranked} GPU processes in one report: ranks inferred from the first GPU each used")
    rows = []
    for global_pid, pid, process_name, gpu_ops, rank, world_size in procs:
        trace_id = new_trace_id()
        set_variables(con, trace_id=trace_id, nsys_gpid=global_pid, time_base_ns=time_base_ns)
        run_script(con, PACKAGE, "nsys_staged")
        run_script(con, PACKAGE, "nsys_write")
        counts = one_row(con, PACKAGE, "nsys_summary")
        warnings = list(warnings_for_all)
        if counts["dropped"]:
            warnings.append(f"{counts['dropped']} records ending before they start were dropped")
        rows.append(TraceRow(
            trace_id=trace_id, format="nsys", sha256=report.sha256, size_bytes=report.size_bytes,
            rank=rank, world_size=world_size, backend=None,
            gpu_names=list(facts["gpu_names"]) if facts["gpu_names"] else None,
            device_properties=orjson.loads(facts["device_properties"]) if facts["device_properties"] else None,
            distributed_info=None,
            metadata={"nsys_export": export_meta, "process": {"pid": pid, "name": process_name, "global_pid": global_pid}},
            time_base_ns=time_base_ns, start_ns=counts["start_ns"], end_ns=counts["end_ns"],
            event_count=counts["events"], lane_count=counts["lanes"],
            job=report.path.name.split(".")[0] if len(procs) > 1 else None, warnings=warnings,
        ))
    return rows


def _fill_templates(con: duckdb.DuckDBPyConnection, report: NsysReport) -> None:
    """Copy each report table that has a template into it, by column name, as Arrow.

    Tables are read in parts of PART_ROWS rowids, on as many threads as DuckDB has, while DuckDB
    takes the parts read before, in table and rowid order (the order a whole-table scan gives)."""
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    columns: dict[str, list[str]] = {}
    for template, column in con.execute(load_sql(PACKAGE, "nsys_temp_tables")).fetchall():
        columns.setdefault(template, []).append(column)
    try:
        parts = [part for template, names in columns.items() for part in _parts(report, template, names)]
        with ThreadPoolExecutor(threads) as pool:
            reading: deque = deque()
            for template, query in parts:
                reading.append((template, pool.submit(_read, report.path, query)))
                if len(reading) > threads:
                    _insert(con, *reading.popleft())
            while reading:
                _insert(con, *reading.popleft())
    except (adbc_driver_manager.Error, OSError) as exc:  # SQLite-side; DuckDB errors go to the caller's rollback
        raise _sqlite_error(report.path, exc) from None


def _parts(report: NsysReport, template: str, columns: list[str]) -> list[tuple[str, str]]:
    """The queries that read a template's report table: only the columns retime uses (reading all
    of a wide table costs up to 3x more), one per PART_ROWS rowids. Table and column names come
    from the export's own catalogue, not from user input."""
    source = template[len(TEMPLATE_PREFIX):]
    if source not in report.tables:
        return []  # nsys creates tables lazily: an absent table means no such records
    wanted = [c for c in columns if c in report.tables[source]]
    if not wanted:
        return []
    select = f'SELECT {", ".join(chr(34) + c + chr(34) for c in wanted)} FROM "{source}"'
    [span] = _read(report.path, f'SELECT min(rowid) AS low, max(rowid) AS high FROM "{source}"').to_pylist()
    low, high = span["low"], span["high"]
    if low is None:
        return []
    return [(template, f"{select} WHERE rowid BETWEEN {start} AND {min(start + PART_ROWS - 1, high)}")
            for start in range(low, high + 1, PART_ROWS)]


def _insert(con: duckdb.DuckDBPyConnection, template: str, part) -> None:
    """One part into its template: BY NAME leaves the columns this nsys version lacks NULL and
    casts SQLite's loose types (and a part's all-NULL columns) to the template's."""
    con.register("nsys_source", part.result())
    try:
        con.execute(f'INSERT INTO temp."{template}" BY NAME SELECT * FROM nsys_source').fetchall()
    finally:
        con.unregister("nsys_source")


def explain(path: Path, report: NsysReport, exc: Exception) -> str:
    """One readable line naming the file, for an export that could not be read."""
    return f"{path}: {str(exc).strip().splitlines()[0]}"
