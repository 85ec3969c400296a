"""Tables derived when a trace is written: gpu_timeline (each GPU op with its device, stream and
launch call, checked against the JSON the profiler wrote; its operator and category against their
SQL definitions), gpu_device_time, op_work and cpu_top_ops; replays, upgraded stores and stores
derived under other rules get them too."""
from __future__ import annotations

from collections import Counter

import duckdb
import pytest
from retime.store import SCHEMA_VERSION, derived

import retime
from retime import foundation
from tests.conftest import SAMPLE_TRACES, load_json

GPU_CATS = {"kernel", "gpu_memcpy", "gpu_memset"}
CALL_CATS = {"cuda_runtime", "cuda_driver"}
DERIVED = derived.TABLES
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
                     "WHERE trace_id = $t", params={"t": r.trace_id}).to_dicts()
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


@pytest.mark.parametrize("version", [1, 2, 3])
def test_an_older_store_gains_the_derived_tables_when_opened(tmp_path, version):
    db = tmp_path / "old.duckdb"
    with retime.open(db) as s:
        s.ingest(STREAMS_GRAPH)
        before = {table: s.sql(f"SELECT * FROM {table} ORDER BY ALL").to_dicts() for table in DERIVED}
    with duckdb.connect(str(db)) as con:  # as the older schema left it
        con.execute("DROP TABLE derived_info")
        if version == 1:  # no derived tables
            for table in DERIVED:
                con.execute(f"DROP TABLE {table}")
        else:  # gpu_timeline without what later versions added
            for column in ("op_event_id", "category", "category_source", "category_operator"):
                con.execute(f"ALTER TABLE gpu_timeline DROP COLUMN {column}")
            con.execute("DROP TABLE op_work")
            con.execute("DROP TABLE cpu_top_ops")
            if version == 2:
                con.execute("ALTER TABLE gpu_timeline DROP COLUMN call_stack")
        con.execute("UPDATE schema_info SET version = $v", {"v": version})
    with retime.open(db, read_only=True) as s:  # a reading command upgrades it first
        assert {table: s.sql(f"SELECT * FROM {table} ORDER BY ALL").to_dicts() for table in DERIVED} == before
        assert s.sql("SELECT max(version) AS v FROM schema_info")["v"][0] == SCHEMA_VERSION
    assert len(before["gpu_timeline"]) > 50 and len(before["gpu_device_time"]) == 1 and len(before["gpu_busy_islands"]) > 20


def test_a_store_derived_under_other_rules_is_derived_again_when_opened(tmp_path):
    db = tmp_path / "stale.duckdb"
    with retime.open(db) as s:
        s.ingest(STREAMS_GRAPH)
        before = s.sql("SELECT * FROM gpu_timeline ORDER BY ALL").to_dicts()
    with duckdb.connect(str(db)) as con:  # as an older rule set (kernel classes, operator rules) left it
        con.execute("UPDATE gpu_timeline SET category = 'other', resource = 'compute'")
        con.execute("UPDATE derived_info SET fingerprint = 'older rules'")
    with retime.open(db, read_only=True) as s:
        assert s.sql("SELECT * FROM gpu_timeline ORDER BY ALL").to_dicts() == before
        assert s.sql("SELECT fingerprint FROM derived_info")["fingerprint"].to_list() == [derived.fingerprint()]


# The SQL definitions of a kernel's operator (op_roofline, kernel_roofline) and of a GPU op's
# category (op_categories), over gpu_timeline.call_stack: what the nesting pass writes must equal them.
OPERATOR_BY_SQL = """
    SELECT k.event_id, arg_max(k.ancestor, k.pos) AS op_event_id
    FROM (SELECT event_id, unnest(call_stack) AS ancestor, generate_subscripts(call_stack, 1) AS pos
          FROM gpu_timeline WHERE trace_id = $t AND kind = 'kernel' AND call_stack IS NOT NULL) k
    WHERE k.ancestor IN (SELECT event_id FROM op_costs($t))
    GROUP BY k.event_id ORDER BY k.event_id"""
CATEGORY_BY_SQL = """
    WITH named AS (
        SELECT name, op_name(name) AS operator, op_category(op_name(name)) AS category
        FROM (SELECT DISTINCT name FROM events WHERE trace_id = $t AND kind IN ('cpu_op', 'annotation'))
    ),
    innermost AS (
        SELECT s.event_id, arg_max(n.category, s.pos) AS category, arg_max(n.operator, s.pos) AS operator
        FROM (SELECT event_id, unnest(call_stack) AS slice_id, generate_subscripts(call_stack, 1) AS pos
              FROM gpu_timeline WHERE trace_id = $t AND kind = 'kernel' AND call_stack IS NOT NULL) s
        JOIN events e ON e.trace_id = $t AND e.event_id = s.slice_id AND e.kind IN ('cpu_op', 'annotation')
        JOIN named n ON n.name = e.name AND n.category IS NOT NULL
        GROUP BY s.event_id
    )
    SELECT g.event_id,
           gpu_op_category(g.kind, gpu_class(g.kind, coalesce(g.name, '')), CASE WHEN g.kind = 'kernel' THEN i.category END),
           CASE WHEN g.kind = 'kernel' AND i.category IS NOT NULL THEN 'operator' ELSE 'kernel' END,
           coalesce(CASE WHEN g.kind = 'kernel' THEN i.operator END, g.name)
    FROM gpu_timeline g LEFT JOIN innermost i USING (event_id) WHERE g.trace_id = $t ORDER BY g.event_id"""


def _operators_and_categories_match_their_sql(s, trace_id):
    con = s.con
    foundation.load(con, "gpu", "ops")
    stored_ops = con.execute("SELECT event_id, op_event_id FROM gpu_timeline WHERE trace_id = $t AND op_event_id IS NOT NULL "
                             "ORDER BY event_id", {"t": trace_id}).fetchall()
    assert stored_ops == con.execute(OPERATOR_BY_SQL, {"t": trace_id}).fetchall()
    stored_categories = con.execute("SELECT event_id, category, category_source, category_operator FROM gpu_timeline "
                                    "WHERE trace_id = $t ORDER BY event_id", {"t": trace_id}).fetchall()
    assert stored_categories == con.execute(CATEGORY_BY_SQL, {"t": trace_id}).fetchall()
    return len(stored_ops)


def test_each_kernels_operator_and_category_follow_their_sql_definitions_on_the_samples(store):
    owned = 0
    for r in store.ingest(SAMPLE_TRACES):
        owned += _operators_and_categories_match_their_sql(store, r.trace_id)
    assert owned > 500


def test_each_kernels_operator_and_category_follow_their_sql_definitions_on_shared_traces(store, shared_traces):
    owned = 0
    for name in ("hta/trace_diff_control.json.gz", "tracelens/h100_facebook_timesformer-base-finetuned-k400__1016002.json.gz",
                 "tracelens/mi300_facebook_timesformer-base-finetuned-k400__1016002.json.gz", "nsys/h100_2gpu_1s.sqlite"):
        path = shared_traces / name
        if path.exists():
            for r in store.ingest(path):
                owned += _operators_and_categories_match_their_sql(store, r.trace_id)
    assert owned > 1000


def test_gpu_overlap_does_not_depend_on_how_ties_sort(store, shared_traces):
    """The ResNet-50 trace has ops that end and start at one instant on a device: the combinations
    running at once are counted with ends first and zero-length segments dropped, so every ingest
    stores the same rows (a sort that broke those ties either way once left a 0 ns row now and then),
    and the time still adds up to the device's span."""
    [r] = store.ingest(shared_traces / "kineto" / "tb_plugin_resnet50_nw0_2021-06.pt.trace.json.gz")
    rows = store.sql("SELECT * FROM gpu_overlap WHERE trace_id = $t ORDER BY ALL", params={"t": r.trace_id})
    assert len(rows) and rows["ns"].min() > 0
    spans = store.sql("SELECT device, span_ns FROM gpu_device_time WHERE trace_id = $t", params={"t": r.trace_id})
    totals = rows.group_by("device").agg(__import__("polars").col("ns").sum())
    assert dict(totals.iter_rows()) == dict(spans.iter_rows())
    ties = store.sql("""SELECT count(*) AS n FROM gpu_timeline a JOIN gpu_timeline b
                        ON a.trace_id = b.trace_id AND a.device = b.device AND a.end_ns = b.ts_ns AND a.event_id <> b.event_id
                        WHERE a.trace_id = $t""", params={"t": r.trace_id})["n"][0]
    assert ties > 0
