"""A job replays as one graph: its ranks meet at every GPU collective, whose transfer starts when the
last rank arrives."""
from __future__ import annotations

import pytest
from retime.replay import engine, job, scenario, spans
from retime.replay.graph import build_graph

from tests.conftest import SAMPLE_TRACES


@pytest.fixture(scope="module")
def dlrm(dlrm_store):
    ranks = dlrm_store.con.execute("SELECT trace_id, rank FROM traces ORDER BY rank").fetchall()
    return dlrm_store, job.build(dlrm_store.con, "dlrm_8rank", ranks)


def collective_points(store, graph: job.JobGraph):
    """(start point, end point) per rank and collective, in the merged graph's numbering."""
    g = graph.graph
    events = store.sql("""SELECT t.rank, e.event_id FROM events e JOIN traces t USING (trace_id)
                          JOIN lanes l USING (trace_id, lane_id)
                          WHERE e.kind = 'collective' AND l.kind = 'gpu_stream' ORDER BY t.rank, e.ts_ns""")
    # a job graph keeps each rank's event ids apart by the rank's index in the high bits
    keys = [event + (graph.ranks.index(rank) << 40) for rank, event in events.iter_rows()]
    starts, ends = spans.points_of_events(g, keys)
    shape = (len(graph.ranks), graph.collectives)
    return starts.reshape(shape), ends.reshape(shape)


def test_the_unchanged_job_is_reproduced_point_for_point(dlrm):
    store, graph = dlrm
    assert graph.collectives == 8 and graph.unmatched == 0
    g = graph.graph
    new, _, _ = engine.retimed(g, scenario.parse([]))
    assert (new == g.measured).all()
    for (rank, result), (trace_id, _) in zip(store.replay(1, all_ranks=True), store.con.execute(
            "SELECT trace_id, rank FROM traces ORDER BY rank").fetchall()):
        alone = store.replay(trace_id)
        assert result.predicted_ns == result.measured_ns == alone.measured_ns


@pytest.mark.parametrize("knob", ["cpu.speed=2x", "gpu.flops=0.25x", "launch.latency=4x", "net=0.1x"])
def test_no_rank_leaves_a_collective_before_the_last_one_arrives(dlrm, knob):
    store, graph = dlrm
    new, _, _ = engine.retimed(graph.graph, scenario.parse([knob]))
    starts, ends = collective_points(store, graph)
    last_arrival = new[starts].max(axis=0)
    assert (new[ends] >= last_arrival).all()


def test_slower_collectives_never_speed_the_job_up(dlrm):
    _, graph = dlrm
    base = job.replay(graph, scenario.parse([]))
    slower = job.replay(graph, scenario.parse(["net=0.01x"]))
    assert all(s.predicted_ns >= b.predicted_ns for s, b in zip(slower, base))
    assert max(s.predicted_ns for s in slower) > max(b.predicted_ns for b in base)


def test_a_job_without_gpu_collectives_replays_its_ranks_side_by_side(store):
    store.ingest(SAMPLE_TRACES / "ddp_gloo_2rank")
    ranked = store.replay(1, ["cpu.speed=2x"], all_ranks=True)
    assert [rank for rank, _ in ranked] == [0, 1]
    for (_, together), trace_id in zip(ranked, (1, 2)):
        assert together.predicted_ns == store.replay(trace_id, ["cpu.speed=2x"]).predicted_ns


def test_an_absolute_network_bandwidth_times_collectives_by_alpha_beta(store, shared_traces):
    """nccl_parser_config_rank0 records each collective's size: at net=100GB/s and net.latency=10us a
    2-rank all-reduce of n floats takes 10 µs + 2(n-1)/n * 4n bytes / 100 GB/s."""
    [r] = store.ingest(shared_traces / "hta" / "nccl_parser_config_rank0.json.gz")
    graph = build_graph(store.con, r.trace_id)
    new, _, _ = engine.retimed(graph, scenario.parse(["net=100GB/s", "net.latency=10us"]))
    colls = store.sql("SELECT event_id, coll_op, coll_in_nelems AS n, coll_group_size AS g FROM events "
                      "WHERE trace_id = $t AND kind = 'collective' AND coll_dtype = 'Float'", params={"t": r.trace_id})
    assert colls.height > 0
    for event, op, n, g in colls.iter_rows():
        [start], [end] = spans.points_of_events(graph, [event])
        algorithm = 2 * (g - 1) / g if op == "allreduce" else 1.0
        assert abs((new[end] - new[start]) - (10_000 + int(4 * n * algorithm) / 100)) <= 1


def test_a_job_sweeps_as_one_graph(dlrm):
    store, graph = dlrm
    result = store.sweep(1, ["cpu.speed=1x,2x", "net=1x,0.1x"], all_ranks=True)
    assert result.scenarios.height == 4
    for row in result.scenarios.iter_rows(named=True):
        new, _, _ = engine.retimed(graph.graph, scenario.parse({"cpu.speed": row["cpu.speed"], "net": row["net"]}))
        assert row["predicted_span_ns"] == new.max() - new.min()  # the whole job's span
    assert result.sensitivity["knob"][0] == "cpu.speed"


def test_ranks_that_are_copies_in_time_share_one_graph(tmp_path, monkeypatch):
    """A job whose rank files repeat the real DLRM ranks with their own rank and clock offset: each
    distinct rank's graph is built once, and every copy's shared graph equals the one built for it."""
    import gzip
    import json
    from dataclasses import fields
    import numpy as np
    import retime
    from retime.replay import cache, graph as replay_graph
    from retime.replay import job as job_graph
    from tests.conftest import SHARED_TRACES
    sources = sorted((SHARED_TRACES / "param" / "dlrm_8rank").glob("*.json.gz"))[:2]
    if len(sources) < 2:
        pytest.skip("../shared/traces is not present in this checkout")
    folder = tmp_path / "job"
    folder.mkdir()
    for rank in range(6):
        doc = json.loads(gzip.decompress(sources[rank % 2].read_bytes()))
        doc.setdefault("distributedInfo", {}).update(rank=rank, world_size=6)
        doc["baseTimeNanoseconds"] = doc.get("baseTimeNanoseconds", 0) + 1000 * (37 * rank % 11)
        (folder / f"rank{rank}.pt.trace.json.gz").write_bytes(gzip.compress(json.dumps(doc).encode()))
    with retime.open(tmp_path / "s.duckdb") as store:
        ids = [r.trace_id for r in store.ingest(folder)]
        built = []
        real_graph = cache.graph
        monkeypatch.setattr(cache, "graph", lambda con, t, *a, **k: built.append(t) or real_graph(con, t, *a, **k))
        shared = job_graph.rank_graphs(store.con, ids, str(store.path))
        assert len(built) == 2  # one build per distinct rank
        for t, g in zip(ids, shared):
            own = replay_graph.build_graph(store.con, t)
            assert g.trace_id == t and g.origin_ns == own.origin_ns, t
            for f in fields(g):
                if f.name not in ("trace_id", "origin_ns"):
                    a, b = getattr(g, f.name), getattr(own, f.name)
                    assert (a == b if isinstance(a, list) else np.array_equal(a, b, equal_nan=a.dtype.kind == "f")), (t, f.name)


def test_the_python_api_answers_what_the_cli_prints_for_a_job_against_a_measured_one(dlrm):
    """Store.replay(against=, all_ranks=True) compares each rank with the same rank of the target's job in the
    library: the JobReplay's rows and JSON are what `retime replay --all-ranks --against` prints."""
    store, _ = dlrm
    answer = store.replay(1, ["cpu.speed=2x"], against=1, all_ranks=True)
    assert len(answer) == 8 and [rank for rank, _ in answer] == list(range(8))
    *rows, total = answer.rows()
    for row, (rank, result) in zip(rows, answer):
        check = store.against(result, row["trace_id"])
        assert row["error_pct"] == check.error_pct and row["against_trace_id"] == row["trace_id"]
    assert total["predicted_span_ns"] == max(r.predicted_ns for r in answer.results)
    assert answer.to_dict()["total"] == total and answer.to_dict()["ranks"] == rows
    single = store.replay(1, ["cpu.speed=2x"], against=2)
    assert single.against == store.against(single, 2) and single.to_dict()["against"] == single.against.as_dict()
