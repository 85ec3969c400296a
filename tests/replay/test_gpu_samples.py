"""The replayer on the GPU traces retime ships (sample_traces/gpu_h100, recorded on an H100): it
reproduces them, and it predicts each measured what-if pair's second trace from its first."""
from __future__ import annotations

import tomllib

import numpy as np
import pytest
from retime.replay import engine, scenario, spans
from retime.replay.graph import build_graph

import retime
from tests.conftest import SAMPLE_TRACES

GPU = SAMPLE_TRACES / "gpu_h100"
MEASURED = tomllib.loads((GPU / "measurements.toml").read_text())


@pytest.fixture(scope="module")
def gpu_store(tmp_path_factory):
    with retime.open(tmp_path_factory.mktemp("gpu") / "gpu.duckdb") as s:
        s.ingest(sorted(GPU.glob("*.json.gz")))
        yield s


def trace(store, name: str) -> int:
    return store.resolve_trace(f"{name}.pt.trace.json.gz")


@pytest.mark.parametrize("name", ["h2d_pageable", "h2d_pinned", "hostwork_1x", "hostwork_2x", "streams_graph"])
def test_unchanged_hardware_reproduces_every_point_and_step(gpu_store, name):
    graph = build_graph(gpu_store.con, trace(gpu_store, name))
    new, _, _ = engine.retimed(graph, scenario.parse([]))
    assert (new == graph.measured).all()
    result = engine.replay(graph, scenario.parse([]))
    assert len(result.steps) == 4 and all(s.predicted_ns == s.measured_ns for s in result.steps)


def predicted_error(store, base: str, target: str, settings=(), scale=()) -> float:
    result = store.replay(trace(store, base), scenario.parse(list(settings), scale=list(scale)))
    return store.against(result, trace(store, target)).error_pct


def test_pageable_to_pinned_copies_predicts_the_pinned_run(gpu_store):
    # the bandwidth a user would know: a pinned-copy benchmark on that machine, outside any trace
    pinned = MEASURED["h2d_pinned"]["copy_gb_per_s"]
    error = predicted_error(gpu_store, "h2d_pageable", "h2d_pinned", [f"pcie.h2d={pinned:.1f}GB/s"])
    assert abs(error) < 15, error  # 2.6x faster steps, predicted within 15%


def test_pinned_to_pageable_copies_predicts_the_pageable_run(gpu_store):
    # the pageable copies' bandwidth as the pageable trace itself shows it (staging slows them under the profiler)
    seen = gpu_store.sql("SELECT sum(bytes) / sum(dur_ns) AS gb_s FROM events WHERE trace_id = $t AND kind = 'memcpy' "
                         "AND src_kind = 'pageable' AND bytes > 1e6", params={"t": trace(gpu_store, "h2d_pageable")})["gb_s"][0]
    error = predicted_error(gpu_store, "h2d_pinned", "h2d_pageable", [f"pcie.h2d={seen:.2f}GB/s"])
    assert abs(error) < 10, error


def test_twice_the_host_work_predicts_the_2x_run_and_back(gpu_store):
    assert abs(predicted_error(gpu_store, "hostwork_1x", "hostwork_2x", scale=["^host_prep$=2x"])) < 10
    assert abs(predicted_error(gpu_store, "hostwork_2x", "hostwork_1x", scale=["^host_prep$=0.5x"])) < 10


def test_halving_host_work_that_overlaps_the_gpu_saves_less_than_half_of_it(gpu_store):
    """The host work runs while the GPU multiplies matrices: halving it lets the GPU bound the step,
    so a step saves far less than half the host work, which a sum of durations would predict."""
    t = trace(gpu_store, "hostwork_1x")
    result = gpu_store.replay(t, scenario.parse([], scale=["^host_prep$=0.5x"]))
    host_prep = gpu_store.sql("SELECT median(dur_ns) AS ns FROM events WHERE trace_id = $t AND name = 'host_prep'",
                              params={"t": t})["ns"][0]
    saved = np.median([s.measured_ns - s.predicted_ns for s in result.steps])
    assert 0 <= saved < 0.25 * host_prep


def test_removing_the_host_work_leaves_the_gpu_bound(gpu_store):
    t = trace(gpu_store, "hostwork_1x")
    result = gpu_store.replay(t, scenario.parse([], remove=["^host_prep$"]))
    assert result.bound_by == "compute"
    matmuls = gpu_store.sql("SELECT sum(dur_ns) / 4 AS ns FROM events WHERE trace_id = $t AND kind = 'kernel' "
                            "AND name LIKE '%gemm%'", params={"t": t})["ns"][0]
    assert all(matmuls < s.predicted_ns <= s.measured_ns for s in result.steps)


def test_a_pageable_copy_holds_its_call_until_it_is_staged(gpu_store):
    """cudaMemcpyAsync from pageable memory returns as its copy ends: a faster link shortens the call."""
    t = trace(gpu_store, "h2d_pageable")
    graph = build_graph(gpu_store.con, t)
    calls = gpu_store.sql("""SELECT c.event_id FROM deps d
                             JOIN events c ON c.trace_id = d.trace_id AND c.event_id = d.src_event_id
                             JOIN events m ON m.trace_id = d.trace_id AND m.event_id = d.dst_event_id
                             WHERE d.trace_id = $t AND d.kind = 'launch' AND m.bytes > 1e6""", params={"t": t})["event_id"]
    assert len(calls) == 4
    new, _, _ = engine.retimed(graph, scenario.parse(["pcie.h2d=4x"]))
    for call in calls:
        [start], [end] = spans.points_of_events(graph, [call])
        measured, predicted = graph.measured[end] - graph.measured[start], new[end] - new[start]
        assert predicted < 0.3 * measured


def test_the_autograd_thread_follows_the_main_thread(gpu_store):
    """Backward runs on PyTorch's autograd thread, handed off by loss.backward() on the main thread:
    when the copies before it get faster, the backward ops move earlier with the main thread."""
    t = trace(gpu_store, "h2d_pageable")
    graph = build_graph(gpu_store.con, t)
    new, _, _ = engine.retimed(graph, scenario.parse(["pcie.h2d=4x"]))
    backward = gpu_store.sql("""SELECT e.event_id FROM events e JOIN lanes l USING (trace_id, lane_id)
                                WHERE e.trace_id = $t AND l.name LIKE '%autograd%'
                                  AND e.name = 'autograd::engine::evaluate_function: NllLossBackward0'
                                ORDER BY e.ts_ns""", params={"t": t})["event_id"].to_numpy()
    starts, _ = spans.points_of_events(graph, backward)
    moved = graph.measured[starts] - new[starts]
    copies_saved = 0.75 * 8.1e6 * np.arange(1, len(starts) + 1)  # 4 copies of ~8.1 ms, each 4x faster
    assert (moved > 0.9 * copies_saved).all(), (moved, copies_saved)


def test_a_side_stream_copy_holds_back_the_work_that_waits_for_it(gpu_store):
    """streams_graph: a prefetch on a side stream, joined by cudaStreamWaitEvent before a CUDA graph
    replay. Slowing only the prefetch delays the graph's kernels on the main stream."""
    t = trace(gpu_store, "streams_graph")
    graph = build_graph(gpu_store.con, t)
    launched_by_graph = gpu_store.sql("""SELECT count(*) AS n FROM deps d
                                         JOIN events c ON c.trace_id = d.trace_id AND c.event_id = d.src_event_id
                                         WHERE d.trace_id = $t AND d.kind = 'launch' AND c.name = 'cudaGraphLaunch'""",
                                      params={"t": t})["n"][0]
    assert launched_by_graph >= 4  # kernels replayed from a CUDA graph keep their launch
    slow, _, _ = engine.retimed(graph, scenario.parse(["pcie.h2d=0.01x"]))
    base, _, _ = engine.retimed(graph, scenario.parse([]))
    prefetch = gpu_store.sql("""SELECT e.event_id FROM events e JOIN lanes l USING (trace_id, lane_id)
                                WHERE e.trace_id = $t AND e.kind = 'memcpy' AND e.copy_kind = 'H2D' ORDER BY e.ts_ns""",
                             params={"t": t})["event_id"].to_numpy()
    _, prefetch_end = spans.points_of_events(graph, prefetch)
    d2d = gpu_store.sql("""SELECT event_id FROM events WHERE trace_id = $t AND kind = 'memcpy' AND copy_kind = 'D2D'
                           ORDER BY ts_ns""", params={"t": t})["event_id"].to_numpy()
    d2d_start, _ = spans.points_of_events(graph, d2d)
    # static_in.copy_(staged) on the main stream runs after the side stream's copy in every step
    assert (slow[d2d_start] >= slow[prefetch_end]).all()
    assert (slow[d2d_start] - base[d2d_start] > 0).all()


def test_thin_matrix_products_follow_memory_bandwidth_not_flops(gpu_store):
    """Roofline: a weight gradient of the last layer (4096x16 @ 16x1024, ~8 FLOP per byte) is far below
    the H100's ridge point, so `hbm` speeds its GEMM kernel up and `gpu.flops` does not; a
    4096x1024 @ 1024x1024 product (~230 FLOP/byte in float32) is compute-bound."""
    t = trace(gpu_store, "h2d_pageable")
    graph = build_graph(gpu_store.con, t)
    kernels_of = gpu_store.sql("""SELECT json_extract(o.args, '$."Input Dims"')::VARCHAR AS dims, k.event_id
                                  FROM events o JOIN events k ON k.trace_id = o.trace_id AND k.external_id = o.external_id
                                  WHERE o.trace_id = $t AND o.name = 'aten::mm' AND k.kind = 'kernel'
                                    AND k.name LIKE '%gemm%'""", params={"t": t})
    thin = kernels_of.filter(dims="[[4096,16],[16,1024]]")["event_id"].to_list()
    square = kernels_of.filter(dims="[[4096,1024],[1024,1024]]")["event_id"].to_list()
    assert thin and square

    def duration(new, event):
        [start], [end] = spans.points_of_events(graph, [event])
        return new[end] - new[start]

    hbm, _, _ = engine.retimed(graph, scenario.parse(["hbm=2x"]))
    flops, _, _ = engine.retimed(graph, scenario.parse(["gpu.flops=2x"]))
    for event in thin:
        assert duration(hbm, event) < 0.51 * duration(graph.measured, event)
        assert duration(flops, event) == duration(graph.measured, event)
    for event in square:
        assert duration(flops, event) < 0.51 * duration(graph.measured, event)
        assert duration(hbm, event) == duration(graph.measured, event)
