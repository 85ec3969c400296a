"""Reader for Nsight Systems SQLite exports (`nsys export --type sqlite`).

The report's tables are read straight into Arrow by the ADBC SQLite driver (no row-by-row
Python), conformed to the column templates in sql/nsys_tables.sql, and normalized by the nsys_*.sql
steps into the same kinds, lanes and edges a Kineto trace gets. A report holding several CUDA
processes becomes one trace per process: the ranks of one job.
"""
from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import adbc_driver_manager
import duckdb
import orjson
from retime.ingest.trace_row import TraceRow

from retime.errors import TraceFormatError
from retime.sqlfiles import load_sql, one_row, run_script, scratch_tables, set_variables

PACKAGE = "retime.ingest"
ACTIVITY_TABLES = ("CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_MEMCPY", "CUPTI_ACTIVITY_KIND_MEMSET",
                   "CUPTI_ACTIVITY_KIND_RUNTIME", "CUPTI_ACTIVITY_KIND_DRIVER", "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION",
                   "NVTX_EVENTS", "OSRT_API")
TEMPLATE_PREFIX = "nsys_"
READ_BLOCK = 16 << 20


@dataclass
class NsysReport:
    """An Nsight Systems SQLite export as found on disk, before its rows are read."""
    path: Path
    sha256: str
    size_bytes: int
    json_bytes: int                      # the bytes read (the whole file), for throughput reports
    tables: dict[str, set[str]] = field(default_factory=dict)   # table -> its columns


def _connect(path: Path):
    import adbc_driver_sqlite.dbapi as adbc_sqlite
    return adbc_sqlite.connect(f"file:{path}?mode=ro")


def _sqlite_error(path: Path, exc: Exception) -> TraceFormatError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "locked" in text.lower() or "busy" in text.lower():
        return TraceFormatError(f"{path}: the SQLite file is locked by another program (is nsys still writing it?)")
    return TraceFormatError(f"{path}: unreadable SQLite file: {text}")


def prepare(path: Path, work_dir: Path, on_bytes: Callable[[int], None] | None = None) -> NsysReport:
    """Hash the file and check it is an Nsight Systems export (no store access)."""
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(READ_BLOCK):
            sha.update(block)
            if on_bytes:
                on_bytes(len(block))
    size = path.stat().st_size
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
    return NsysReport(path=path, sha256=sha.hexdigest(), size_bytes=size, json_bytes=size, tables=tables)


def load(con: duckdb.DuckDBPyConnection, report: NsysReport, new_trace_id: Callable[[], int]) -> list[TraceRow]:
    """Inside the caller's transaction: read the report and write one trace per process."""
    with scratch_tables(con):  # the filled templates and staging hold the whole report
        return _load(con, report, new_trace_id)


def _load(con: duckdb.DuckDBPyConnection, report: NsysReport, new_trace_id: Callable[[], int]) -> list[TraceRow]:
    run_script(con, PACKAGE, "macros")
    run_script(con, PACKAGE, "nsys_tables")
    _fill_templates(con, report)
    run_script(con, PACKAGE, "nsys_enums")
    facts = one_row(con, PACKAGE, "nsys_report")
    export_meta = orjson.loads(facts["export_metadata"]) if facts["export_metadata"] else {}
    time_base_ns = facts["session_start_ns"] or 0
    run_script(con, PACKAGE, "nsys_processes")
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
    """Copy each report table that has a template into it, by column name, as Arrow batches."""
    templates = [row[0] for row in con.execute(load_sql(PACKAGE, "nsys_temp_tables")).fetchall()]
    try:
        with _connect(report.path) as conn, conn.cursor() as cur:
            for template in templates:
                source = template[len(TEMPLATE_PREFIX):]
                if source not in report.tables:
                    continue  # nsys creates tables lazily: an absent table means no such records
                schema = con.table(f'temp."{template}"').to_arrow_table().schema
                wanted = [f.name for f in schema if f.name in report.tables[source]]
                if not wanted:
                    continue
                # only the columns retime uses (reading all of a wide table costs up to 3x more);
                # table and column names come from the export's own catalogue, not from user input
                cur.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in wanted)} FROM "{source}"')
                # one streaming INSERT over the driver's Arrow batches; BY NAME leaves the columns this
                # nsys version lacks NULL and casts SQLite's loose types to the template's
                con.register("nsys_source", cur.fetch_record_batch())
                try:
                    con.execute(f'INSERT INTO temp."{template}" BY NAME SELECT * FROM nsys_source').fetchall()
                finally:
                    con.unregister("nsys_source")
    except adbc_driver_manager.Error as exc:  # SQLite-side failures; DuckDB errors go to the caller's rollback
        raise _sqlite_error(report.path, exc) from None


def explain(path: Path, report: NsysReport, exc: Exception) -> str:
    """One readable line naming the file, for an export that could not be read."""
    return f"{path}: {str(exc).strip().splitlines()[0]}"
