"""A trace's replay graph is built once and read back after; the copy on disk is the same graph."""
from __future__ import annotations

import numpy as np
from retime.replay import cache, engine, scenario
from retime.replay import graph as replay_graph

import retime
from tests.conftest import SAMPLE_TRACES

PAGEABLE = SAMPLE_TRACES / "gpu_h100" / "h2d_pageable.pt.trace.json.gz"


def test_the_second_replay_reads_the_graph_from_the_cache(tmp_path, monkeypatch):
    with retime.open(tmp_path / "s.duckdb") as store:
        [r] = store.ingest(PAGEABLE)
        first = store.replay(r.trace_id, ["pcie.h2d=4x"])
        graphs = list((tmp_path / "s.duckdb.replay-cache").glob(f"trace_{r.trace_id}_*"))
        assert len(graphs) == 1 and (graphs[0] / "src.npy").is_file()

        def no_building(*_):
            raise AssertionError("the graph was built again")
        monkeypatch.setattr(replay_graph, "build_graph", no_building)
        again = store.replay(r.trace_id, ["pcie.h2d=4x"])
        assert (again.predicted_ns, again.critical_path_ns, again.steps) == (first.predicted_ns, first.critical_path_ns,
                                                                             first.steps)
        cached = cache.graph(store.con, r.trace_id, store.path)
        monkeypatch.undo()
        built = replay_graph.build_graph(store.con, r.trace_id)
        for name in cache.ARRAYS:
            assert np.array_equal(getattr(cached, name), getattr(built, name), equal_nan=name == "point_flop_per_byte"), name
        assert cached.names == built.names and cached.origin_ns == built.origin_ns
        assert engine.replay(cached, scenario.parse(["cpu.speed=2x"])).predicted_ns == \
            engine.replay(built, scenario.parse(["cpu.speed=2x"])).predicted_ns


def test_a_damaged_cache_file_is_rebuilt(tmp_path):
    with retime.open(tmp_path / "s.duckdb") as store:
        [r] = store.ingest(PAGEABLE)
        expected = store.replay(r.trace_id, ["hbm=2x"]).predicted_ns
        [graph] = (tmp_path / "s.duckdb.replay-cache").glob("trace_*")
        whole = (graph / "src.npy").read_bytes()
        (graph / "src.npy").write_bytes(whole[:len(whole) // 2])  # cut short, as by a full disk
        assert store.replay(r.trace_id, ["hbm=2x"]).predicted_ns == expected
        assert (graph / "src.npy").read_bytes() == whole  # written again
        (graph / "bytes.npy").write_bytes(b"not an array")
        assert store.replay(r.trace_id, ["hbm=2x"]).predicted_ns == expected
        (graph / "offset.npy").unlink()
        assert store.replay(r.trace_id, ["hbm=2x"]).predicted_ns == expected
        assert (graph / "offset.npy").is_file()


def test_a_cached_graph_is_mapped_and_its_arrays_stay_writable(tmp_path):
    with retime.open(tmp_path / "s.duckdb") as store:
        [r] = store.ingest(PAGEABLE)
        store.replay(r.trace_id, [])
        first = cache.graph(store.con, r.trace_id, store.path)
        assert first.src.base is not None and first.src.flags.writeable  # a view of the file's pages
        first.base_lag[:] = 0  # copy-on-write: the file keeps the graph
        again = cache.graph(store.con, r.trace_id, store.path)
        assert again.base_lag.any()


def test_graphs_of_earlier_versions_are_cleared(tmp_path):
    with retime.open(tmp_path / "s.duckdb") as store:
        [r] = store.ingest(PAGEABLE)
        folder = tmp_path / "s.duckdb.replay-cache"
        folder.mkdir()
        (folder / f"trace_{r.trace_id}_0123456789abcdef0123.npz").write_bytes(b"PK")
        store.replay(r.trace_id, [])
        assert [p.suffix for p in folder.glob(f"trace_{r.trace_id}_*")] == [""]


def test_the_store_says_whether_a_trace_graph_is_built(tmp_path):
    with retime.open(tmp_path / "s.duckdb") as store:
        [r] = store.ingest(PAGEABLE)
        assert not store.graph_cached(r.trace_id)
        store.replay(r.trace_id, ["pcie.h2d=2x"])
        assert store.graph_cached(r.trace_id)
