"""`retime ingest --jobs N`: worker processes read the files, the store commits them; the store ends
exactly as a one-by-one ingest leaves it."""
from __future__ import annotations

from click.testing import CliRunner

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


def test_parallel_and_sequential_ingests_store_the_same(tmp_path):
    with retime.open(tmp_path / "one.duckdb") as one:
        one.ingest(SAMPLE_TRACES)
        expected = content(one)
    landed = []
    with retime.open(tmp_path / "many.duckdb") as many:
        results = many.ingest(SAMPLE_TRACES, jobs=2, on_result=landed.append)
        assert [r.status for r in results] == ["ingested"] * 9 and landed == results
        assert content(many) == expected
        again = many.ingest(SAMPLE_TRACES, jobs=2)
        assert [r.status for r in again] == ["already"] * 9
        assert content(many) == expected


def test_a_bad_file_among_good_ones_fails_alone(tmp_path):
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


def test_another_file_of_a_stored_trace_is_not_stored_again(tmp_path):
    """A trace re-compressed (other bytes, same events) is reported as already stored, one by one
    and in parallel alike, and the store keeps one copy."""
    import gzip
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
