"""The Parquet lake answers every question exactly as the store it was written from."""
from __future__ import annotations

import polars as pl
import pytest
from click.testing import CliRunner
from retime.queries import runner

import retime
from retime.cli import main


@pytest.fixture
def store_and_lake(tmp_path, shared_traces):
    with retime.open(tmp_path / "s.duckdb") as store:
        store.ingest([shared_traces / "hta" / "alexnet_cuda_sync.json.gz", shared_traces / "param" / "dlrm_8rank"])
        store.replay(1, ["pcie.h2d=2x"], save=True)
        written = store.export_lake(tmp_path / "lake")
        assert written["counters"] == 0 and written["events"] > 20_000
    store = retime.open(tmp_path / "s.duckdb", read_only=True)
    lake = retime.open_lake(tmp_path / "lake")
    yield store, lake
    store.close()
    lake.close()


def test_every_named_query_answers_the_same_on_the_lake(store_and_lake):
    store, lake = store_and_lake
    for name, query in runner.catalogue().items():
        params = {"job": "dlrm_8rank"} if any(p.name == "job" for p in query.params) else {"trace_id": 2}
        if any(p.name == "other_id" for p in query.params):
            params["other_id"] = 3
        a, b = store.query(name, **params), lake.query(name, **params)
        assert a.columns == b.columns, name
        assert a.sort(a.columns).equals(b.sort(b.columns)), name
    assert store.query("replays", 1).height == lake.query("replays", 1).height == 1


def test_replays_and_listings_agree(store_and_lake):
    store, lake = store_and_lake
    a, b = store.replay(2, ["cpu.speed=2x"]), lake.replay(2, ["cpu.speed=2x"])
    assert (a.measured_ns, a.predicted_ns, a.critical_path_ns) == (b.measured_ns, b.predicted_ns, b.critical_path_ns)
    assert store.traces().drop("span_ms").equals(lake.traces().drop("span_ms"))


def test_the_cli_reads_a_lake(tmp_path, store_and_lake):
    result = CliRunner().invoke(main, ["--lake", str(tmp_path / "lake"), "query", "straggler_ranks", "2", "--format", "csv"])
    assert result.exit_code == 0 and result.output.splitlines()[1].startswith("7,8,5,")
    missing = CliRunner().invoke(main, ["--lake", str(tmp_path / "nowhere"), "traces"])
    assert missing.exit_code == 2 and "not a retime lake" in missing.output
    assert isinstance(pl.read_parquet(next((tmp_path / "lake" / "events").rglob("*.parquet"))), pl.DataFrame)
