"""The measured GEMM tables: lookups reproduce the measurements, and --to between NVIDIA parts
moves a real trace's GEMMs by the ratio NVIDIA measured for their shapes."""
from __future__ import annotations

from importlib import resources

import duckdb
import numpy as np
import pytest

from retime.replay import cache, engine, kernel_db, presets
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
                                & (graph.point_gemm >= 0) & (graph.point_roof == 0))
        assert len(starts) >= 20
        # each shaped BF16 GEMM's duration edge: from its start to its own end
        ends = {graph.point_event[p]: p for p in np.flatnonzero(graph.point_is_end)}
        dst = graph.dst
        checked = 0
        for p in starts:
            edge = np.flatnonzero((graph.src == p) & (dst == ends[graph.point_event[p]]))
            if len(edge) != 1 or graph.base_lag[edge[0]] <= 0:
                continue
            m, n, k = graph.gemm_mnk(np.array([p]))[0]
            expected = kernel_db.latency("b200", "bf16", [m], [n], [k], presets.presets())[0] / \
                kernel_db.latency("h100", "bf16", [m], [n], [k], presets.presets())[0]
            assert lags[edge[0]] == pytest.approx(graph.base_lag[edge[0]] * expected, rel=1e-3, abs=1)
            checked += 1
        assert checked >= 20
