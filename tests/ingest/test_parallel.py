"""`retime ingest --jobs N`: worker processes read the files, the store commits them; the store ends
exactly as a one-by-one ingest leaves it, whether small files travel alone or in batches."""
from __future__ import annotations

import gzip

import pytest
from click.testing import CliRunner

from retime.ingest import parallel

import retime
from retime.cli import main
from tests.conftest import SAMPLE_TRACES

CONTENT = ["SELECT trace_id, job, rank, format, event_count, sha256, source_path FROM traces ORDER BY trace_id",
           "SELECT trace_id, count(*) AS n, sum(ts_ns) AS ts, sum(dur_ns) AS dur, count(DISTINCT name) AS names "
           "FROM events GROUP BY 1 ORDER BY 1",
           "SELECT trace_id, kind, count(*) AS n FROM deps GROUP BY ALL ORDER BY ALL",
           "SELECT trace_id, count(*) AS n FROM lanes GROUP BY 1 ORDER BY 1",
           "SELECT trace_id, count(*) AS n, sum(end_ns - ts_ns) AS busy, count(call_event_id) AS launched, "
           "sum(ts_ns - call_ts_ns) AS latency FROM gpu_timeline GROUP BY 1 ORDER BY 1",
           "SELECT * FROM gpu_device_time ORDER BY ALL"]


def content(store):
    return [store.sql(q).to_dicts() for q in CONTENT]


def renumbered(tables):
    """`content` with trace ids in order from 0: a one-by-one ingest spends ids on files it then
    finds stored, so its ids have gaps a parallel ingest's need not have."""
    order = {t: n for n, t in enumerate(sorted({row["trace_id"] for table in tables for row in table}))}
    return [[{**row, "trace_id": order[row["trace_id"]]} for row in table] for table in tables]


@pytest.fixture(params=["alone", "batched"])
def batching(request, monkeypatch):
    """Small files one per worker task, or several per task (one batch per worker: the sample
    traces are too few to be batched otherwise)."""
    if request.param == "batched":
        monkeypatch.setattr(parallel, "BATCHES_PER_WORKER", 1)
    return request.param


def test_small_files_travel_in_batches_and_large_ones_alone():
    mb = 1 << 20
    assert parallel.batches([mb] * 16, workers=2) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11], [12, 13], [14, 15]]
    assert parallel.batches([mb, mb, 9 * mb, mb] + [mb] * 12, workers=1) == [  # 15 small files: 3 a batch
        [0, 1], [2], [3, 4, 5], [6, 7, 8], [9, 10, 11], [12, 13, 14], [15]]
    assert parallel.batches([80_000] * 1024, workers=2) == [list(range(n, n + 32)) for n in range(0, 1024, 32)]
    assert parallel.batches([3 * mb] * 40, workers=1) == [list(range(n, n + 5)) for n in range(0, 40, 5)]  # 16 MB a batch


def test_parallel_and_sequential_ingests_store_the_same(tmp_path, batching):
    with retime.open(tmp_path / "one.duckdb") as one:
        one.ingest(SAMPLE_TRACES)
        expected = content(one)
    landed = []
    with retime.open(tmp_path / "many.duckdb") as many:
        results = many.ingest(SAMPLE_TRACES, jobs=2, on_result=landed.append)
        assert [r.status for r in results] == ["ingested"] * 20 and landed == results
        assert content(many) == expected
        again = many.ingest(SAMPLE_TRACES, jobs=2)
        assert [r.status for r in again] == ["already"] * 20
        assert content(many) == expected


def test_a_bad_file_among_good_ones_fails_alone(tmp_path, batching):
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "rank0.json.gz").write_bytes((SAMPLE_TRACES / "ddp_gloo_2rank" / "rank0.pt.trace.json.gz").read_bytes())
    (folder / "rank1.json").write_bytes(b'{"traceEvents": [{"ph": "X", "ts": ]}')
    (folder / "rank2.json.gz").write_bytes((SAMPLE_TRACES / "ddp_gloo_2rank" / "rank1.pt.trace.json.gz").read_bytes())
    result = CliRunner().invoke(main, ["ingest", str(folder), "--jobs", "2", "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 1
    assert "2 ingested, 0 already in the store, 1 failed" in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "rank1.json" in errors[0]
    with retime.open(tmp_path / "s.duckdb", read_only=True) as store:
        assert store.sql("SELECT job, rank FROM traces ORDER BY trace_id").to_dicts() == [
            {"job": "job", "rank": 0}, {"job": "job", "rank": 1}]


def test_another_file_of_a_stored_trace_is_not_stored_again(tmp_path, batching):
    """A trace re-compressed (other bytes, same events) is reported as already stored, one by one
    and in parallel alike, and the store keeps one copy."""
    original = SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz"
    copy = tmp_path / "copy" / "mlp_again.json.gz"
    copy.parent.mkdir()
    copy.write_bytes(gzip.compress(gzip.decompress(original.read_bytes()), compresslevel=1))
    assert copy.read_bytes() != original.read_bytes()
    for jobs in (1, 2):
        db = tmp_path / f"s{jobs}.duckdb"
        with retime.open(db) as store:
            results = store.ingest([original, copy], jobs=jobs)
            assert [r.status for r in results] == ["ingested", "already"]
            assert results[1].same == "events" and results[1].trace_id == results[0].trace_id
            assert store.sql("SELECT count(*) AS n FROM traces")["n"][0] == 1
    out = CliRunner().invoke(main, ["ingest", str(copy), "--db", str(tmp_path / "s1.duckdb")])
    assert "already in the store (the same events: another file of that trace)" in out.output


def test_a_batch_repeating_its_own_files_and_the_stores_stores_each_once(tmp_path, batching):
    """A file twice, a re-compressed copy of another, a bad file, and a file the store held before;
    every file gets the status and trace a one-by-one ingest gives it. Batched, the first batch
    holds the mlp, the convnet and its copy, the second the mlp again, the bad file and rank 0."""
    mlp = SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz"
    conv = SAMPLE_TRACES / "cpu_convnet_inference.pt.trace.json.gz"
    folder = tmp_path / "mixed"
    folder.mkdir()
    files = {"a_mlp.json.gz": mlp.read_bytes(), "b_conv.json.gz": conv.read_bytes(),
             "c_conv_recompressed.json.gz": gzip.compress(gzip.decompress(conv.read_bytes()), compresslevel=1),
             "d_mlp_again.json.gz": mlp.read_bytes(),
             "e_bad.json": b'{"traceEvents": [{"ph": "X", "ts": ]}',
             "f_rank0.json.gz": (SAMPLE_TRACES / "ddp_gloo_2rank" / "rank0.pt.trace.json.gz").read_bytes(),
             "g_rank1.json.gz": (SAMPLE_TRACES / "ddp_gloo_2rank" / "rank1.pt.trace.json.gz").read_bytes()}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    outcome = {}
    for jobs in (1, 2):
        with retime.open(tmp_path / f"s{jobs}.duckdb") as store:
            store.ingest([SAMPLE_TRACES / "ddp_gloo_2rank" / "rank1.pt.trace.json.gz"])
            results = store.ingest([folder], jobs=jobs)
            path_of = dict(store.sql("SELECT trace_id, source_path FROM traces").iter_rows())
            outcome[jobs] = ([(r.status, r.same if r.status == "already" else None, [path_of[t] for t in r.trace_ids])
                              for r in results], renumbered(content(store)))
    assert [(status, same) for status, same, _ in outcome[1][0]] == [
        ("ingested", None), ("ingested", None), ("already", "events"), ("already", "bytes"), ("failed", None),
        ("ingested", None), ("already", "bytes")]
    assert outcome[2] == outcome[1]
