"""Host-side queries on the shipped CPU traces (always run), checked against the JSON."""
from __future__ import annotations

from collections import defaultdict

from tests.conftest import SAMPLE_TRACES, load_json
from tests.ingest.reference_counts import _ns


def test_step_times_on_the_mlp_training_sample(store):
    path = SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz"
    doc = load_json(path)
    base = doc["baseTimeNanoseconds"]
    events = [e for e in doc["traceEvents"] if e.get("ph") == "X"]
    steps = sorted((base + _ns(e["ts"]), _ns(e["dur"]), e["name"]) for e in events
                   if e.get("cat") == "user_annotation" and e["name"].startswith("ProfilerStep#"))
    ops_by_thread = defaultdict(list)
    for e in events:
        if e.get("cat") == "cpu_op":
            ops_by_thread[e["tid"]].append((base + _ns(e["ts"]), -_ns(e["dur"])))
    outermost = []  # ops no earlier op on the thread encloses, found with an explicit end marker
    for ops in ops_by_thread.values():
        open_until = None
        for start, negative_dur in sorted(ops):
            if open_until is None or start >= open_until:
                outermost.append((start, -negative_dur))
            open_until = max(open_until or 0, start - negative_dur)

    [r] = store.ingest(path)
    got = store.query("step_times", r.trace_id).to_dicts()

    assert [row["step"] for row in got] == [name for _, _, name in steps]
    for row, (start, dur, _) in zip(got, steps):
        assert (row["start_ns"], row["dur_ns"]) == (start, dur)
        inside = [s for ops in ops_by_thread.values() for s, _ in ops if start <= s < start + dur]
        assert row["cpu_ops"] == len(inside)
        assert row["top_level_cpu_ns"] == sum(d for s, d in outermost if start <= s < start + dur)
        assert row["gpu_ops"] == 0 and row["gpu_busy_pct"] is None


def test_cpu_ops_on_the_convnet_sample(store):
    path = SAMPLE_TRACES / "cpu_convnet_inference.pt.trace.json.gz"
    totals, calls = defaultdict(int), defaultdict(int)
    for e in load_json(path)["traceEvents"]:
        if e.get("ph") == "X" and e.get("cat") == "cpu_op":
            totals[e["name"]] += _ns(e["dur"])
            calls[e["name"]] += 1
    [r] = store.ingest(path)
    got = store.query("cpu_ops", r.trace_id, top_n=1000).to_dicts()
    assert {row["name"]: (row["calls"], row["total_ns"]) for row in got} == {n: (calls[n], totals[n]) for n in totals}
    assert [row["total_ns"] for row in got] == sorted(totals.values(), reverse=True)
    assert got[0]["name"] == max(totals, key=totals.get)


def test_step_timeline_shows_one_step_lane_by_lane(store):
    path = SAMPLE_TRACES / "gpu_h100" / "hostwork_1x.pt.trace.json.gz"
    doc = load_json(path)
    base = doc.get("baseTimeNanoseconds", 0)
    [r] = store.ingest(path)
    steps = store.query("step_times", r.trace_id).to_dicts()
    median = sorted(s["dur_ns"] for s in steps)[(len(steps) - 1) // 2]
    chosen = next(s for s in steps if s["dur_ns"] == median)
    got = store.query("step_timeline", r.trace_id, max_events=100_000).to_dicts()
    assert {row["step"] for row in got} == {chosen["step"]}
    assert all(0 <= row["start_ns"] and row["start_ns"] + row["dur_ns"] <= chosen["dur_ns"] for row in got)
    lo, hi = chosen["start_ns"], chosen["start_ns"] + chosen["dur_ns"]
    kernels = [e for e in doc["traceEvents"] if e.get("ph") == "X" and e.get("cat") == "kernel"
               and base + _ns(e["ts"]) < hi and base + _ns(e["ts"]) + _ns(e["dur"]) > lo and _ns(e["dur"]) > 0]
    assert sum(row["kind"] == "kernel" for row in got) == len(kernels) > 0
    assert any(row["name"] == chosen["step"] and row["dur_ns"] == chosen["dur_ns"] for row in got)
    from retime import charts
    svg = charts.gantt(got)
    assert svg.count("<rect") == len(got) and "GPU 0 stream" in svg
