"""The replay graph built from arrays (retime/replay/graph_build.py) is the graph its SQL defines
(build_graph_sql): the same points in the same order and the same edges, on every real trace."""
from __future__ import annotations

import numpy as np
import pytest
from retime.replay import cache
from retime.replay.graph import ReplayGraph, build_graph_linear, build_graph_sql

import retime
from tests.conftest import SAMPLE_TRACES

POINT_ARRAYS = [name for name in cache.ARRAYS if name.startswith("point_")] + ["measured", "indptr", "kernel_shapes"]


def edge_rows(g: ReplayGraph) -> np.ndarray:
    """The edges as rows (destination, source, lag, class, bytes, offset), sorted: two edges between
    the same points may come in either order."""
    rows = np.stack([g.dst, g.src, g.base_lag, g.edge_class, g.bytes, g.offset])
    return rows[:, np.lexsort(rows[::-1])]


def differences(con, trace_id: int, inspect=None) -> list[str]:
    fast, defined = build_graph_linear(con, trace_id), build_graph_sql(con, trace_id, inspect=inspect)
    wrong = [name for name in POINT_ARRAYS
             if not np.array_equal(getattr(fast, name), getattr(defined, name), equal_nan=name == "point_flop_per_byte")]
    if fast.origin_ns != defined.origin_ns:
        wrong.append("origin_ns")
    if fast.names != defined.names:
        wrong.append("names")
    if not np.array_equal(edge_rows(fast), edge_rows(defined)):
        wrong.append("edges")
    return wrong


def traces(store) -> list[int]:
    return store.sql("SELECT trace_id FROM traces WHERE format <> 'replay' ORDER BY trace_id")["trace_id"].to_list()


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    with retime.open(tmp_path_factory.mktemp("samples") / "s.duckdb") as s:
        s.ingest(SAMPLE_TRACES)
        yield s


def test_the_array_build_gives_the_defined_graph_of_every_sample_trace(sample_store):
    ids = traces(sample_store)
    assert len(ids) >= 9
    assert {t: differences(sample_store.con, t) for t in ids} == {t: [] for t in ids}


@pytest.mark.slow
def test_the_array_build_gives_the_defined_graph_of_every_shared_trace(every_shared_trace):
    """Agreement means something only where a mechanism occurs: each of the graph's tables also has
    rows in some shared trace (waits, staged copies, back-pressure, cross-stream waits, hand-offs
    between threads, PDL overlap, clock-skewed syncs)."""
    ids = traces(every_shared_trace)
    assert len(ids) >= 60
    seen = dict.fromkeys(MECHANISMS, 0)

    def count(con):
        for name, query in MECHANISMS.items():
            seen[name] += con.execute(query).fetchall()[0][0] > 0

    assert {t: differences(every_shared_trace.con, t, count) for t in ids} == {t: [] for t in ids}
    assert all(seen.values()), seen


MECHANISMS = {
    "waits": "SELECT count(*) FROM replay_waits WHERE waited",
    "syncs that found the GPU done": "SELECT count(*) FROM replay_waits WHERE NOT waited",
    "staged copies": "SELECT count(*) FROM replay_staged",
    "back-pressure": "SELECT count(*) FROM replay_backpressure",
    "cross-stream waits": "SELECT count(*) FROM replay_stream_waits",
    "hand-offs": "SELECT count(*) FROM replay_handoffs",
    "PDL overlap": "SELECT count(*) FROM replay_stream WHERE overlapped",
    "clock-skewed syncs": "SELECT count(*) FROM replay_edges WHERE backward",
    "queued ops": "SELECT count(*) FROM replay_stream WHERE own_queued",
}


def test_a_small_trace_gets_the_sqls_graph_while_the_build_is_not_compiled(tmp_path, monkeypatch):
    """On a fresh install (the numba build not compiled), a trace of fewer than SQL_BUILD_BELOW_EVENTS
    events gets its graph from the SQL (no compile); once compiled, from the numba build. The
    same graph either way (the test above)."""
    import retime
    from retime.replay import graph
    from tests.conftest import SAMPLE_TRACES
    with retime.open(tmp_path / "s.duckdb") as store:
        [r] = store.ingest(SAMPLE_TRACES / "gpu_h100" / "hostwork_1x.pt.trace.json.gz")
        used = []
        monkeypatch.setattr(graph, "build_graph_sql", lambda *a, **k: used.append("sql"))
        monkeypatch.setattr(graph, "build_graph_linear", lambda *a, **k: used.append("numba"))
        monkeypatch.setattr(graph, "linear_compiled", lambda: False)
        graph.build_graph(store.con, r.trace_id)
        monkeypatch.setattr(graph, "linear_compiled", lambda: True)
        graph.build_graph(store.con, r.trace_id)
        monkeypatch.setattr(graph, "linear_compiled", lambda: False)
        monkeypatch.setattr(graph, "SQL_BUILD_BELOW_EVENTS", 10)
        graph.build_graph(store.con, r.trace_id)
    assert used == ["sql", "numba", "numba"]
