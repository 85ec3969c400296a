"""Queries on the GPU traces retime ships (recorded on an H100), checked against the JSON itself."""
from __future__ import annotations

from tests.conftest import SAMPLE_TRACES, load_json
from tests.ingest.reference_counts import _ns
from tests.queries.reference import launched_ops, union_length

GPU = SAMPLE_TRACES / "gpu_h100"


def test_copies_against_the_link_peak(store):
    path = GPU / "streams_graph.pt.trace.json.gz"
    [r] = store.ingest(path)
    copies = [e for e in load_json(path)["traceEvents"] if e.get("cat") == "gpu_memcpy" and "HtoD" in e["name"]]
    own_ns = sum(e["args"]["bytes"] / e["args"]["memory bandwidth (GB/s)"] for e in copies)
    achieved = sum(e["args"]["bytes"] for e in copies) / own_ns
    row = store.query("memcpy_bandwidth", r.trace_id, link_peak_gbps=50).filter(copy_kind="H2D").to_dicts()[0]
    assert row["achieved_gbps"] == round(achieved, 3)
    assert row["peak_gbps"] == 50 and row["pct_of_peak"] == round(100 * round(achieved, 3) / 50, 2)
    preset = store.query("memcpy_bandwidth", r.trace_id).filter(copy_kind="H2D").to_dicts()[0]
    assert preset["peak_gbps"] == 64  # the trace names an H100: PCIe Gen5 x16 from the preset


def test_launch_bound_verdicts_follow_the_host_work(store):
    """hostwork_1x hides its host work under the GPU's matmuls (GPU-bound after the first step);
    hostwork_2x doubles it and the GPU waits for launches."""
    verdicts = {}
    for name in ("hostwork_1x", "hostwork_2x"):
        path = GPU / f"{name}.pt.trace.json.gz"
        [r] = store.ingest(path)
        got = store.query("launch_bound", r.trace_id).to_dicts()
        verdicts[name] = [row["verdict"] for row in got]
        doc = load_json(path)
        base = doc.get("baseTimeNanoseconds", 0)
        ops = launched_ops(doc)
        steps = sorted((base + _ns(e["ts"]), base + _ns(e["ts"]) + _ns(e["dur"])) for e in doc["traceEvents"]
                       if e.get("cat") == "user_annotation" and e["name"].startswith("ProfilerStep#"))
        for row, (ws, we) in zip(got, steps):
            # union of GPU op time clipped to the window
            busy = union_length([(max(s, ws), min(e, we)) for _, s, e in ops if min(e, we) > max(s, ws)])
            assert row["gpu_busy_pct"] == round(100 * busy / (we - ws), 2)
            launch_times = sorted(call for call, _, _ in ops)
            depth = max(sum(1 for t in launch_times if t <= at) - sum(1 for _, _, e in ops if e <= at)
                        for at in launch_times if ws <= at < we)
            assert row["max_queue_depth"] == depth
    assert verdicts["hostwork_1x"][1:] == ["gpu-bound"] * 3
    assert verdicts["hostwork_2x"] == ["launch-bound"] * 4


def test_queue_depth_over_time(store):
    path = GPU / "hostwork_1x.pt.trace.json.gz"
    [r] = store.ingest(path)
    bucket = 2_000_000
    ops = launched_ops(load_json(path))
    changes = sorted([(call, 1) for call, _, _ in ops] + [(end, -1) for _, _, end in ops])
    expected, depth, k = {}, 0, 0
    origin = store.sql("SELECT start_ns FROM traces WHERE trace_id = $t", params={"t": r.trace_id}).item()
    # buckets count from the trace's first event, as the table's times do
    for lo in range(origin + (changes[0][0] - origin) // bucket * bucket, changes[-1][0] + 1, bucket):
        # integrate the depth (launched, not yet finished) over the bucket, and its peak
        area, peak, t = 0, depth, lo
        while k < len(changes) and changes[k][0] < lo + bucket:
            at, delta = changes[k]
            area += depth * (at - t)
            depth, t, k = depth + delta, at, k + 1
            peak = max(peak, depth)
        area += depth * (lo + bucket - t)
        expected[lo] = (round(area / bucket, 3), peak)
    got = {row["bucket_start_ns"]: (row["mean_depth"], row["max_depth"])
           for row in store.query("queue_depth", r.trace_id, bucket_ns=bucket).to_dicts()}
    assert got.keys() == expected.keys()
    for lo, (mean, peak) in got.items():
        assert abs(mean - expected[lo][0]) <= 0.001 and peak == expected[lo][1], lo


def test_launch_bound_says_when_a_trace_ran_no_gpu_work(store):
    """The CPU sample has ProfilerStep windows and no GPU: no verdict about launches or the GPU."""
    [r] = store.ingest(SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz")
    rows = store.query("launch_bound", r.trace_id).to_dicts()
    assert rows and {row["verdict"] for row in rows} == {"no GPU work"}
    assert {row["gpu_busy_pct"] for row in rows} == {0.0}
