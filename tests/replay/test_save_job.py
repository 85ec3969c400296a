"""A job's replay saves as a job of its own: a trace per rank, which the job-wide queries and a
later job replay read like the measured job."""
from __future__ import annotations

import json

from click.testing import CliRunner

import retime
from retime.cli import main
from tests.conftest import SAMPLE_TRACES


def test_a_saved_job_replay_is_a_job_of_its_own(store):
    measured = store.ingest(SAMPLE_TRACES / "ddp_gloo_2rank")
    ranked = store.replay(measured[0].trace_id, ["cpu.speed=2x"], save=True, all_ranks=True)
    saved = {rank: result.saved_trace_id for rank, result in ranked}
    assert sorted(saved) == [0, 1] and None not in saved.values()
    job = store.job_of(saved[0])
    assert job == f"ddp_gloo_2rank-replay-{saved[0]}"
    assert store.job_ranks(saved[0]) == saved  # the saved job's ranks are its replays
    assert store.job_ranks(measured[0].trace_id) == {t.rank: t.trace_id for t in measured}  # the measured job is as it was
    for rank, result in ranked:  # each rank's saved events span what the replay predicted
        span = store.sql("SELECT max(ts_ns + dur_ns) - min(ts_ns) AS ns FROM events WHERE trace_id = $t",
                         params={"t": result.saved_trace_id})["ns"][0]
        assert span == result.predicted_ns < result.measured_ns


def test_the_saved_unchanged_job_answers_the_job_queries_as_the_measured_job(dlrm_store):
    store = dlrm_store
    [(_, first), *_] = store.replay(1, [], save=True, all_ranks=True)
    for name in ("straggler_ranks", "collective_skew"):
        measured, replayed = store.query(name, 1), store.query(name, first.saved_trace_id)
        assert measured.height > 0
        assert replayed.drop("trace_id", strict=False).equals(measured.drop("trace_id", strict=False))


def test_a_saved_job_replays_again_where_it_left_off(dlrm_store):
    store = dlrm_store
    ranked = store.replay(1, ["net=0.5x"], save=True, all_ranks=True)
    again = store.replay(ranked[0][1].saved_trace_id, [], all_ranks=True)
    assert [r.measured_ns for _, r in again] == [r.predicted_ns for _, r in ranked]
    assert [r.predicted_ns for _, r in again] == [r.predicted_ns for _, r in ranked]


def test_replay_all_ranks_save_on_the_command_line(tmp_path):
    db = str(tmp_path / "s.duckdb")
    CliRunner().invoke(main, ["ingest", str(SAMPLE_TRACES / "ddp_gloo_2rank"), "--db", db])
    out = CliRunner().invoke(main, ["replay", "1", "--all-ranks", "--save", "--set", "cpu.speed=2x", "--db", db,
                                    "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    saved_ids = [row["saved_trace_id"] for row in doc["ranks"]]
    with retime.open(db, read_only=True) as store:
        assert {store.job_of(t) for t in saved_ids} == {doc["saved_job"]}
    text = CliRunner().invoke(main, ["replay", "1", "--all-ranks", "--save", "--db", db]).output
    assert "saved as job 'ddp_gloo_2rank-replay-" in text


def test_a_saved_job_replay_on_a_topology_keeps_each_ranks_transfers(dlrm_store):
    store = dlrm_store
    ranked = store.replay(1, ["net=0.1x"], save=True, topology=retime_topology(), all_ranks=True)
    saved = [result.saved_trace_id for _, result in ranked]
    for (rank, _), trace_id in zip(ranked, saved):
        ranks = store.sql("SELECT DISTINCT rank FROM replay_transfers WHERE trace_id = $t", params={"t": trace_id})["rank"].to_list()
        assert ranks in ([rank], [])
    total = store.sql("SELECT count(*) AS n FROM replay_transfers WHERE list_contains($ids, trace_id)",
                      params={"ids": saved})["n"][0]
    assert total == ranked[0][1].link_report.transfers.height > 0


def retime_topology():
    from retime.replay import topology
    return topology.load("dgx-h100").with_ranks_per_server(4)
