"""The replayer's invariants on real traces: unchanged hardware reproduces the trace; changed
hardware moves time the way physics says."""
from __future__ import annotations

import numpy as np
import pytest
from retime.replay import engine, kernels, scenario
from retime.replay.graph import build_graph


@pytest.fixture(scope="module")
def shared_store(every_shared_trace):
    return every_shared_trace


def test_unchanged_hardware_reproduces_every_shared_trace(shared_store):
    measured = scenario.parse([])
    worst = []
    for trace_id in shared_store.sql("SELECT trace_id FROM traces ORDER BY trace_id")["trace_id"]:
        graph = build_graph(shared_store.con, trace_id)
        if len(graph.measured) == 0:
            continue
        new, _, _ = engine.retimed(graph, measured)
        errors = np.abs(new - graph.measured)
        result = engine.replay(graph, measured)
        makespan_error = abs(result.predicted_ns - result.measured_ns) / max(result.measured_ns, 1)
        worst.append((makespan_error, int(np.percentile(errors, 99)), trace_id))
    assert len(worst) > 60
    assert max(w[0] for w in worst) <= 0.001, sorted(worst)[-3:]
    assert max(w[1] for w in worst) == 0, sorted(worst, key=lambda w: w[1])[-3:]  # p99 point error, ns


def test_twice_the_h2d_bandwidth_halves_h2d_copies(shared_store):
    trace_id = _trace(shared_store, "alexnet_cuda_sync.json.gz")
    graph = build_graph(shared_store.con, trace_id)
    new, _, _ = engine.retimed(graph, scenario.parse(["pcie.h2d=2x"]))
    h2d = shared_store.sql("SELECT event_id, dur_ns FROM events WHERE trace_id = $t AND copy_kind = 'H2D'", {"t": trace_id})
    starts, ends = engine.points_of_events(graph, h2d["event_id"].to_numpy())
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
        {"t": trace_id})["event_id"].to_numpy())

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
    new, _ = kernels.retime(measured, indptr, src.astype(np.int64), lag.astype(np.int64))
    twin = measured.copy()
    for p in range(n):
        incoming = [twin[s] + g for s, d, g in zip(src, dst, lag) if d == p]
        if incoming:
            twin[p] = max(incoming)
    assert (new == twin).all()


def _trace(store, path_part: str) -> int:
    return store.sql("SELECT trace_id FROM traces WHERE source_path LIKE $p", {"p": f"%{path_part}%"})["trace_id"][0]
