"""Tables derived from a trace when it is written (the tables schema.sql declares `derived`:
gpu_timeline, op_work, gpu_busy_islands, ...), in the same transaction as its events, so every query
reads one narrow table instead of joining lanes, deps and launch calls, or costing shapes, again on each run. Older stores gain
them once, on upgrade; a store derived under other rules (kernel classes, operator rules, the
definitions in retime/foundation) is derived again when opened (fingerprint)."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

import duckdb

from retime import foundation
from retime.core.sqlfiles import load_sql, run_script, set_variables
from retime.store import tables

TABLES = tables.names("derived")  # retime/store/sql/schema.sql declares them


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """A digest of what the derived rows follow from: every rule and definition file of
    retime/foundation (with the loader that makes macros of the rules) and the store's derivation
    (its SQL and the nesting pass)."""
    digest = hashlib.sha256()
    store = resources.files("retime.store")
    files = [f for f in resources.files("retime.foundation").iterdir() if f.name.endswith((".sql", ".toml", ".py"))]
    files += [store / "sql" / "derive_operators.sql", store / "sql" / "derive_trace.sql",
              store / "sql" / "cpu_slices.sql", store / "nesting.py"]
    for file in sorted(files, key=lambda f: f.name):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store's derived rows were made under this retime's rules."""
    return con.execute("SELECT max(fingerprint) FROM derived_info").fetchall()[0][0] == fingerprint()


def mark_current(con: duckdb.DuckDBPyConnection) -> None:
    """Record that the derived rows follow this retime's rules."""
    con.execute("DELETE FROM derived_info").fetchall()
    con.execute("INSERT INTO derived_info VALUES ($f, now())", {"f": fingerprint()}).fetchall()


def derive_trace(con: duckdb.DuckDBPyConnection, trace_id: int) -> None:
    """Write the derived rows of a trace whose events and deps are in the store."""
    foundation.load(con, "gpu", "host", "ops")
    set_variables(con, trace_id=trace_id)
    run_script(con, "retime.store", "derive_operators")
    from retime.store import nesting  # numba, loaded when a trace is written
    con.register("derived_call_stacks", nesting.call_stacks(con, trace_id))
    try:
        run_script(con, "retime.store", "derive_trace")
    finally:
        con.unregister("derived_call_stacks")


def rederive_trace(con: duckdb.DuckDBPyConnection, trace_id: int) -> None:
    """Make a stored trace's derived rows again, after its events or args changed (an execution
    trace gave its operators their shapes): its rows of every derived table dropped, then derived."""
    set_variables(con, trace_id=trace_id)
    con.execute(tables.statements("delete_trace", "derived")).fetchall()
    derive_trace(con, trace_id)


def derive_all(con: duckdb.DuckDBPyConnection) -> int:
    """Derive every trace of the store (an upgrade, or rules that changed), and mark it current."""
    trace_ids = [row[0] for row in con.execute(load_sql("retime.store", "trace_ids")).fetchall()]
    for trace_id in trace_ids:
        derive_trace(con, trace_id)
    mark_current(con)
    return len(trace_ids)
