"""The replay graph's mechanisms, each on a real trace that shows it: ops queued on a stream follow
the stream, a full launch queue holds the host until the GPU drains, ops that overlap the one
ahead (PDL) keep an order that scales, waits survive clock skew, and a synchronize that found
the GPU done still waits when the GPU gets slower."""
from __future__ import annotations

import numpy as np
import pytest
from retime.replay import engine, scenario, spans
from retime.replay.graph import build_graph, graph_tables

import retime
from tests.conftest import SAMPLE_TRACES, SHARED_TRACES

COPY_BOUND = "nsys/h100_2gpu_1s.sqlite"        # rank 0: 920 ms of its 969 ms are H2D copies on one stream
PDL_DECODE = "tracelens/b300_sglang_qwen3_30b_a3b_decode.json.gz"  # a CUDA-graph decode step on a B300
SYNCED = "hta/alexnet_cuda_sync.json.gz"       # A100, cudaDeviceSynchronize / cudaStreamSynchronize per step
IDLE_SYNC = "tracelens/mi300_Falconsai_nsfw_image_detection__1016002.json.gz"  # final sync after the GPU is done


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    if not SHARED_TRACES.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    s = retime.open(tmp_path_factory.mktemp("mechanisms") / "m.duckdb")
    s.ingest([SHARED_TRACES / name for name in (COPY_BOUND, PDL_DECODE, SYNCED, IDLE_SYNC)])
    yield s
    s.close()


def _trace(store, part: str, rank: int | None = None) -> int:
    rows = store.sql("SELECT trace_id, rank FROM traces WHERE source_path LIKE $p AND format <> 'replay' ORDER BY trace_id",
                     params={"p": f"%{part}"})
    return rows.filter(rows["rank"] == rank)["trace_id"][0] if rank is not None else rows["trace_id"][0]


def _replay(store, trace_id: int, knobs=(), remove=()) -> engine.ReplayResult:
    return engine.replay(build_graph(store.con, trace_id), scenario.parse(list(knobs), remove=list(remove)))


def test_a_copy_bound_run_gets_faster_with_faster_copies(shared_store):
    trace_id = _trace(shared_store, COPY_BOUND, rank=0)
    measured = _replay(shared_store, trace_id)
    assert measured.bound_by == "h2d"  # not "launch": queued copies follow their stream
    assert measured.critical_path_ns.get("launch", 0) < 0.01 * measured.predicted_ns
    assert _replay(shared_store, trace_id, ["pcie.h2d=2x"]).speedup > 1.45
    assert _replay(shared_store, trace_id, remove=["^Memcpy HtoD"]).speedup > 3.0


def test_a_full_launch_queue_releases_the_host_as_the_gpu_drains(shared_store):
    trace_id = _trace(shared_store, COPY_BOUND, rank=0)
    # launch calls that lasted over a millisecond: the host waited for a free queue slot
    blocked = shared_store.sql(
        "SELECT DISTINCT c.event_id, c.dur_ns FROM events c JOIN deps d ON d.trace_id = c.trace_id "
        "AND d.src_event_id = c.event_id AND d.kind = 'launch' WHERE c.trace_id = $t AND c.dur_ns > 1000000",
        params={"t": trace_id})
    assert len(blocked) > 30 and blocked["dur_ns"].sum() > 200e6
    graph = build_graph(shared_store.con, trace_id)
    starts, ends = spans.points_of_events(graph, blocked["event_id"].to_numpy())
    faster, _, _ = engine.retimed(graph, scenario.parse(["pcie.h2d=2x"]))
    measured_total = (graph.measured[ends] - graph.measured[starts]).sum()
    predicted_total = (faster[ends] - faster[starts]).sum()
    assert predicted_total < 0.6 * measured_total  # the copies are twice as fast; the calls wait about half as long
    slower, _, _ = engine.retimed(graph, scenario.parse(["pcie.h2d=0.5x"]))
    assert (slower[ends] - slower[starts]).sum() > 1.5 * measured_total


def test_pdl_overlapped_kernels_slow_down_with_the_gpu(shared_store):
    trace_id = _trace(shared_store, PDL_DECODE)
    overlapped = shared_store.sql(
        "SELECT count(*) AS n FROM (SELECT ts_ns < lag(ts_ns + dur_ns) OVER (PARTITION BY lane_id ORDER BY ts_ns) AS o "
        "FROM events WHERE trace_id = $t AND kind = 'kernel') WHERE o", params={"t": trace_id})["n"][0]
    assert overlapped > 300  # most kernels of the step start before the one ahead of them ends
    busy = shared_store.sql("SELECT sum(busy_ns)::DOUBLE AS b FROM gpu_device_time WHERE trace_id = $t", params={"t": trace_id})
    slower = _replay(shared_store, trace_id, ["gpu.flops=0.6667x", "hbm=0.6667x"])
    # a 1.5x slower GPU adds at least a third of the GPU's busy time to the step
    assert slower.predicted_ns - slower.measured_ns > 0.33 * busy["b"][0]


def test_waits_survive_clock_skew(tmp_path):
    """A real H100 step with its GPU clock made 8 µs late, so that its syncs seem to return before
    the work they waited for ends: those waits are kept, and the host still waits for a slower GPU."""
    with retime.open(tmp_path / "skew.duckdb") as store:
        [ingested] = store.ingest([SAMPLE_TRACES / "gpu_h100" / "hostwork_1x.pt.trace.json.gz"])
        trace_id = ingested.trace_id
        gpu_lanes = "(SELECT lane_id FROM lanes WHERE trace_id = $t AND kind = 'gpu_stream')"
        store.con.execute(f"UPDATE events SET ts_ns = ts_ns + 8000 WHERE trace_id = $t AND lane_id IN {gpu_lanes}",
                          {"t": trace_id})
        # each sync call with the GPU work it waited for: the latest-ending op launched before the call
        early = store.sql(
            "WITH launched AS (SELECT g.event_id, g.ts_ns + g.dur_ns AS op_end, c.ts_ns AS call_t FROM deps d "
            "JOIN events c ON c.trace_id = d.trace_id AND c.event_id = d.src_event_id "
            "JOIN events g ON g.trace_id = d.trace_id AND g.event_id = d.dst_event_id WHERE d.trace_id = $t AND d.kind = 'launch') "
            "SELECT s.event_id AS sync_id, k.op_id FROM events s, LATERAL (SELECT arg_max(event_id, op_end) AS op_id, "
            "max(op_end) AS e FROM launched WHERE call_t < s.ts_ns) k "
            "WHERE s.trace_id = $t AND s.name = 'cudaStreamSynchronize' AND k.e > s.ts_ns + s.dur_ns", params={"t": trace_id})
        assert len(early) >= 3  # they return "before" the work ends, on these clocks
        graph = build_graph(store.con, trace_id)
        identity, _, _ = engine.retimed(graph, scenario.parse([]))
        assert (identity == graph.measured).all()
        slow, _, _ = engine.retimed(graph, scenario.parse(["gpu.flops=0.25x", "hbm=0.25x", "pcie.d2h=0.25x"]))
        _, sync_ends = spans.points_of_events(graph, early["sync_id"].to_numpy())
        _, op_ends = spans.points_of_events(graph, early["op_id"].to_numpy())
        assert (slow[op_ends] - slow[sync_ends] <= 8000).all()  # each still returns after its work, less the skew


def test_a_sync_that_found_the_gpu_done_waits_for_a_slower_gpu(shared_store):
    trace_id = _trace(shared_store, IDLE_SYNC)
    graph = build_graph(shared_store.con, trace_id)
    sync = shared_store.sql("SELECT event_id FROM events WHERE trace_id = $t AND name = 'hipDeviceSynchronize' "
                            "ORDER BY ts_ns DESC LIMIT 1", params={"t": trace_id})["event_id"].to_numpy()
    _, [sync_end] = spans.points_of_events(graph, sync)
    assert graph.measured[sync_end] > graph.measured[graph.point_is_gpu].max()  # measured: the GPU was done
    slow, _, _ = engine.retimed(graph, scenario.parse(["gpu.flops=0.25x", "hbm=0.25x"]))
    assert slow[graph.point_is_gpu].max() > graph.measured[sync_end]  # the GPU now runs past the sync's start...
    assert slow[sync_end] >= slow[graph.point_is_gpu].max()           # ...and the sync returns after it
    assert np.all(slow >= graph.measured)


def test_a_stream_synchronize_waits_for_its_own_stream(tmp_path):
    """streams_graph (H100 sample: a side-stream prefetch, an eager forward, a CUDA graph replay),
    with one op on another stream made to run on into a cudaStreamSynchronize: the call still waits
    for the last op launched on the stream its 'Stream Sync' record names, not for that op."""
    with retime.open(tmp_path / "streams.duckdb") as store:
        [ingested] = store.ingest([SAMPLE_TRACES / "gpu_h100" / "streams_graph.pt.trace.json.gz"])
        t, con = ingested.trace_id, store.con
        # the first stream sync, its stream, and the last op launched before it on another stream
        sync_id, sync_end, synced = con.execute(
            "SELECT c.event_id, c.ts_ns + c.dur_ns, sl.stream FROM events c JOIN events s ON s.trace_id = c.trace_id "
            "AND s.kind = 'sync' AND s.name = 'Stream Sync' AND s.correlation = c.correlation "
            "JOIN lanes sl ON sl.trace_id = s.trace_id AND sl.lane_id = s.lane_id "
            "WHERE c.trace_id = $t AND c.name = 'cudaStreamSynchronize' ORDER BY c.ts_ns LIMIT 1", {"t": t}).fetchall()[0]
        other = con.execute(
            "SELECT g.event_id FROM deps d JOIN events c ON c.trace_id = d.trace_id AND c.event_id = d.src_event_id "
            "JOIN events g ON g.trace_id = d.trace_id AND g.event_id = d.dst_event_id "
            "JOIN lanes l ON l.trace_id = g.trace_id AND l.lane_id = g.lane_id "
            "WHERE d.trace_id = $t AND d.kind = 'launch' AND l.stream <> $s "
            "AND c.ts_ns < (SELECT ts_ns FROM events WHERE trace_id = $t AND event_id = $c) ORDER BY c.ts_ns DESC LIMIT 1",
            {"t": t, "s": synced, "c": sync_id}).fetchall()
        assert other, "the sample has no op on another stream before its first stream sync"
        con.execute("UPDATE events SET dur_ns = $e - 1000 - ts_ns WHERE trace_id = $t AND event_id = $o",
                    {"t": t, "o": other[0][0], "e": sync_end})
        graph_tables(con, t)
        [(waited_on,)] = con.execute(
            "SELECT l.stream FROM replay_waits w JOIN replay_points p ON p.point_id = w.gpu_end_point "
            "JOIN lanes l ON l.trace_id = $t AND l.lane_id = p.lane_id WHERE w.event_id = $c", {"t": t, "c": sync_id}).fetchall()
    assert waited_on == synced
