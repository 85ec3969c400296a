"""Reader for Chrome Trace Event Format files, PyTorch Kineto traces included.

Flow: json_split streams the file into an events array and its metadata; json_columns reads the
array's fields straight from its bytes into the staging table (or DuckDB's JSON reader does,
chrome_read.sql, for a file json_columns leaves to it) and the chrome_*.sql steps normalize it
into the store's shape. Kineto
is Chrome JSON with known categories and metadata, so one reader serves both; the trace's
`format` says which it was.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb
from retime.ingest import define_macros, json_columns, kineto_args
from retime.ingest.json_split import SplitTrace, split_trace
from retime.ingest.trace_row import TraceRow

from retime.core.sqlfiles import one_row, run_script, set_variables

PACKAGE = "retime.ingest"
STEPS = ("chrome_lanes", "chrome_events", "chrome_deps", "chrome_counters")
KINETO_KEYS = ("schemaVersion", "deviceProperties", "distributedInfo", "baseTimeNanoseconds", "computeProperties")
COLUMNAR = True  # read the events array with json_columns (False: DuckDB's JSON reader, chrome_read.sql, always)
# while the columnar kernels are not compiled (a fresh install), an events array smaller than this
# goes to DuckDB's reader, as fast there up to ~64 MB (0.24 s against 0.24 s at 0.8 MB, 1.5-1.6 s
# against 1.6-1.7 s at 64 MB, warm, 2 cores), which spares a first ingest their compile (~6 s); the
# store is the same either way
COLUMNAR_FROM_BYTES = 64 << 20
# keys kept out of traces.metadata: the events themselves and bulky side tables
NOT_METADATA = ("traceEvents", "systemTraceEvents", "stackFrames", "samples",
                "deviceProperties", "computeProperties", "distributedInfo")


def prepare(path: Path, work_dir: Path, on_bytes: Callable[[int], None] | None = None) -> SplitTrace:
    """First, cheap half of a read: hash and split the file (no store access)."""
    return split_trace(path, work_dir, on_bytes)


def stage(con: duckdb.DuckDBPyConnection, split: SplitTrace) -> None:
    """Before the store's transaction, in temporary tables only: the events array read into the
    staging table `raw` and its phases paired into `staged` (chrome_slices.sql)."""
    set_variables(con, time_base_ns=_time_base_ns(split.metadata))
    define_macros(con)
    source, offset, size = split.events_range()
    if not (COLUMNAR and (size >= COLUMNAR_FROM_BYTES or json_columns.compiled())
            and json_columns.load_raw(con, source, offset, size)):
        set_variables(con, events_path=str(split.events_file()))  # DuckDB's reader: a file of the array alone
        run_script(con, PACKAGE, "chrome_read", fill=kineto_args.fill())
    run_script(con, PACKAGE, "chrome_slices")


def load(con: duckdb.DuckDBPyConnection, split: SplitTrace, new_trace_id: Callable[[], int]) -> list[TraceRow]:
    """Inside the caller's transaction, after stage: normalize the staged events and write the file's trace."""
    trace_id = new_trace_id()
    meta = split.metadata
    time_base_ns = _time_base_ns(meta)
    set_variables(con, trace_id=trace_id)
    for step in STEPS:
        run_script(con, PACKAGE, step, fill=kineto_args.fill())
    counts = one_row(con, PACKAGE, "chrome_summary")

    dist = meta.get("distributedInfo") if isinstance(meta.get("distributedInfo"), dict) else None
    props = meta.get("deviceProperties", meta.get("computeProperties"))
    is_kineto = counts["kineto_events"] > 0 or any(k in meta for k in KINETO_KEYS)
    warnings = list(split.warnings) + _warnings_from(counts)
    if is_kineto and "baseTimeNanoseconds" not in meta and split.form == "object" and split.warnings:
        warnings.append("baseTimeNanoseconds was lost with the file's end; times are as written (relative)")
    return [TraceRow(
        trace_id=trace_id, format="kineto" if is_kineto else "chrome",
        sha256=split.sha256, size_bytes=split.size_bytes,
        rank=_int_or_none(dist.get("rank")) if dist else None,
        world_size=_int_or_none(dist.get("world_size")) if dist else None,
        backend=str(dist["backend"]) if dist and dist.get("backend") is not None else None,
        gpu_names=[str(p.get("name", "")) for p in props if isinstance(p, dict)] if isinstance(props, list) else None,
        device_properties=props, distributed_info=dist,
        metadata={k: v for k, v in meta.items() if k not in NOT_METADATA},
        time_base_ns=time_base_ns, start_ns=counts["start_ns"], end_ns=counts["end_ns"],
        event_count=counts["events"], lane_count=counts["lanes"], warnings=warnings,
    )]


# what the summary counts mean to a user, one line each when non-zero
WARNING_LINES = (
    ("no_ts", "{} events without a usable ts were dropped"),
    ("bad_dur", "{} complete (X) events with a missing or negative dur were dropped"),
    ("unclosed_b", "{} B slices never closed (kept with dur_ns NULL)"),
    ("orphan_e", "{} E events closed no open slice (dropped)"),
    ("unclosed_async", "{} async slices never ended (kept with dur_ns NULL)"),
    ("unbound_flow_points", "{} flow points had no slice to bind to (their arrows were dropped)"),
    ("flows_without_id", "{} flow events without an id were dropped"),
)


def _warnings_from(counts: dict) -> list[str]:
    lines = [text.format(counts[key]) for key, text in WARNING_LINES if counts[key] and counts[key] > 0]
    if counts["ignored_phases"]:
        lines.append("events of phases retime does not model were skipped: " + ", ".join(counts["ignored_phases"]))
    return lines


def _time_base_ns(meta: dict) -> int:
    """The trace's clock base (Kineto's baseTimeNanoseconds), added to every ts; 0 without one."""
    return _int_or_none(meta.get("baseTimeNanoseconds")) or 0


def _int_or_none(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def explain(path: Path, split: SplitTrace, exc: Exception) -> str:
    """DuckDB's message, pointed at the user's file instead of retime's working copy."""
    text = str(exc).strip().splitlines()[0]
    events_path = split.events_path
    for written in (f'in file "{events_path}"', f'"{events_path}"', str(events_path)):
        text = text.replace(written, "in the events array" if written.startswith("in file") else "the events array")
    return f"{path}: {text}"
