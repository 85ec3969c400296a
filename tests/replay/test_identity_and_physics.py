"""The replayer's invariants on real traces: unchanged hardware reproduces the trace; changed
hardware moves time the way physics says."""
from __future__ import annotations

import numpy as np
import pytest
from retime.replay import engine, passes, scenario, spans
from retime.replay.graph import build_graph, build_graph_sql

import retime
from tests.conftest import SAMPLE_TRACES, SHARED_TRACES

pytestmark = pytest.mark.slow  # over every trace of ../shared/traces


@pytest.fixture(scope="module")
def shared_store(every_shared_trace):
    return every_shared_trace


def _identity_misses(store) -> list[tuple[int, int, int]]:
    """(trace id, points off, largest miss in ns) of each trace whose unchanged replay moves a point."""
    measured = scenario.parse([])
    misses = []
    for trace_id in store.sql("SELECT trace_id FROM traces ORDER BY trace_id")["trace_id"]:
        graph = build_graph(store.con, trace_id)
        if len(graph.measured) == 0:
            continue
        new, _, _ = engine.retimed(graph, measured)
        errors = np.abs(new - graph.measured)
        if errors.any():
            misses.append((trace_id, int((errors > 0).sum()), int(errors.max())))
    return misses


def test_unchanged_hardware_reproduces_every_shared_trace_at_every_start_and_end(shared_store):
    assert shared_store.sql("SELECT count(*) AS n FROM traces")["n"][0] > 60
    assert _identity_misses(shared_store) == []


def test_unchanged_hardware_reproduces_every_sample_trace_at_every_start_and_end(tmp_path):
    with retime.open(tmp_path / "samples.duckdb") as store:
        store.ingest(SAMPLE_TRACES)
        assert store.sql("SELECT count(*) AS n FROM traces")["n"][0] >= 10
        assert _identity_misses(store) == []


ZERO_LENGTH_AFTER_IDLE = """
WITH ops AS (
    SELECT event_id, lane_id, ts_ns, dur_ns, lag(ts_ns + dur_ns) OVER (PARTITION BY lane_id ORDER BY ts_ns, event_id) AS prev_end
    FROM events WHERE trace_id = $t AND kind = 'kernel'
)
SELECT c.event_id AS call, o.event_id AS kernel, c.ts_ns + c.dur_ns AS call_end
FROM deps d JOIN events c ON c.trace_id = d.trace_id AND c.event_id = d.src_event_id
JOIN ops o ON o.event_id = d.dst_event_id
WHERE d.trace_id = $t AND d.kind = 'launch' AND o.dur_ns = 0 AND c.name = 'cudaLaunchKernel'
  AND o.ts_ns > c.ts_ns + c.dur_ns AND o.prev_end < c.ts_ns
ORDER BY c.dur_ns DESC, o.ts_ns LIMIT 1
"""


def test_a_zero_length_kernel_ending_as_its_launch_returns_keeps_the_launch_its_measured_time(shared_store, tmp_path):
    """Old Kineto traces round to the µs: a kernel of 0 ns can start the instant its launch call
    returns. The call then counts as one that waited for its own op, and the wait must still bind,
    so the unchanged replay keeps the call's 8 µs (it used to shrink to 0 ns and pull the whole
    thread after it earlier). A real V100 ResNet-50 trace, with one such kernel put at its call's
    return (it started later; its stream was idle from before the call)."""
    with retime.open(tmp_path / "tie.duckdb") as store:
        [r] = store.ingest(SHARED_TRACES / "kineto" / "tb_plugin_resnet50_nw0_2021-06.pt.trace.json.gz")
        t = r.trace_id
        [(call, kernel, call_end)] = store.sql(ZERO_LENGTH_AFTER_IDLE, params={"t": t}).rows()
        assert _identity_misses(store) == []
        store.con.execute("UPDATE events SET ts_ns = $end WHERE trace_id = $t AND event_id = $k",
                          {"end": call_end, "t": t, "k": kernel})
        assert _identity_misses(store) == []
        by_sql = build_graph_sql(store.con, t)  # the graph's SQL definition binds the wait as well
        assert (engine.retimed(by_sql, scenario.parse([]))[0] == by_sql.measured).all()
        graph = build_graph(store.con, t)
        new, _, _ = engine.retimed(graph, scenario.parse(["launch.latency=0.5x"]))
        start, end = spans.points_of_events(graph, np.array([call]))
        assert new[end[0]] - new[start[0]] > 0  # a faster launch path shortens the call, it does not free it


def test_twice_the_h2d_bandwidth_halves_h2d_copies(shared_store):
    trace_id = _trace(shared_store, "alexnet_cuda_sync.json.gz")
    graph = build_graph(shared_store.con, trace_id)
    new, _, _ = engine.retimed(graph, scenario.parse(["pcie.h2d=2x"]))
    h2d = shared_store.sql("SELECT event_id, dur_ns FROM events WHERE trace_id = $t AND copy_kind = 'H2D'", params={"t": trace_id})
    starts, ends = spans.points_of_events(graph, h2d["event_id"].to_numpy())
    for start, end, dur in zip(starts, ends, h2d["dur_ns"]):
        assert new[end] - new[start] == round(dur / 2)


@pytest.mark.parametrize("knob", ["gpu.flops=2x", "hbm=1.5x", "pcie.h2d=2x", "pcie.d2h=4x", "net=2x", "cpu.speed=2x",
                                  "launch.latency=0.5x"])
def test_faster_hardware_is_never_slower(shared_store, knob):
    for trace_id in shared_store.sql("SELECT trace_id FROM traces WHERE format <> 'chrome'")["trace_id"]:
        graph = build_graph(shared_store.con, trace_id)
        base, _, _ = engine.retimed(graph, scenario.parse([]))
        faster, _, _ = engine.retimed(graph, scenario.parse([knob]))
        assert (faster <= base).all(), (knob, trace_id)


def test_a_faster_cpu_shrinks_gpu_idle_on_a_launch_bound_trace(shared_store):
    trace_id = _trace(shared_store, "dlrm_8rank/worker0")
    [idle] = shared_store.query("idle_breakdown", trace_id).filter(cause="host_wait").head(1)["idle_pct"]
    assert idle > 50  # the GPU mostly waited for the host
    graph = build_graph(shared_store.con, trace_id)
    gpu_points = np.isin(graph.point_event, shared_store.sql(
        "SELECT event_id FROM events WHERE trace_id = $t AND kind IN ('kernel', 'collective', 'memcpy', 'memset')",
        params={"t": trace_id})["event_id"].to_numpy())

    def gpu_idle(times):
        busy = sum(times[graph.point_is_end & gpu_points]) - sum(times[~graph.point_is_end & gpu_points])
        span = times[gpu_points].max() - times[gpu_points].min()
        return span - busy  # an upper bound of idle that moves with it (durations are unchanged by cpu.speed)

    base, _, _ = engine.retimed(graph, scenario.parse([]))
    faster, _, _ = engine.retimed(graph, scenario.parse(["cpu.speed=2x"]))
    assert gpu_idle(faster) < gpu_idle(base)


def test_the_kernel_matches_its_plain_python_twin():
    rng = np.random.default_rng(7)
    n = 300
    measured = np.sort(rng.integers(0, 10_000, n))
    src, dst = [], []
    for p in range(1, n):
        for q in rng.choice(p, size=min(p, 3), replace=False):
            src.append(q)
            dst.append(p)
    order = np.argsort(dst, kind="stable")
    src, dst = np.array(src)[order], np.array(dst)[order]
    lag = rng.integers(0, 500, len(src))
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(dst, minlength=n), out=indptr[1:])
    new, _ = passes.retime(measured, indptr, src.astype(np.int64), lag.astype(np.int64))
    twin = measured.copy()
    for p in range(n):
        incoming = [twin[s] + g for s, d, g in zip(src, dst, lag) if d == p]
        if incoming:
            twin[p] = max(incoming)
    assert (new == twin).all()


def _trace(store, path_part: str) -> int:
    return store.sql("SELECT trace_id FROM traces WHERE source_path LIKE $p", params={"p": f"%{path_part}%"})["trace_id"][0]


def test_one_span_everywhere(shared_store):
    """`traces`, `info`, a replay's measured span and --against's span are one number on every
    shared trace; `info` gives the recorded window (profiler markers included) beside it."""
    listed = dict(shared_store.traces().select("trace_id", "span_ms").rows())
    checked = 0
    for trace_id, span_ms in listed.items():
        graph = build_graph(shared_store.con, trace_id)
        if len(graph.measured) == 0:
            assert span_ms is None
            continue
        measured = engine.replay(graph, scenario.parse([])).measured_ns
        assert span_ms == round(measured / 1e6, 3)
        assert shared_store.iteration(trace_id)["span_ns"] == measured
        info = shared_store.info(trace_id)["trace"].row(0, named=True)
        assert info["span_ms"] == span_ms and info["recorded_ms"] >= span_ms
        checked += 1
    assert checked > 60
    nw0 = _trace(shared_store, "tb_plugin_resnet50_nw0_2021-06")
    assert shared_store.info(nw0)["trace"]["recorded_ms"][0] > listed[nw0] + 100  # "Record Window End" 108 ms later


def test_every_shared_trace_retargets_onto_presets_of_each_vendor_and_a_spec_part(shared_store, tmp_path):
    """`--to` onto an NVIDIA, an AMD and a Maia preset and onto a part known by its specs, from every
    shared trace (from h100 where the trace names no GPU a preset matches): a prediction and an error
    bar each, never a traceback."""
    from retime.core.errors import ScenarioError
    part = tmp_path / "b300_2x_hbm_every.toml"
    part.write_text('[b300_2x_hbm_every]\nbased_on = "b300"\nhbm_tb_s = 16.0\n')
    traces = shared_store.sql("SELECT trace_id FROM traces WHERE parent_trace_id IS NULL AND format <> 'pytorch_et'")
    assert traces.height > 60
    for t in traces["trace_id"].to_list():
        for target in ("b200", "mi300x", "maia100", str(part)):
            try:
                chosen = shared_store.scenario(t, to=target)
            except ScenarioError as exc:  # the trace names no GPU a preset matches: say where it ran
                assert "give source=" in str(exc) and "give --from" in exc.cli_message(), (t, target, exc)
                chosen = shared_store.scenario(t, to=target, source="h100")
            result = shared_store.replay(t, chosen)
            assert (result.predicted_ns > 0 or result.measured_ns == 0) and result.error_bar is not None, (t, target)
