"""Every real trace in ../shared/traces ingests, and the store holds exactly the events the file has."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_TRACES, load_json, shared_json_traces
from tests.ingest.reference_counts import reference_counts


def store_counts(store, trace_id: int) -> dict[str, int]:
    sql = Path(__file__).with_name("store_counts.sql").read_text()
    row = store.sql(sql, {"trace_id": trace_id}).to_dicts()[0]
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
