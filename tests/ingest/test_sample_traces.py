"""The traces retime ships ingest exactly; these tests run on every clone."""
from __future__ import annotations

import pytest

from tests.conftest import SAMPLE_TRACES, load_json
from tests.ingest.reference_counts import reference_counts
from tests.ingest.test_shared_traces import store_counts

SAMPLES = sorted(p.relative_to(SAMPLE_TRACES).as_posix() for p in SAMPLE_TRACES.rglob("*.json.gz"))


def test_the_samples_are_there():
    assert len(SAMPLES) == 20  # 15 recorded on a CPU (2 in input_pipeline/, 9 in batch/), 5 on an H100 (gpu_h100/)


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_counts_match_the_json(store, name):
    [result] = store.ingest(SAMPLE_TRACES / name)
    assert result.status == "ingested" and result.format == "kineto"
    assert store_counts(store, result.trace_id) == reference_counts(load_json(SAMPLE_TRACES / name))


def test_forward_ops_are_linked_to_their_backward(store):
    path = SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz"
    pairs = {e["id"] for e in load_json(path)["traceEvents"] if e.get("cat") == "fwdbwd" and e["ph"] == "s"}
    [r] = store.ingest(path)
    edges = store.sql("""SELECT count(*) AS n, bool_and(s.ts_ns < d.ts_ns) AS forward_first
                         FROM deps x JOIN events s ON s.trace_id = x.trace_id AND s.event_id = x.src_event_id
                                     JOIN events d ON d.trace_id = x.trace_id AND d.event_id = x.dst_event_id
                         WHERE x.trace_id = $t AND x.kind = 'fwd_bwd'""", params={"t": r.trace_id}).to_dicts()[0]
    assert edges == {"n": len(pairs), "forward_first": True}


def test_profiler_steps_are_annotations(store):
    [r] = store.ingest(SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz")
    steps = store.sql("SELECT name FROM events WHERE trace_id = $t AND kind = 'annotation' AND name LIKE 'ProfilerStep#%' "
                      "ORDER BY ts_ns", params={"t": r.trace_id})["name"].to_list()
    assert steps == ["ProfilerStep#2", "ProfilerStep#3", "ProfilerStep#4"]


def test_the_ddp_directory_is_one_two_rank_job(store):
    results = store.ingest(SAMPLE_TRACES / "ddp_gloo_2rank")
    assert [r.status for r in results] == ["ingested", "ingested"]
    job = store.sql("SELECT job, rank, world_size, backend FROM traces ORDER BY rank").to_dicts()
    assert job == [{"job": "ddp_gloo_2rank", "rank": 0, "world_size": 2, "backend": "gloo"},
                   {"job": "ddp_gloo_2rank", "rank": 1, "world_size": 2, "backend": "gloo"}]
    allreduce = store.sql("SELECT trace_id, count(*) AS n FROM events WHERE name = 'c10d::allreduce_' GROUP BY 1")
    assert allreduce["n"].to_list() == [2, 2]
