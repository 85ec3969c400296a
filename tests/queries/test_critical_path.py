"""The critical path of a saved replay, from the store alone."""
from __future__ import annotations

import polars as pl
from retime.replay import scenario

from tests.conftest import SAMPLE_TRACES

PAGEABLE = SAMPLE_TRACES / "gpu_h100" / "h2d_pageable.pt.trace.json.gz"


def test_the_path_adds_up_to_the_replays_own_accounting(store):
    [r] = store.ingest(PAGEABLE)
    result = store.replay(r.trace_id, scenario.parse(["pcie.h2d=53GB/s"]), save=True)
    path = store.query("critical_path", result.saved_trace_id)
    # every link's time comes from the saved events' times; together they are the path the replay walked
    assert path["time_ns"].sum() == sum(result.critical_path_ns.values())
    assert path["end_ns"].is_sorted() and abs(path["share_pct"].sum() - 100) < 0.5
    # each 64 MiB copy is on the path for bytes / bandwidth, and the synchronize after it waits for its end
    copies = path.filter(link="duration", resource="memory", time_ns=round(64 * 2**20 / 53))
    assert copies.height == 4
    after_copies = [seq + 1 for seq in copies["seq"].to_list()]
    assert path.filter(pl.col("seq").is_in(after_copies))["link"].unique().to_list() == ["sync wait"]
    shares = store.query("critical_path_shares", result.saved_trace_id)
    assert shares["time_ns"].sum() == path["time_ns"].sum()
    assert set(shares["step"].drop_nulls()) == {f"ProfilerStep#{n}" for n in range(3, 7)}


def test_a_measured_trace_has_no_saved_path(store):
    [r] = store.ingest(PAGEABLE)
    assert store.query("critical_path", r.trace_id).height == 0
