"""Bad files end in one line naming the file and the problem, and leave the store as it was."""
from __future__ import annotations

import gzip
import sqlite3

import pytest
from click.testing import CliRunner

from retime.cli import main
from tests.conftest import SAMPLE_TRACES, STORE_TABLES, table_counts

GOOD = SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz"


def bad_files(tmp_path):
    cases = {
        "not_json.json": b"this is not a trace\n",
        "empty.json": b"",
        "a_number.json": b"42",
        "wrong_structure.json": b'{"events": [{"ph": "X"}]}',
        "broken_event.json": b'{"traceEvents": [{"ph": "X", "ts": 1, "dur": 2}, {"ph": "X", "ts": ]}',
        "bad_value.json": b'{"traceEvents": [{"ph": "X", "ts": "soon", "dur": 2, "pid": 1, "tid": 1}]}',
        "extra_close.json": b'[{"ph": "X", "ts": 1, "dur": 1}]]]',
    }
    paths = {}
    for name, data in cases.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(data)
    corrupt = bytearray(gzip.compress(GOOD.read_bytes()[:4000] * 3))
    corrupt[40:60] = b"\x00" * 20
    paths["corrupt.json.gz"] = tmp_path / "corrupt.json.gz"
    paths["corrupt.json.gz"].write_bytes(bytes(corrupt))
    db = tmp_path / "not_nsys.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (x)")
    paths["not_nsys.sqlite"] = db
    return paths


def test_each_bad_file_fails_alone_and_leaves_the_store_unchanged(store, tmp_path):
    [good] = store.ingest(GOOD)
    before = table_counts(store)
    for name, path in bad_files(tmp_path).items():
        [result] = store.ingest(path)
        assert result.status == "failed", name
        assert result.error.startswith(str(path)), result.error
        assert "\n" not in result.error
        assert table_counts(store) == before, name
    assert good.status == "ingested"


def test_a_value_duckdb_cannot_read_rolls_back_the_whole_file(store, tmp_path):
    path = bad_files(tmp_path)["bad_value.json"]
    [result] = store.ingest(path)
    assert result.status == "failed"
    assert "the events array" in result.error
    assert table_counts(store) == dict.fromkeys(STORE_TABLES, 0)


def test_the_cli_reports_bad_files_in_one_line_and_still_ingests_the_good_one(tmp_path):
    paths = bad_files(tmp_path)
    db = tmp_path / "cli.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(paths["not_json.json"]), str(GOOD),
                                       str(paths["corrupt.json.gz"]), "--db", str(db)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert str(paths["not_json.json"]) in errors[0] and "not a JSON trace" in errors[0]
    assert str(paths["corrupt.json.gz"]) in errors[1] and "gzip" in errors[1]
    assert "1 ingested" in result.output


@pytest.mark.parametrize("args", [["traces"], ["sql", "SELECT 1"], ["info", "1"]])
def test_reading_a_store_that_does_not_exist_is_a_clear_error(tmp_path, args):
    result = CliRunner().invoke(main, args + ["--db", str(tmp_path / "nowhere.duckdb")])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "no such store" in result.output
    assert not (tmp_path / "nowhere.duckdb").exists()


def test_a_missing_file_is_reported(store, tmp_path):
    [result] = store.ingest(tmp_path / "absent.json")
    assert result.status == "failed" and "no such file" in result.error
