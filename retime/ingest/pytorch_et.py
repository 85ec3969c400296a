"""Reader for PyTorch execution traces (`ExecutionTraceObserver` JSON: a `schema` key and `nodes`),
ingested beside the Kineto trace recorded with them.

An execution trace holds every operator's input shapes, types and values (tensor ids, storage ids
and sizes), which a Kineto trace records only with `record_shapes=True`. Its nodes are linked to
the CPU operators of a stored Kineto trace by record function id: a node's `rf_id` is the
operator's `Record function id` (Kineto after 2023) or its `External id` (before), on the process
the execution trace names (`pid`), and the name must agree. The Kineto trace taken is the stored one
with the most such matches, and at least half of the execution trace's operators must match;
otherwise the file is refused, naming what to ingest first.

For each matched operator, the execution trace's `input_shapes` and `input_types` become its
`Input Dims` and `Input type` where Kineto recorded none (Kineto's own win), and its inputs and
outputs (with tensor ids) are kept as `ET inputs` / `ET outputs` in the operator's args; the Kineto
trace's derived tables (op_shapes, op_work, ...) are then made again, so every shape-based query
and the replay's kernel model see the shapes. The execution trace itself is stored as a trace of
format `pytorch_et` with no events, naming the trace it linked to: re-ingesting it is a no-op.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
from retime.ingest.trace_row import TraceRow, file_digest

from retime.core.errors import TraceFormatError
from retime.ingest import define_macros
from retime.core.sqlfiles import one_row, run_script, set_variables

PACKAGE = "retime.ingest"
MIN_LINKED = 0.5  # share of the execution trace's operators that must match a stored trace's


@dataclass
class ExecutionTrace:
    """A PyTorch execution trace file as found on disk."""
    path: Path
    sha256: str
    size_bytes: int
    json_bytes: int


def prepare(path: Path, work_dir: Path, on_bytes: Callable[[int], None] | None = None) -> ExecutionTrace:
    """Hash the file (no store access); stage reads it."""
    sha256, size = file_digest(path, on_bytes)
    return ExecutionTrace(path=path, sha256=sha256, size_bytes=size, json_bytes=size)


def stage(con: duckdb.DuckDBPyConnection, trace: ExecutionTrace) -> None:
    """Before the store's transaction: the nodes as a table (pytorch_et_read.sql)."""
    define_macros(con)
    set_variables(con, et_path=str(trace.path), et_max_bytes=max(8 * trace.size_bytes + (1 << 20), 16 << 20))
    run_script(con, PACKAGE, "pytorch_et_read")


def load(con: duckdb.DuckDBPyConnection, trace: ExecutionTrace, new_trace_id: Callable[[], int]) -> list[TraceRow]:
    """Inside the caller's transaction, after stage: link the nodes to the stored Kineto trace they
    belong to, give its operators their shapes, derive it again, and record the execution trace."""
    from retime.store import derived
    facts = one_row(con, PACKAGE, "pytorch_et_match")
    if not facts["operators"]:
        raise TraceFormatError(f"{trace.path}: a PyTorch execution trace with no operator nodes")
    if facts["trace_id"] is None or facts["matched"] < MIN_LINKED * facts["operators"]:
        best = (f" (the best stored trace, {facts['trace_id']}, matches {facts['matched']} of its {facts['operators']} "
                "operators)") if facts["trace_id"] is not None else ""
        raise TraceFormatError(f"{trace.path}: a PyTorch execution trace of process {facts['pid']} whose Kineto trace is "
                               f"not in the store{best}; ingest the Kineto trace recorded with it first")
    linked = facts["trace_id"]
    set_variables(con, et_trace_id=linked)
    run_script(con, PACKAGE, "pytorch_et_link")
    derived.rederive_trace(con, linked)  # the linked trace's derived rows, made again with the shapes
    set_variables(con, et_note=f"operators' shapes from execution trace {trace.path.name} "
                               f"({facts['matched']} of {facts['operators']} linked)")
    run_script(con, PACKAGE, "pytorch_et_note")
    trace_id = new_trace_id()
    return [TraceRow(
        trace_id=trace_id, format="pytorch_et", sha256=trace.sha256, size_bytes=trace.size_bytes,
        rank=None, world_size=None, backend=None, gpu_names=None, device_properties=None, distributed_info=None,
        metadata={"pytorch_et": {"schema": facts["schema"], "pid": facts["pid"], "linked_trace_id": linked,
                                 "operators": facts["operators"], "linked_operators": facts["matched"]}},
        time_base_ns=0, start_ns=facts["start_ns"], end_ns=facts["end_ns"], event_count=0, lane_count=0,
        warnings=[f"linked {facts['matched']} of {facts['operators']} operators to trace {linked}: their shapes and "
                  "tensor ids are in its operators' args; this trace holds no events of its own"])]


def explain(path: Path, trace: ExecutionTrace, exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{path}: not a readable PyTorch execution trace ({first})"
