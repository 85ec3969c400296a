"""`--set batch=F`: each GPU op's own time at F times the measured batch, on real traces: GEMMs of
recorded shape by NVIDIA's measured latencies at the new m, host copies by their bytes,
collectives kept, the rest by the trace's floor plus its work times F; on traces with no GPU ops, the
host's operators by the same rule, against measured pairs of batch sizes (sample_traces/batch)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import retime

from retime.core.errors import ScenarioError
from retime.replay import batch, cache, engine, kernel_db, presets, spans
from tests.conftest import SAMPLE_TRACES, SHARED_TRACES, shared_store

TIMESFORMER = SHARED_TRACES / "tracelens" / "h100_facebook_timesformer-base-finetuned-k400__1016002.json.gz"
A100_NCCL = SHARED_TRACES / "hta" / "nccl_parser_config_rank0.json.gz"


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    with shared_store(tmp_path_factory, TIMESFORMER, A100_NCCL) as (store, ids):
        yield store, ids


def durations(store, trace_id, settings):
    graph = cache.graph(store.con, trace_id, None)
    new, _, _ = engine.retimed(graph, store.scenario(trace_id, settings))
    edges = batch.duration_edges(graph)
    return graph, edges, (new[graph.dst[edges]] - new[graph.src[edges]]).astype(np.float64)


def test_gemms_of_recorded_shape_move_by_measured_latencies_at_the_new_m(traces):
    store, (t, _) = traces
    graph, edges, new = durations(store, t, ["batch=2x"])
    starts = graph.src[edges]
    gemm = (graph.point_gpu_class[starts] == 0) & (graph.point_shape[starts] >= 0) & (graph.point_roof[starts] == 0)
    assert gemm.sum() > 100
    m, n, k = graph.shape_of(starts[gemm]).T
    ratio = (kernel_db.latency("h100", "bf16", 2 * m, n, k, presets.presets())
             / kernel_db.latency("h100", "bf16", m, n, k, presets.presets()))
    assert np.allclose(new[gemm], graph.base_lag[edges[gemm]] * ratio, rtol=1e-6, atol=1)
    assert 1.0 < np.median(ratio) < 2.0  # more work, less than twice the time: part of it was latency


def test_host_copies_grow_with_the_batch_and_the_rest_keep_their_floor(traces):
    store, (t, _) = traces
    graph, edges, new = durations(store, t, ["batch=2x"])
    measured = graph.base_lag[edges].astype(np.float64)
    h2d = graph.edge_class[edges] == engine.EDGE_CLASSES.index("h2d")
    assert h2d.any() and np.allclose(new[h2d], 2 * measured[h2d], atol=1)
    elementwise = graph.point_gpu_class[graph.src[edges]] == 4
    floor = batch.trace_floor(graph, edges)
    expected = np.minimum(measured, floor) + np.maximum(measured - floor, 0) * 2
    assert np.allclose(new[elementwise], expected[elementwise], atol=1)


def test_collectives_keep_their_time(traces):
    store, (_, t) = traces
    graph, edges, new = durations(store, t, ["batch=2x"])
    comm = graph.edge_class[edges] == engine.EDGE_CLASSES.index("comm")
    assert comm.sum() >= 15 and np.array_equal(new[comm], graph.base_lag[edges[comm]].astype(np.float64))


def test_a_batch_replay_says_how_it_moved_the_work_and_that_it_is_unvalidated(traces):
    store, (t, _) = traces
    result = store.replay(t, ["batch=2x"])
    assert result.speedup < 1 and result.error_bar.pct is None and "batch" in result.error_bar.text
    [note] = result.notes
    shares = [int(x) for x in __import__("re").findall(r"(\d+)%", note)]
    assert len(shares) == 4 and abs(sum(shares) - 100) <= 2 and shares[0] > 0
    assert store.replay(t, ["batch=1x"]).error_bar.text.startswith("none")
    assert store.replay(t, ["batch=0.5x"]).speedup > 1


def test_batch_is_a_base_of_a_sweep_not_an_axis(traces):
    store, (t, _) = traces
    with pytest.raises(ScenarioError, match="cannot be a sweep axis"):
        store.sweep(t, ["batch=1x,2x"])
    swept = store.sweep(t, ["hbm=1x,2x"], ["batch=2x"]).scenarios.sort("hbm")
    assert swept["predicted_span_ns"][0] == store.replay(t, ["batch=2x"]).predicted_ns
    with pytest.raises(ScenarioError, match="factor of the measured batch"):
        store.scenario(t, ["batch=64GB/s"])


def test_a_decode_step_at_another_batch_moves_its_graph_replayed_kernels_by_rule(tmp_path_factory):
    """The SGLang decode step (CUDA graph replays: no kernel records its shapes) at twice and half
    its batch: every GPU op by the trace's floor plus its work times the factor, which the note says;
    twice the batch is slower, by less than twice (the floor stays), half is faster."""
    decode = SHARED_TRACES / "tracelens" / "b300_sglang_qwen3_30b_a3b_decode.json.gz"
    with shared_store(tmp_path_factory, decode) as (store, [t]):
        double, half = store.replay(t, ["batch=2x"]), store.replay(t, ["batch=0.5x"])
        graph = cache.graph(store.con, t, None)
        busy = engine.gpu_busy_ns(graph, graph.measured)
        new_busy = engine.gpu_busy_ns(graph, engine.retimed(graph, store.scenario(t, ["batch=2x"]))[0])
        assert busy < new_busy < 2 * busy
        assert double.speedup < 1 < half.speedup
        [note] = double.notes
        by_rule = [int(x) for x in __import__("re").findall(r"(\d+)%", note)]
        assert by_rule[0] == 0  # no GEMM of recorded shape: graph replays record none


BATCH_PAIRS = SAMPLE_TRACES / "batch"


@pytest.fixture(scope="module")
def cpu_batches(tmp_path_factory):
    """The measured batch-size pairs of sample_traces/batch (the CPU build of PyTorch), by file stem."""
    with retime.open(tmp_path_factory.mktemp("batch") / "s.duckdb") as store:
        files = sorted(BATCH_PAIRS.glob("*.json.gz"))
        yield store, {Path(r.path).name.split(".")[0]: r.trace_id for r in store.ingest(files)}


def test_on_a_trace_without_gpu_ops_the_batch_moves_the_host_operators_and_keeps_the_rest(cpu_batches):
    store, t = cpu_batches
    trace = t["mlp_train_bs64"]
    graph = cache.graph(store.con, trace, None)
    assert not graph.point_is_gpu.any()
    new, _, lag = engine.retimed(graph, store.scenario(trace, ["batch=2x"]))
    moved = batch.host_work_edges(graph)
    measured = graph.base_lag[moved].astype(np.float64)
    floor = np.quantile(measured, batch.FLOOR_QUANTILE)
    expected = np.minimum(measured, floor) + np.maximum(measured - floor, 0) * 2
    assert np.allclose(lag[moved], expected, atol=1)
    # the optimizer's update of the weights and the time outside operators keep theirs
    optimizer = spans.own_time_edges(graph, r"^Optimizer\.step#")
    assert optimizer.any() and not np.isin(np.flatnonzero(optimizer), moved).any()
    kept = np.setdiff1d(np.flatnonzero(graph.base_lag > 0), moved)
    assert np.array_equal(lag[kept], graph.base_lag[kept])
    # an operator's host time is most of this trace's, and what the note says moved
    [note] = store.replay(trace, ["batch=2x"]).notes
    share = int(__import__("re").search(r"moved (\d+)% of the host's time", note)[1])
    assert abs(share - 100 * measured.sum() / graph.base_lag.sum()) <= 1 and share > 50


def test_a_host_run_batch_lands_nearer_the_measured_batch_than_no_change_within_its_bar(cpu_batches):
    """The encoder at batch 4 replayed at 16 against its measured run at 16 (a pair the bar is made
    of: bench/fidelity.py): within the quoted bar, and far nearer than the unchanged step."""
    store, t = cpu_batches
    small, large = t["encoder_infer_bs4"], t["encoder_infer_bs16"]
    result = store.replay(small, ["batch=4x"])
    check = store.against(result, large)
    assert result.error_bar.pct is not None and "batch.host" in result.error_bar.text
    assert abs(check.error_pct) < result.error_bar.pct
    unchanged = 100 * abs(store.iteration(small)["step_ns"] - check.measured_ns) / check.measured_ns
    assert unchanged > 3 * abs(check.error_pct)


def test_a_gpu_trace_at_another_batch_names_the_host_runs_validation_beside_unvalidated(traces):
    store, (t, _) = traces
    bar = store.replay(t, ["batch=2x"]).error_bar
    assert bar.pct is None and "on a GPU" in bar.text and "traces with no GPU ops" in bar.text
