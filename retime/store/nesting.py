"""The CPU slices open around each launch call, from the timestamps' nesting: one pass per thread
with a stack (numba), for gpu_timeline.call_stack.

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

from retime.sqlfiles import load_sql


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


def call_stacks(con: duckdb.DuckDBPyConnection, trace_id: int) -> pa.Table:
    """(call_event_id, call_stack) for every launch call of a stored trace that sits inside a slice."""
    cols = con.execute(load_sql("retime.store", "cpu_slices"), {"trace_id": trace_id}).fetchnumpy()
    event_id = cols["event_id"].astype(np.int64)
    start, end = cols["ts_ns"].astype(np.int64), cols["end_ns"].astype(np.int64)
    parent = parents(cols["lane_id"].astype(np.int64), start, end)
    calls = np.flatnonzero(cols["is_call"].astype(np.bool_))
    offsets, values = chains(calls, parent, start, end, event_id)
    keep = np.diff(offsets) > 0
    stacks = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values, pa.int64()))
    return pa.table({"call_event_id": pa.array(event_id[calls], pa.int64()), "call_stack": stacks}).filter(pa.array(keep))
