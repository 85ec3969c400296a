"""Long steps report how far they are: a graph build per SQL statement, a sweep per batch of
scenarios; the answer is the same whether anyone listens or not."""
from __future__ import annotations

import numpy as np
from retime.replay import cache
from retime.replay.graph import build_graph

import retime
from tests.conftest import SAMPLE_TRACES

PAGEABLE = SAMPLE_TRACES / "gpu_h100" / "h2d_pageable.pt.trace.json.gz"
DDP = SAMPLE_TRACES / "ddp_gloo_2rank"


def heard(calls: list):
    return lambda task, done, total: calls.append((task, done, total))


def test_a_graph_build_reports_each_statement_and_builds_the_same_graph(store):
    [r] = store.ingest(PAGEABLE)
    calls = []
    reported = build_graph(store.con, r.trace_id, heard(calls))
    silent = build_graph(store.con, r.trace_id)
    task, _, total = calls[0]
    assert task == f"building the replay graph of trace {r.trace_id}"
    assert [done for _, done, _ in calls] == list(range(total + 1))  # 0 at the start, then one per statement
    assert total > 10 and {t for _, _, t in calls} == {total}
    for name in cache.ARRAYS:
        assert np.array_equal(getattr(reported, name), getattr(silent, name), equal_nan=name == "point_flop_per_byte")


def test_a_store_reports_a_build_once_then_reads_the_graph_back(tmp_path):
    with retime.open(tmp_path / "s.duckdb") as store:
        [r] = store.ingest(PAGEABLE)
        calls = []
        store.on_progress = heard(calls)
        store.replay(r.trace_id, ["pcie.h2d=2x"])
        assert calls and calls[-1][1] == calls[-1][2]  # the build ran to its end
        calls.clear()
        store.replay(r.trace_id, ["pcie.h2d=4x"])
        assert calls == []  # read back from the cache: nothing to wait for


def test_a_sweep_reports_its_scenarios_as_batches_finish(store):
    [r] = store.ingest(PAGEABLE)
    quiet = store.sweep(r.trace_id, ["pcie.h2d=1x,2x,4x", "cpu.speed=1x,2x"])
    calls = []
    store.on_progress = heard(calls)
    loud = store.sweep(r.trace_id, ["pcie.h2d=1x,2x,4x", "cpu.speed=1x,2x"])
    sweeping = [c for c in calls if c[0].startswith("sweeping")]
    assert sweeping[0] == (f"sweeping 6 scenarios of trace {r.trace_id}", 0, 6)
    assert sweeping[-1][1:] == (6, 6)
    assert loud.scenarios.equals(quiet.scenarios)


def test_a_job_replay_reports_the_build_of_each_rank_graph(store):
    ranks = store.ingest(DDP)
    calls = []
    store.on_progress = heard(calls)
    store.replay(ranks[0].trace_id, ["cpu.speed=2x"], all_ranks=True)
    finished = {task for task, done, total in calls if done == total}
    assert finished == {f"building the replay graph of trace {r.trace_id}" for r in ranks}
