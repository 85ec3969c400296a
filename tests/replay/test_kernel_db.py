"""The measured GEMM tables: lookups reproduce the measurements, and --to between NVIDIA parts
moves a real trace's GEMMs by the ratio NVIDIA measured for their shapes."""
from __future__ import annotations

from importlib import resources

import duckdb
import numpy as np
import pytest

from retime.replay import cache, engine, kernel_db, presets, spans
from tests.conftest import SHARED_TRACES

import retime


def measured_rows(gpu: str, dtype: str, limit: int = 500):
    """Rows of the shipped table read independently, with DuckDB."""
    path = resources.files("retime.replay").joinpath("presets", "kernel_db", "gemm.parquet")
    return duckdb.sql(f"SELECT m, n, k, latency_us FROM '{path}' WHERE gpu = '{gpu}' AND dtype = '{dtype}' "
                      f"USING SAMPLE {limit} ROWS (reservoir, 7)").fetchnumpy()


@pytest.mark.parametrize("gpu, dtype", [("h100", "bf16"), ("b200", "fp8"), ("l40s", "bf16")])
def test_a_measured_shape_looks_up_its_own_latency(gpu, dtype):
    rows = measured_rows(gpu, dtype)
    got = kernel_db.latency(gpu, dtype, rows["m"], rows["n"], rows["k"], presets.presets())
    assert np.allclose(got, rows["latency_us"], rtol=1e-5)


def test_between_grid_points_latency_lies_between_its_neighbours():
    specs = presets.presets()
    low, mid, high = kernel_db.latency("h100", "bf16", [1024, 1536, 2048], [4096] * 3, [4096] * 3, specs)
    assert low < mid < high


def test_every_part_has_a_gemm_latency_from_its_specs_alone():
    specs = presets.presets()
    for key in specs:
        for dtype in kernel_db.DTYPES:
            if kernel_db.covers(key, dtype, specs):
                t = kernel_db.latency(key, dtype, [1, 4096], [4096, 4096], [4096, 4096], specs)
                assert np.isfinite(t).all() and (t > 0).all() and t[0] < t[1], (key, dtype)


def test_a_retarget_moves_real_h100_gemms_by_nvidias_measured_ratio(tmp_path):
    if not SHARED_TRACES.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    with retime.open(tmp_path / "g.duckdb") as store:
        [r] = store.ingest(SHARED_TRACES / "tracelens" / "h100_Falconsai_nsfw_image_detection__1016002.json.gz")
        graph = cache.graph(store.con, r.trace_id, store.path)
        chosen = store.scenario(r.trace_id, to="b200")
        lags = engine.edge_lags(graph, chosen)
        starts = np.flatnonzero(graph.point_is_gpu & ~graph.point_is_end & (graph.point_gpu_class == 0)
                                & (graph.point_shape >= 0) & (graph.point_roof == 0))
        assert len(starts) >= 20
        # each shaped BF16 GEMM's duration edge: from its start to its own end
        ends = {graph.point_event[p]: p for p in np.flatnonzero(graph.point_is_end)}
        dst = graph.dst
        checked = 0
        for p in starts:
            edge = np.flatnonzero((graph.src == p) & (dst == ends[graph.point_event[p]]))
            if len(edge) != 1 or graph.base_lag[edge[0]] <= 0:
                continue
            m, n, k = graph.shape_of(np.array([p]))[0]
            expected = kernel_db.latency("b200", "bf16", [m], [n], [k], presets.presets())[0] / \
                kernel_db.latency("h100", "bf16", [m], [n], [k], presets.presets())[0]
            assert lags[edge[0]] == pytest.approx(graph.base_lag[edge[0]] * expected, rel=1e-3, abs=1)
            checked += 1
        assert checked >= 20


def nccl_rows(gpu: str):
    path = resources.files("retime.replay").joinpath("presets", "kernel_db", "nccl.parquet")
    return duckdb.sql(f"SELECT op, ranks, bytes, latency_us FROM '{path}' WHERE gpu = '{gpu}'").fetchnumpy()


@pytest.mark.parametrize("gpu", ["h100", "b200", "gb200"])
def test_a_measured_collective_looks_up_its_own_latency(gpu):
    rows = nccl_rows(gpu)
    for op, ranks, nbytes, latency in zip(rows["op"], rows["ranks"], rows["bytes"], rows["latency_us"]):
        got = kernel_db.collective_latency(gpu, op, int(ranks), [nbytes], presets.presets())[0]
        assert got == pytest.approx(latency, rel=1e-5)


def test_a_held_out_nvlink_part_is_predicted_from_its_nearest_measured_part():
    """H200 held out: the H100 curves (same NVLink 4) predict its measured collectives to a few %;
    beyond the largest size measured, time grows with the size."""
    specs = presets.presets()
    rows = nccl_rows("h200")
    errors = [abs(kernel_db.collective_latency("h200", op, int(n), [b], specs, exclude=("h200",))[0] / t - 1)
              for op, n, b, t in zip(rows["op"], rows["ranks"], rows["bytes"], rows["latency_us"])]
    assert np.median(errors) < 0.05
    big = kernel_db.collective_latency("h100", "all_reduce", 8, [2**29, 2**30], specs)
    assert big[1] / big[0] == pytest.approx(2.0)
    assert kernel_db.covers_collectives("v100", specs) and not kernel_db.covers_collectives("mi300x", specs)


def test_a_retarget_moves_real_all_reduces_by_nvidias_measured_curves(tmp_path):
    """HTA's A100 rank (2 GPUs) onto B200: each all-reduce takes its time times the ratio of the two
    parts' measured NCCL latencies at its size; a broadcast, which has no curve, the link ratio."""
    path = SHARED_TRACES / "hta" / "nccl_parser_config_rank0.json.gz"
    if not path.is_file():
        pytest.skip("../shared/traces is not present in this checkout")
    specs = presets.presets()
    with retime.open(tmp_path / "s.duckdb") as store:
        [r] = store.ingest(path)
        graph = cache.graph(store.con, r.trace_id, None)
        new, _, _ = engine.retimed(graph, store.scenario(r.trace_id, to="b200", source="a100"))
        rows = store.sql("SELECT event_id, coll_op, coll_group_size, coll_in_nelems * 4 AS bytes, dur_ns FROM events "
                         "WHERE trace_id = $t AND kind = 'collective' AND dur_ns > 0", params={"t": r.trace_id})
        starts, ends = spans.points_of_events(graph, rows["event_id"].to_numpy())
        checked = {"allreduce": 0, "broadcast": 0}
        for (op, ranks, nbytes, dur), start, end in zip(rows.select("coll_op", "coll_group_size", "bytes", "dur_ns").rows(),
                                                         starts, ends):
            if op == "allreduce":
                expected = dur * (kernel_db.collective_latency("b200", "all_reduce", ranks, [nbytes], specs)[0]
                                  / kernel_db.collective_latency("a100", "all_reduce", ranks, [nbytes], specs)[0])
            else:
                expected = dur * specs["a100"]["interconnect_gb_s"] / specs["b200"]["interconnect_gb_s"]
            assert new[end] - new[start] == pytest.approx(expected, rel=1e-6, abs=1)
            checked[op] += 1
        assert checked["allreduce"] >= 10 and checked["broadcast"] >= 4


def test_measured_attention_looks_up_itself_and_a_held_out_part_comes_from_its_specs():
    specs = presets.presets()
    path = resources.files("retime.replay").joinpath("presets", "kernel_db", "attention.parquet")
    rows = duckdb.sql(f"SELECT gpu, batch, seq, heads, latency_us FROM '{path}' WHERE gpu IN ('h100', 'b300')").fetchnumpy()
    for gpu in ("h100", "b300"):
        mine = rows["gpu"] == gpu
        got = kernel_db.attention_latency(gpu, rows["batch"][mine], rows["seq"][mine], rows["heads"][mine], specs)
        assert np.allclose(got, rows["latency_us"][mine], rtol=1e-5)
        held = kernel_db.attention_latency(gpu, rows["batch"][mine], rows["seq"][mine], rows["heads"][mine], specs,
                                           exclude=(gpu,))
        assert np.median(np.abs(held / rows["latency_us"][mine] - 1)) < 0.12
    # longer sequences cost more, quadratically once the work dominates
    short, long_ = kernel_db.attention_latency("h100", [8, 8], [4096, 8192], [32, 32], specs)
    assert 3.0 < long_ / short < 4.5


def test_a_retarget_moves_real_h100_attention_by_the_measured_attention_ratio(tmp_path):
    """The Falconsai ViT on an H100 runs SDPA (flash attention) on queries of [4, 12, 197, 64]: onto
    B200 each attention kernel takes its time times the ratio of the two parts' measured attention
    at batch 4, sequence 197, 12 heads."""
    path = SHARED_TRACES / "tracelens" / "h100_Falconsai_nsfw_image_detection__1016002.json.gz"
    if not path.is_file():
        pytest.skip("../shared/traces is not present in this checkout")
    specs = presets.presets()
    with retime.open(tmp_path / "a.duckdb") as store:
        [r] = store.ingest(path)
        graph = cache.graph(store.con, r.trace_id, None)
        new, _, _ = engine.retimed(graph, store.scenario(r.trace_id, to="b200"))
    from retime.replay import batch
    edges = batch.duration_edges(graph)
    starts = graph.src[edges]
    shaped = (graph.point_gpu_class[starts] == 1) & (graph.point_shape[starts] >= 0)
    assert shaped.sum() == 12
    b, s, h = graph.shape_of(starts[shaped]).T
    assert set(zip(b, s, h)) == {(4.0, 197.0, 12.0)}
    ratio = kernel_db.attention_latency("b200", b, s, h, specs) / kernel_db.attention_latency("h100", b, s, h, specs)
    got = (new[graph.dst[edges[shaped]]] - new[starts[shaped]]) / graph.base_lag[edges[shaped]]
    assert np.allclose(got, ratio, rtol=2e-3)


def test_amd_measured_gemms_are_kept_but_no_prediction_reads_them():
    """aiter's tuned MI300X / MI355X rows are in the table (for the cross-vendor validation and for
    queries), too sparse for a grid; the spec model anchored on NVIDIA grids does not answer for AMD
    parts, so --to across vendors keeps the calibrated roofline model for their GEMMs."""
    specs = presets.presets()
    for gpu, dtype in (("mi300x", "bf16"), ("mi300x", "fp8"), ("mi355x", "fp8")):
        path = resources.files("retime.replay").joinpath("presets", "kernel_db", "gemm.parquet")
        assert duckdb.sql(f"SELECT count(*) FROM '{path}' WHERE gpu = '{gpu}' AND dtype = '{dtype}'").fetchall()[0][0] >= 25
        assert kernel_db.grid(gpu, dtype) is None and not kernel_db.covers(gpu, dtype, specs)
