"""A saved replay is an ordinary trace: queries, diffs and reports work on it."""
from __future__ import annotations

import json

from click.testing import CliRunner

from retime.cli import main


def ingest_alexnet(tmp_path, shared_traces):
    db = tmp_path / "s.duckdb"
    CliRunner().invoke(main, ["ingest", str(shared_traces / "hta" / "alexnet_cuda_sync.json.gz"), "--db", str(db)])
    return db


def test_an_unchanged_replay_saves_the_measured_timeline(store, shared_traces):
    [r] = store.ingest(shared_traces / "hta" / "alexnet_cuda_sync.json.gz")
    result = store.replay(r.trace_id, [], save=True)
    moved = store.sql("""SELECT count(*) AS n, count(*) FILTER (WHERE a.ts_ns <> b.ts_ns OR a.dur_ns <> b.dur_ns) AS changed
                         FROM events a JOIN events b ON b.event_id = a.event_id
                         WHERE a.trace_id = $orig AND b.trace_id = $replay""",
                      params={"orig": r.trace_id, "replay": result.saved_trace_id}).to_dicts()[0]
    assert moved["n"] > 800 and moved["changed"] == 0
    row = store.sql("SELECT format, parent_trace_id, scenario FROM traces WHERE trace_id = $t",
                    params={"t": result.saved_trace_id}).to_dicts()[0]
    assert (row["format"], row["parent_trace_id"]) == ("replay", r.trace_id)
    saved = json.loads(row["scenario"])  # no knobs; the error bar of an unchanged replay is exactly 0
    assert saved == {"error_bar": {"expected_error_pct": 0.0, "basis": saved["error_bar"]["basis"]}}


def test_trace_diff_of_run_and_replay_shows_the_change(tmp_path, shared_traces):
    db = ingest_alexnet(tmp_path, shared_traces)
    saved = json.loads(CliRunner().invoke(main, ["replay", "1", "--set", "pcie.h2d=2x", "--save", "--db", str(db),
                                                 "--format", "json"]).output)["saved_trace_id"]
    diff = json.loads(CliRunner().invoke(main, ["query", "trace_diff", "1", "--param", f"other_id={saved}",
                                                "--db", str(db), "--format", "json"]).output)
    by = {(d["level"], d["bucket"]): d for d in diff}
    assert by[("resource", "compute")]["delta_ns"] == 0
    h2d = CliRunner().invoke(main, ["sql", "SELECT trace_id, sum(dur_ns) AS ns FROM events WHERE copy_kind = 'H2D' "
                                           "GROUP BY 1 ORDER BY 1", "--db", str(db), "--format", "json"]).output
    measured, replayed = [row["ns"] for row in json.loads(h2d)]
    assert abs(replayed - measured / 2) <= 16  # every copy halved, to the nanosecond's rounding
    assert by[("resource", "memory")]["delta_ns"] == replayed - measured


def test_saving_needs_a_writable_store(tmp_path, shared_traces):
    db = ingest_alexnet(tmp_path, shared_traces)
    import retime
    with retime.open(db, read_only=True) as store:
        try:
            store.replay(1, ["cpu.speed=2x"], save=True)
        except retime.StoreError as exc:
            assert "read-only" in str(exc)
        else:
            raise AssertionError("a read-only store accepted a saved replay")


def test_the_replays_query_re_derives_what_replay_reported(store, shared_traces):
    [r] = store.ingest(shared_traces / "param" / "dlrm_8rank" / "worker0_step_12.1694128201545.pt.trace.json.gz")
    results = [store.replay(r.trace_id, knobs, save=True) for knobs in (["launch.latency=0.5x"], ["cpu.speed=2x"])]
    rows = store.query("replays", r.trace_id).to_dicts()
    assert [row["replay_id"] for row in rows] == [res.saved_trace_id for res in results]
    for row, res in zip(rows, results):
        assert (row["measured_ns"], row["predicted_ns"]) == (res.measured_ns, res.predicted_ns)


def test_a_trace_with_nothing_to_replay_saves_an_empty_replay(store, tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text('{"traceEvents": [{"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "p"}}]}')
    [r] = store.ingest(empty)
    result = store.replay(r.trace_id, ["cpu.speed=2x"], save=True)
    assert result.predicted_ns == result.measured_ns == 0 and result.saved_trace_id is not None
    assert store.query("critical_path", result.saved_trace_id).height == 0


def test_a_saved_replay_keeps_the_gpu_annotations_around_the_ops_they_enclose(store):
    """The H100 pageable-copy step's record_function ranges as the GPU ran them (gpu_user_annotation):
    kept exactly in an unchanged replay, and at twice the copy bandwidth the batch's range halves."""
    from tests.conftest import SAMPLE_TRACES
    [r] = store.ingest(SAMPLE_TRACES / "gpu_h100" / "h2d_pageable.pt.trace.json.gz")
    ranges = "SELECT event_id, name, ts_ns, dur_ns FROM events WHERE trace_id = $t AND kind = 'gpu_annotation' ORDER BY event_id"
    measured = store.sql(ranges, params={"t": r.trace_id})
    assert measured.height == 20
    same = store.replay(r.trace_id, [], save=True).saved_trace_id
    assert store.sql(ranges, params={"t": same}).equals(measured)
    faster = store.sql(ranges, params={"t": store.replay(r.trace_id, ["pcie.h2d=2x"], save=True).saved_trace_id})
    before, after = (df.filter(name="h2d_batch")["dur_ns"] for df in (measured, faster))
    assert ((after / before - 0.5).abs() < 0.02).all()
