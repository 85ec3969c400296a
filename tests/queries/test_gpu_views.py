"""HTA's other GPU views, checked against sweeps over the trace file's own GPU ops: time per
combination of work kinds running at once, the idle gaps of each stream as a distribution, and copy
bandwidth over time."""
from __future__ import annotations

import statistics
from collections import defaultdict

import pytest

from tests.conftest import SAMPLE_TRACES
from tests.queries.reference import ingested

GRAPH = SAMPLE_TRACES / "gpu_h100" / "streams_graph.pt.trace.json.gz"


def _combinations(ops) -> dict[tuple[int, str], int]:
    """(device, kinds running joined by '+', or idle) -> ns, by a sweep over starts and ends."""
    found = defaultdict(int)
    for device in {o["device"] for o in ops}:
        points = sorted({t for o in ops if o["device"] == device for t in (o["start"], o["end"])})
        mine = [o for o in ops if o["device"] == device]
        for a, b in zip(points, points[1:]):
            running = {o["resource"] for o in mine if o["start"] <= a and o["end"] >= b and o["end"] > o["start"]}
            kinds = [k for k in ("compute", "communication", "memory") if k in running]
            found[(device, "+".join(kinds) or "idle")] += b - a
    return dict(found)


@pytest.mark.parametrize("trace", ["sample", "shared"])
def test_overlap_combinations_are_a_sweep_over_the_ops(store, trace, request):
    path = GRAPH if trace == "sample" else request.getfixturevalue("shared_traces") / "hta" / "nccl_parser_config_rank0.json.gz"
    trace_id, _, ops = ingested(store, path)
    got = {(r["device"], r["combination"]): r["ns"] for r in store.query("overlap_combinations", trace_id).to_dicts()}
    assert got == _combinations(ops)
    if trace == "shared":  # an NCCL trace: communication under compute shows as its own row
        assert got[(0, "compute+communication")] > 0


def test_idle_intervals_count_every_gap_of_each_stream(store):
    trace_id, _, ops = ingested(store, GRAPH)
    gaps = defaultdict(list)
    for key in {(o["device"], o["stream"]) for o in ops}:
        free_since = None
        for op in sorted((o for o in ops if (o["device"], o["stream"]) == key), key=lambda o: o["start"]):
            if free_since is not None and op["start"] > free_since:
                gaps[key].append(op["start"] - free_since)
            free_since = op["end"] if free_since is None else max(free_since, op["end"])
    rows = {(r["device"], r["stream"]): r for r in store.query("idle_intervals", trace_id).to_dicts()}
    assert set(rows) == {k for k, v in gaps.items() if v}
    for key, lengths in gaps.items():
        row = rows[key]
        assert (row["gaps"], row["idle_ns"], row["max_ns"]) == (len(lengths), sum(lengths), max(lengths))
        assert row["p50_ns"] == statistics.median(lengths)
        decades = [row[c] for c in ("under_1us", "us_1_10", "us_10_100", "us_100_1000", "ms_1_10", "over_10ms")]
        edges = [0, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, float("inf")]
        assert decades == [sum(lo <= g < hi for g in lengths) for lo, hi in zip(edges, edges[1:])]


def test_memory_bandwidth_timeline_carries_every_byte_once(store):
    trace_id, _, ops = ingested(store, GRAPH)
    rows = store.query("memory_bandwidth_timeline", trace_id, buckets=7).to_dicts()
    starts = [o["start"] for o in ops]
    width = -(-(max(o["end"] for o in ops) - min(starts)) // 7)
    moved = defaultdict(float)
    for row in rows:
        moved[row["direction"]] += row["gbps"] * width
    copies = defaultdict(int)
    for o in ops:
        if o["kind"] == "memcpy":
            direction = {"HtoD": "H2D", "DtoH": "D2H", "DtoD": "D2D"}[o["name"].split()[1]]
            copies[direction] += o["bytes"]
    for direction, nbytes in copies.items():
        assert moved[direction] == pytest.approx(nbytes, rel=1e-3, abs=7 * width * 1e-4)
    assert {r["bucket"] for r in rows} <= set(range(7))
