"""Reader for AMD rocprofiler-sdk JSON (`rocprofv3 --output-format json`: top key
`rocprofiler-sdk-tool`).

orjson parses the document and pyarrow turns each record list into columns (both in C); the
rocprof_*.sql steps turn those into the same kinds, lanes and edges a Kineto trace gets: kernel
dispatches (kernels, or collectives by name) and memory copies on GPU lanes, one per (GPU, HIP
stream); HIP runtime calls (`--hip-trace`) and ROCTx markers (`--marker-trace`) on CPU threads;
a launch edge from each runtime call to the dispatch or copy with its correlation id. Names come
from the document's own tables: kernel_symbols for kernels, strings.buffer_records for the
operation of each API record, agents for GPUs (product name, and the GPU's index among the GPUs as
its device). Timestamps are the profiler's nanoseconds (a monotonic clock, not the epoch). Field
names are rocprofiler-sdk's buffer tracing records (rocprofiler-sdk/buffer_tracing.h); a field a
record list lacks (an older rocprofiler-sdk) reads as NULL.
"""
from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from retime.ingest.trace_row import TraceRow, file_digest

from retime.core.errors import TraceFormatError
from retime.ingest import define_macros
from retime.core.sqlfiles import one_row, run_script, set_variables

PACKAGE = "retime.ingest"
READ = ("kernel_dispatch", "memory_copy", "hip_api", "marker_api")  # the record lists retime reads
# column -> its path in a record, for every record list read (NULL where a list's records lack it)
FIELDS = {"kind_code": ("kind",), "operation": ("operation",), "correlation": ("correlation_id", "internal"),
          "external_id": ("correlation_id", "external"), "thread_id": ("thread_id",),
          "start_ns": ("start_timestamp",), "end_ns": ("end_timestamp",),
          "agent": ("dispatch_info", "agent_id", "handle"), "kernel_id": ("dispatch_info", "kernel_id"),
          "stream": ("stream_id", "handle"), "src_agent": ("src_agent_id", "handle"),
          "dst_agent": ("dst_agent_id", "handle"), "bytes": ("bytes",)}


@dataclass
class RocprofDocument:
    """A rocprofv3 JSON file as found on disk, before its records are read."""
    path: Path
    sha256: str
    size_bytes: int
    json_bytes: int
    processes: list[dict] = field(default_factory=list)  # what stage kept of each process for load


def prepare(path: Path, work_dir: Path, on_bytes: Callable[[int], None] | None = None) -> RocprofDocument:
    """Hash the file (no store access); stage reads it."""
    sha256, size = file_digest(path, on_bytes)
    return RocprofDocument(path=path, sha256=sha256, size_bytes=size, json_bytes=size)


def _column(records: pa.Array, path: tuple[str, ...]) -> pa.Array:
    """One field of every record (a nested path), as int64; NULL where the records lack it."""
    column, kind = records, records.type
    for name in path:
        if not pa.types.is_struct(kind) or kind.get_field_index(name) < 0:
            return pa.nulls(len(records), pa.int64())
        column = pc.struct_field(column, name)
        kind = column.type
    return pc.cast(column, pa.int64(), safe=False) if pa.types.is_integer(kind) else pa.nulls(len(records), pa.int64())


def _records(process: int, source: str, rows: list) -> pa.Table:
    """A record list as the columns FIELDS names, with each record kept whole (args)."""
    records = pa.array(rows) if rows else pa.array([], pa.struct([]))
    columns = {"process": pa.repeat(pa.scalar(process, pa.int32()), len(rows)),
               "source": pa.repeat(pa.scalar(source, pa.string()), len(rows))}
    columns.update({name: _column(records, path) for name, path in FIELDS.items()})
    return pa.table({**columns, "record": records})


def _document(path: Path) -> list:
    """The document's processes: the `rocprofiler-sdk-tool` array, parsed."""
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        tools = orjson.loads(data)["rocprofiler-sdk-tool"]
    except (OSError, EOFError, zlib.error) as exc:
        raise TraceFormatError(f"{path}: a damaged gzip stream ({exc})") from None
    except orjson.JSONDecodeError as exc:
        raise TraceFormatError(f"{path}: not valid JSON ({exc}): a rocprofv3 file cut off or damaged") from None
    except (KeyError, TypeError):
        raise TraceFormatError(f"{path}: a JSON without a rocprofiler-sdk-tool array of processes") from None
    if not isinstance(tools, list) or not tools or not all(isinstance(t, dict) for t in tools):
        raise TraceFormatError(f"{path}: a rocprofv3 JSON with no profiled process in it")
    return tools


def stage(con: duckdb.DuckDBPyConnection, document: RocprofDocument) -> None:
    """Before the store's transaction, in temporary tables only: every process's agents, names and
    records, normalized (rocprof_stage.sql)."""
    define_macros(con)
    tools = _document(document.path)
    agents, operations, symbols, records = [], [], [], []
    for process, tool in enumerate(tools):
        buffers = tool.get("buffer_records") or {}
        metadata = tool.get("metadata") or {}
        document.processes.append({
            "process": process, "pid": metadata.get("pid"), "hostname": (metadata.get("node") or {}).get("hostname"),
            "command": " ".join(map(str, metadata.get("command") or [])),
            "unread": sum(len(v) for k, v in buffers.items() if k not in READ and isinstance(v, list))})
        agents += [{"process": process, "agent": (a.get("id") or {}).get("handle"), "type": a.get("type"),
                    "node": a.get("node_id"), "product": a.get("product_name") or a.get("name")}
                   for a in tool.get("agents") or []]
        operations += [{"process": process, "kind": kind, "kind_name": entry.get("kind"), "operation": op, "name": name}
                       for kind, entry in enumerate((tool.get("strings") or {}).get("buffer_records") or [])
                       for op, name in enumerate(entry.get("operations") or [])]
        symbols += [{"process": process, "kernel_id": k.get("kernel_id"),
                     "name": k.get("formatted_kernel_name") or k.get("truncated_kernel_name") or k.get("kernel_name")}
                    for k in tool.get("kernel_symbols") or []]
        records += [_records(process, source, buffers.get(source) or []) for source in READ]
    tables = {"rocprof_agents_in": pa.Table.from_pylist(agents, pa.schema([
                  ("process", pa.int32()), ("agent", pa.int64()), ("type", pa.int32()), ("node", pa.int64()),
                  ("product", pa.string())])),
              "rocprof_operations_in": pa.Table.from_pylist(operations, pa.schema([
                  ("process", pa.int32()), ("kind", pa.int32()), ("kind_name", pa.string()), ("operation", pa.int32()),
                  ("name", pa.string())])),
              "rocprof_symbols_in": pa.Table.from_pylist(symbols, pa.schema([
                  ("process", pa.int32()), ("kernel_id", pa.int64()), ("name", pa.string())]))}
    for name, table in tables.items():
        con.register(name, table)
    try:
        for n, table in enumerate(records):  # each list's records keep their own struct type: one table each
            con.register(f"rocprof_records_{n}", table)
        con.execute("CREATE OR REPLACE TEMP TABLE rocprof_raw AS " + " UNION ALL BY NAME ".join(
            f"SELECT * EXCLUDE (record), to_json(record) AS args FROM rocprof_records_{n}" for n in range(len(records))))
        run_script(con, PACKAGE, "rocprof_stage")
    finally:
        for name in [*tables, *(f"rocprof_records_{n}" for n in range(len(records)))]:
            con.unregister(name)


def load(con: duckdb.DuckDBPyConnection, document: RocprofDocument, new_trace_id: Callable[[], int]) -> list[TraceRow]:
    """Inside the caller's transaction, after stage: write one trace per profiled process."""
    processes = document.processes
    rows = []
    for info in processes:
        process, pid = info["process"], info["pid"]
        trace_id = new_trace_id()
        set_variables(con, trace_id=trace_id, rocprof_process=process, rocprof_pid=str(pid))
        run_script(con, PACKAGE, "rocprof_write")
        facts = one_row(con, PACKAGE, "rocprof_summary")
        if not facts["events"]:
            raise TraceFormatError(f"{document.path}: process {pid} holds no kernel dispatch, memory copy, HIP API "
                                   "or marker record (record with --kernel-trace, --memory-copy-trace, --hip-trace)")
        warnings = [f"{n:,} {what} records are not read (retime reads kernel dispatches, memory copies, HIP runtime "
                    "calls and markers)" for what, n in (("other", info["unread"]),) if n]
        if facts["dropped"]:
            warnings.append(f"{facts['dropped']:,} records ending before they start (or with no start) were dropped")
        if not facts["launches"]:
            warnings.append("no HIP runtime calls (--hip-trace): GPU work has no launch edges, so the replay cannot "
                            "tell launch-bound from GPU-bound")
        rows.append(TraceRow(
            trace_id=trace_id, format="rocprof", sha256=document.sha256, size_bytes=document.size_bytes,
            rank=None, world_size=None, backend=None, gpu_names=list(facts["gpu_names"] or []) or None,
            device_properties=None, distributed_info=None,
            metadata={"rocprofiler_sdk": {"pid": pid, "hostname": info["hostname"], "command": info["command"]}},
            time_base_ns=0, start_ns=facts["start_ns"], end_ns=facts["end_ns"],
            event_count=facts["events"], lane_count=facts["lanes"],
            job=document.path.name.split(".")[0] if len(processes) > 1 else None, warnings=warnings,
        ))
    return rows


def explain(path: Path, document: RocprofDocument, exc: Exception) -> str:
    """One readable line naming the file, for a document that could not be read."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{path}: not a readable rocprofv3 JSON ({first})"
