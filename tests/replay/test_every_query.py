"""Every named query on every trace of ../shared/traces (and every job query on every job) answers
without an error, and what the queries print as times from the trace's first event never starts
before it."""
from __future__ import annotations

import polars as pl
import pytest
from retime.queries import runner

pytestmark = pytest.mark.slow  # over every trace of ../shared/traces


def test_every_query_answers_on_every_shared_trace(every_shared_trace):
    store = every_shared_trace
    traces = store.sql("SELECT trace_id, start_ns, job FROM traces ORDER BY trace_id")
    catalogue = runner.catalogue()
    asked = 0
    for name, query in sorted(catalogue.items()):
        params = {p.name for p in query.params if p.default is None}
        if params == {"trace_id"}:
            for trace_id in traces["trace_id"]:
                store.query(name, trace_id)
                asked += 1
        elif params == {"trace_id", "other_id"}:  # a trace against itself and against the one before it
            for trace_id in traces["trace_id"]:
                store.query(name, trace_id, other_id=trace_id)
                store.query(name, trace_id, other_id=max(1, trace_id - 1))
                asked += 2
        elif params == {"job"}:
            for job in traces["job"].drop_nulls().unique():
                store.query(name, job=job)
                asked += 1
    assert len(catalogue) == 31 and asked > 29 * traces.height
    # buckets and windows count from the trace's first event: none starts before it
    for trace_id, start_ns in traces.drop_nulls("start_ns").select("trace_id", "start_ns").rows():
        depth = store.query("queue_depth", trace_id)
        assert depth.filter(pl.col("bucket_start_ns") < start_ns).height == 0, trace_id


def test_a_lane_is_never_busier_than_the_trace_is_long(every_shared_trace):
    """`info` counts a lane busy while any of its events is open: nested slices once (a CPU thread
    used to be "busy" 14 s on a 0.9 s trace, its nested operators summed)."""
    store = every_shared_trace
    for trace_id in store.sql("SELECT trace_id FROM traces WHERE end_ns IS NOT NULL")["trace_id"]:
        info = store.info(trace_id)
        recorded = info["trace"]["recorded_ms"][0]
        assert info["lanes"]["busy_ms"].max() <= recorded + 0.001, trace_id
