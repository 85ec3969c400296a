"""Every real trace in ../shared/traces ingests, and the store holds exactly the events the file has."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_TRACES, load_json, shared_json_traces
from tests.ingest.reference_counts import reference_counts


def store_counts(store, trace_id: int) -> dict[str, int]:
    sql = Path(__file__).with_name("store_counts.sql").read_text()
    row = store.sql(sql, params={"trace_id": trace_id}).to_dicts()[0]
    return {k: int(v) for k, v in row.items()}


@pytest.mark.parametrize("name", shared_json_traces())
def test_event_counts_and_durations_match_the_json(store, name):
    path = SHARED_TRACES / name
    [result] = store.ingest(path)
    assert result.status == "ingested", result.error

    assert store_counts(store, result.trace_id) == reference_counts(load_json(path))


def test_a_job_directory_is_one_job_with_ranks_from_the_traces(store, shared_traces):
    results = store.ingest(shared_traces / "param" / "dlrm_8rank")
    assert [r.status for r in results] == ["ingested"] * 8
    job = store.sql("SELECT job, rank, world_size, backend FROM traces ORDER BY rank")
    assert job["job"].unique().to_list() == ["dlrm_8rank"]
    assert job["rank"].to_list() == list(range(8))
    assert job["world_size"].unique().to_list() == [8]
    assert job["backend"].unique().to_list() == ["nccl"]


def test_reingesting_the_same_bytes_is_a_no_op(store, shared_traces):
    path = shared_traces / "hta" / "alexnet_cuda_sync.json.gz"
    [first] = store.ingest(path)
    [second] = store.ingest(path)
    assert second.status == "already" and second.trace_id == first.trace_id
    assert store.sql("SELECT count(*) AS n FROM traces")["n"][0] == 1


def test_a_folder_of_unrelated_traces_is_not_made_one_job(store, shared_traces):
    """hta/ holds test traces of many runs (ranks 0 eight times, world sizes 2, 8 and 300, clocks
    years apart): they are not grouped into job 'hta', and each says why; its sampled_job/ subfolder
    (ranks 0 and 1 of one 128-rank run) stays a job."""
    results = store.ingest(shared_traces / "hta")
    jobs = store.sql("SELECT DISTINCT job FROM traces ORDER BY job")["job"].to_list()
    assert "hta" not in jobs and "sampled_job" in jobs
    notes = {w for r in results for w in r.warnings if w.startswith("not grouped into job 'hta'")}
    assert len(notes) == 1
    [note] = notes
    assert "appears more than once" in note and "world sizes disagree (2, 8, 300)" in note
    assert store.sql("SELECT count(*) AS n FROM traces WHERE job = 'sampled_job'")["n"][0] == 2


def test_the_ranks_of_one_run_stay_one_job(store, shared_traces):
    results = store.ingest(shared_traces / "param" / "dlrm_8rank")
    assert not any(w.startswith("not grouped") for r in results for w in r.warnings)
    assert store.sql("SELECT count(*) AS n FROM traces WHERE job = 'dlrm_8rank'")["n"][0] == 8
