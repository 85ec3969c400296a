"""Tables derived from a trace when it is written (gpu_timeline, gpu_device_time, op_shapes), in the same transaction as its
events, so every query reads one narrow table instead of joining lanes, deps and launch calls again
on each run. Older stores gain them once, on upgrade."""
from __future__ import annotations

import duckdb

from retime import foundation
from retime.sqlfiles import load_sql, run_script, set_variables


def derive_trace(con: duckdb.DuckDBPyConnection, trace_id: int) -> None:
    """Write the derived rows of a trace whose events and deps are in the store."""
    foundation.load(con, "gpu")
    set_variables(con, trace_id=trace_id)
    from retime.store import nesting  # numba, loaded when a trace is written
    con.register("derived_call_stacks", nesting.call_stacks(con, trace_id))
    try:
        run_script(con, "retime.store", "derive_trace")
    finally:
        con.unregister("derived_call_stacks")


def derive_all(con: duckdb.DuckDBPyConnection) -> int:
    """Derive every trace of the store (an upgrade from a store without the derived tables)."""
    trace_ids = [row[0] for row in con.execute(load_sql("retime.store", "trace_ids")).fetchall()]
    for trace_id in trace_ids:
        derive_trace(con, trace_id)
    return len(trace_ids)
