"""Tables derived when a trace is written: gpu_timeline (each GPU op with its device, stream and
launch call, checked against the JSON the profiler wrote) and gpu_device_time; replays and upgraded
stores get them too."""
from __future__ import annotations

from collections import Counter

import duckdb
import pytest
from retime.store import SCHEMA_VERSION

import retime
from tests.conftest import SAMPLE_TRACES, load_json

GPU_CATS = {"kernel", "gpu_memcpy", "gpu_memset"}
CALL_CATS = {"cuda_runtime", "cuda_driver"}
DERIVED = ("gpu_timeline", "gpu_device_time")
STREAMS_GRAPH = SAMPLE_TRACES / "gpu_h100" / "streams_graph.pt.trace.json.gz"


def test_every_gpu_op_has_its_stream_and_launch_call(store):
    events = load_json(STREAMS_GRAPH)["traceEvents"]
    calls = {e["args"]["correlation"]: e["name"] for e in events
             if e.get("cat") in CALL_CATS and "correlation" in e.get("args", {})}
    ops = [e for e in events if e.get("cat") in GPU_CATS and "dur" in e]
    expected_streams = Counter((e["args"]["device"], e["args"]["stream"]) for e in ops)
    expected_calls = Counter(calls.get(e["args"].get("correlation")) for e in ops)

    [r] = store.ingest(STREAMS_GRAPH)
    rows = store.sql("SELECT device, stream, call_name, call_ts_ns <= ts_ns AS call_first FROM gpu_timeline "
                     "WHERE trace_id = $t", {"t": r.trace_id}).to_dicts()
    assert Counter((row["device"], row["stream"]) for row in rows) == expected_streams
    assert Counter(row["call_name"] for row in rows) == expected_calls
    assert len(expected_streams) >= 2 and "cudaGraphLaunch" in expected_calls  # a side stream and a graph replay
    assert all(row["call_first"] for row in rows if row["call_name"] is not None)


def test_a_saved_replay_has_its_own_timeline(store):
    [r] = store.ingest(SAMPLE_TRACES / "gpu_h100" / "h2d_pinned.pt.trace.json.gz")
    replay = store.replay(r.trace_id, {"pcie.h2d": 2.0}, save=True)
    counts = store.sql("""
        SELECT trace_id, count(*) AS ops, sum(CASE WHEN kind = 'memcpy' THEN end_ns - ts_ns END)::BIGINT AS copy_ns
        FROM gpu_timeline GROUP BY trace_id ORDER BY trace_id""").to_dicts()
    assert [c["trace_id"] for c in counts] == [r.trace_id, replay.saved_trace_id]
    assert counts[0]["ops"] == counts[1]["ops"]
    assert counts[1]["copy_ns"] < 0.6 * counts[0]["copy_ns"]  # twice the H2D bandwidth, copies about halve


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_store_gains_the_derived_tables_when_opened(tmp_path, version):
    db = tmp_path / "old.duckdb"
    with retime.open(db) as s:
        s.ingest(STREAMS_GRAPH)
        before = [s.sql(f"SELECT * FROM {table} ORDER BY ALL").to_dicts() for table in DERIVED]
    with duckdb.connect(str(db)) as con:  # as the older schema left it
        if version == 1:  # no derived tables
            for table in DERIVED:
                con.execute(f"DROP TABLE {table}")
        else:  # gpu_timeline without call_stack
            con.execute("ALTER TABLE gpu_timeline DROP COLUMN call_stack")
        con.execute("UPDATE schema_info SET version = $v", {"v": version})
    with retime.open(db, read_only=True) as s:  # a reading command upgrades it first
        assert [s.sql(f"SELECT * FROM {table} ORDER BY ALL").to_dicts() for table in DERIVED] == before
        assert s.sql("SELECT max(version) AS v FROM schema_info")["v"][0] == SCHEMA_VERSION
    assert len(before[0]) > 50 and len(before[1]) == 1
