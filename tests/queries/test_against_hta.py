"""Cross-check with Holistic Trace Analysis on the same real job, where definitions match.
HTA is a bench-only dependency (pip install -e '.[bench]'); without it this test skips."""
from __future__ import annotations

import logging

import pytest


def test_temporal_breakdown_agrees_with_hta_on_every_rank(store, shared_traces):
    trace_analysis = pytest.importorskip("hta.trace_analysis")
    logging.disable(logging.WARNING)
    job = shared_traces / "param" / "dlrm_8rank"
    hta = trace_analysis.TraceAnalysis(trace_dir=str(job)).get_temporal_breakdown(visualize=False)
    results = store.ingest(job)
    for result in results:
        [ours] = store.query("temporal_breakdown", result.trace_id).to_dicts()
        theirs = hta[hta["rank"] == result.rank].iloc[0]
        # HTA reports microseconds; its non-compute is our communication plus memory
        assert ours["span_ns"] == theirs["kernel_time(us)"] * 1000
        assert ours["idle_ns"] == theirs["idle_time(us)"] * 1000
        assert ours["compute_ns"] == theirs["compute_time(us)"] * 1000
        assert ours["communication_ns"] + ours["memory_ns"] == theirs["non_compute_time(us)"] * 1000
