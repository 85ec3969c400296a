"""The CPU slices open around each launch call, from the timestamps' nesting: one pass per thread
with a stack (numba), for gpu_timeline.call_stack, and the innermost of them that the operator
queries pick (gpu_timeline.op_event_id: an operator op_work costs; .category: one op_rules.toml
categorises).

On each thread, slices sorted by start (the longer first at one timestamp): a slice's parent is the
innermost earlier slice still open when it starts (one that ends at that instant is closed). A
call's stack is its chain of parents, outermost first, keeping only the slices still open at the
call's start (where a profiler's rounding let a child outlive its parent, the parent is dropped).
"""
from __future__ import annotations

import duckdb
import numba
import numpy as np
import pyarrow as pa

from retime.core import arrow
from retime.core.sqlfiles import load_sql


@numba.njit(cache=True)
def parents(lane: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Index of each slice's parent (-1 for none); the slices sorted by lane, start, end descending."""
    n = len(lane)
    parent = np.full(n, -1, np.int64)
    stack = np.empty(n, np.int64)
    top = 0
    for i in range(n):
        if i > 0 and lane[i] != lane[i - 1]:
            top = 0
        while top > 0 and end[stack[top - 1]] <= start[i]:
            top -= 1
        if top > 0:
            parent[i] = stack[top - 1]
        stack[top] = i
        top += 1
    return parent


@numba.njit(cache=True)
def chains(calls: np.ndarray, parent: np.ndarray, start: np.ndarray, end: np.ndarray,
           event_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each call (an index into the slices), the event ids of its open ancestors, outermost
    first, as CSR (offsets, values)."""
    offsets = np.zeros(len(calls) + 1, np.int64)
    total = 0
    for k in range(len(calls)):
        j = parent[calls[k]]
        while j >= 0:
            if end[j] >= start[calls[k]]:
                total += 1
            j = parent[j]
        offsets[k + 1] = total
    values = np.empty(total, np.int64)
    for k in range(len(calls)):
        at = offsets[k + 1]
        j = parent[calls[k]]
        while j >= 0:
            if end[j] >= start[calls[k]]:
                at -= 1
                values[at] = event_id[j]
            j = parent[j]
    return offsets, values


@numba.njit(cache=True)
def innermost(calls: np.ndarray, parent: np.ndarray, start: np.ndarray, end: np.ndarray,
              marked: np.ndarray) -> np.ndarray:
    """For each call, the innermost of its open ancestors (as `chains` keeps them) that is marked,
    as an index into the slices; -1 when none is."""
    found = np.full(len(calls), -1, np.int64)
    for k in range(len(calls)):
        j = parent[calls[k]]
        while j >= 0:
            if marked[j] and end[j] >= start[calls[k]]:
                found[k] = j
                break
            j = parent[j]
    return found


def call_stacks(con: duckdb.DuckDBPyConnection, trace_id: int) -> pa.Table:
    """For every launch call of a stored trace that sits inside a slice: call_event_id, call_stack,
    op_event_id (the innermost costed operator), category and category_operator (of the innermost
    categorised slice; NULL when none)."""
    cols = con.sql(load_sql("retime.store", "cpu_slices"), params={"trace_id": trace_id}).to_arrow_table()
    event_id, start, end, lane = (arrow.to_numpy(cols[c], np.int64) for c in ("event_id", "ts_ns", "end_ns", "lane_id"))
    parent = parents(lane, start, end)
    calls = np.flatnonzero(arrow.to_numpy(cols["is_call"]))
    offsets, values = chains(calls, parent, start, end, event_id)
    costed = innermost(calls, parent, start, end, arrow.to_numpy(cols["costed"]))
    categorised = innermost(calls, parent, start, end, arrow.valid(cols["category"]))
    categorised = arrow.column(categorised, categorised < 0)
    stacks = pa.ListArray.from_arrays(arrow.column(offsets, type=pa.int32()), arrow.column(values))
    return arrow.table({
        "call_event_id": arrow.column(event_id[calls]),
        "call_stack": stacks,
        "op_event_id": arrow.column(event_id[costed], costed < 0),
        "category": cols["category"].take(categorised),
        "category_operator": cols["operator"].take(categorised),
    }).filter(arrow.column(np.diff(offsets) > 0))
