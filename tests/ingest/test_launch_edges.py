"""Launch edges come from the call that launched an op, never from another GPU op. A CUDA graph's
kernels share their cudaGraphLaunch's correlation id, so Kineto writes one 'f' arrow end per kernel
for a single 's' at the call; when the call fell before the profiler window (the window started
mid-run) the arrow ends are all that is left, and chaining them links kernel to kernel."""
from __future__ import annotations

import gzip

import orjson

from tests.conftest import SAMPLE_TRACES


def _window_starting_after_first_graph_launch(tmp_path):
    """The H100 CUDA-graph sample as a profiler window that opened just after its first
    cudaGraphLaunch returned: host-side events (slices, arrows, instants) before that are gone."""
    data = orjson.loads(gzip.decompress((SAMPLE_TRACES / "gpu_h100" / "streams_graph.pt.trace.json.gz").read_bytes()))
    events = data["traceEvents"]
    launch = min((e for e in events if e.get("name") == "cudaGraphLaunch"), key=lambda e: e["ts"])
    cut = launch["ts"] + launch["dur"]
    host_pid = launch["pid"]
    data["traceEvents"] = [e for e in events
                           if not (e.get("pid") == host_pid and e.get("ph") != "M" and e.get("ts", cut) < cut)]
    path = tmp_path / "graph_window.pt.trace.json.gz"
    path.write_bytes(gzip.compress(orjson.dumps(data)))
    return path, launch["args"]["correlation"]


def test_kernels_of_a_graph_launched_before_the_window_have_no_launch_edge(store, tmp_path):
    path, correlation = _window_starting_after_first_graph_launch(tmp_path)
    store.ingest(path)
    sources = store.sql("""
        SELECT s.kind AS src_kind, count(*) AS n FROM deps d
        JOIN events s ON s.event_id = d.src_event_id WHERE d.kind = 'launch' GROUP BY ALL""").rows()
    assert {kind for kind, _ in sources} <= {"runtime", "driver"}
    orphans = store.sql("SELECT count(*) AS n FROM events WHERE correlation = $c AND kind = 'kernel'",
                        params={"c": correlation})["n"][0]
    assert orphans == 3  # the graph's kernels are stored, launched by nothing in the window
    calls = set(store.query("launch_latency", trace_id=1)["call"])
    assert calls and all(c.startswith("cuda") for c in calls)


def test_every_kernel_of_a_graph_in_the_window_is_launched_by_its_graph_launch(store):
    store.ingest(SAMPLE_TRACES / "gpu_h100" / "streams_graph.pt.trace.json.gz")
    per_call = store.sql("""
        SELECT s.name AS call, count(*) AS ops FROM deps d JOIN events s ON s.event_id = d.src_event_id
        JOIN events g ON g.event_id = d.dst_event_id
        WHERE d.kind = 'launch' AND g.correlation = s.correlation AND s.name = 'cudaGraphLaunch'
        GROUP BY s.event_id, s.name""")
    assert per_call["ops"].to_list() == [3, 3, 3, 3]
