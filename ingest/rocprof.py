"""Reader for AMD rocprofiler-sdk JSON (`rocprofv3 --output-format json`: top key
`rocprofiler-sdk-tool`).

DuckDB reads the document (gzip or not) into one row per profiled process; the rocprof_*.sql steps
unnest its buffer records into the same kinds, lanes and edges a Kineto trace gets: kernel
dispatches (kernels, or collectives by name) and memory copies on GPU lanes, one per (GPU, HIP
stream); HIP runtime calls (`--hip-trace`) and ROCTx markers (`--marker-trace`) on CPU threads;
a launch edge from each runtime call to the dispatch or copy with its correlation id. Names come
from the document's own tables: kernel_symbols for kernels, strings.buffer_records for the
operation of each API record, agents for GPUs (product name, and the GPU's index among the GPUs as
its device). Timestamps are the profiler's nanoseconds (a monotonic clock, not the epoch).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
from retime.ingest.trace_row import TraceRow

from retime.errors import TraceFormatError
from retime.sqlfiles import load_sql, one_row, run_script, set_variables

PACKAGE = "retime.ingest"
READ_BLOCK = 16 << 20


@dataclass
class RocprofDocument:
    """A rocprofv3 JSON file as found on disk, before its records are read."""
    path: Path
    sha256: str
    size_bytes: int
    json_bytes: int


def prepare(path: Path, work_dir: Path, on_bytes: Callable[[int], None] | None = None) -> RocprofDocument:
    """Hash the file (no store access); DuckDB reads it in stage."""
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(READ_BLOCK):
            sha.update(block)
            if on_bytes:
                on_bytes(len(block))
    size = path.stat().st_size
    return RocprofDocument(path=path, sha256=sha.hexdigest(), size_bytes=size, json_bytes=_json_bytes(path, size))


def _json_bytes(path: Path, size: int) -> int:
    """The document's size as JSON: a gzip file's trailer states it (modulo 4 GiB), else its size."""
    with open(path, "rb") as fh:
        if fh.read(2) != b"\x1f\x8b" or size < 18:
            return size
        fh.seek(-4, 2)
        return max(int.from_bytes(fh.read(4), "little"), size)


def stage(con: duckdb.DuckDBPyConnection, document: RocprofDocument) -> None:
    """Before the store's transaction, in temporary tables only: the document's processes and their
    records, normalized (rocprof_stage.sql)."""
    run_script(con, PACKAGE, "macros")
    # DuckDB reads the document as one JSON object, in a buffer of at least its size
    set_variables(con, rocprof_path=str(document.path), rocprof_max_bytes=max(document.json_bytes + (1 << 20), 16 << 20))
    run_script(con, PACKAGE, "rocprof_read")
    if not con.execute("SELECT count(*) FROM rocprof_doc").fetchall()[0][0]:
        raise TraceFormatError(f"{document.path}: a rocprofv3 JSON with no profiled process in it")
    run_script(con, PACKAGE, "rocprof_stage")


def load(con: duckdb.DuckDBPyConnection, document: RocprofDocument, new_trace_id: Callable[[], int]) -> list[TraceRow]:
    """Inside the caller's transaction, after stage: write one trace per profiled process."""
    processes = con.execute("SELECT process, pid FROM rocprof_processes ORDER BY process").fetchall()
    rows = []
    for process, pid in processes:
        trace_id = new_trace_id()
        set_variables(con, trace_id=trace_id, rocprof_process=process)
        run_script(con, PACKAGE, "rocprof_write")
        facts = one_row(con, PACKAGE, "rocprof_summary")
        if not facts["events"]:
            raise TraceFormatError(f"{document.path}: process {pid} holds no kernel dispatch, memory copy, HIP API "
                                   "or marker record (record with --kernel-trace, --memory-copy-trace, --hip-trace)")
        warnings = [f"{n:,} {what} records are not read (retime reads kernel dispatches, memory copies, HIP runtime "
                    "calls and markers)" for what, n in (("other", facts["unread"]),) if n]
        if not facts["launches"]:
            warnings.append("no HIP runtime calls (--hip-trace): GPU work has no launch edges, so the replay cannot "
                            "tell launch-bound from GPU-bound")
        rows.append(TraceRow(
            trace_id=trace_id, format="rocprof", sha256=document.sha256, size_bytes=document.size_bytes,
            rank=None, world_size=None, backend=None, gpu_names=list(facts["gpu_names"] or []) or None,
            device_properties=None, distributed_info=None,
            metadata={"rocprofiler_sdk": {"pid": pid, "hostname": facts["hostname"], "command": facts["command"]}},
            time_base_ns=0, start_ns=facts["start_ns"], end_ns=facts["end_ns"],
            event_count=facts["events"], lane_count=facts["lanes"],
            job=document.path.name.split(".")[0] if len(processes) > 1 else None, warnings=warnings,
        ))
    return rows


def explain(path: Path, document: RocprofDocument, exc: Exception) -> str:
    """One readable line naming the file, for a document that could not be read."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{path}: not a readable rocprofv3 JSON ({first})"
