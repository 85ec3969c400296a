"""Opening stores: created on first write, checked on every open, read-only for queries."""
from __future__ import annotations

import duckdb
import pytest

import retime
from retime.core.errors import StoreError
from retime.store import SCHEMA_VERSION
from tests.conftest import SAMPLE_TRACES


def test_a_new_store_has_the_documented_tables(tmp_path):
    with retime.open(tmp_path / "new.duckdb") as s:
        tables = set(s.sql("SELECT table_name FROM information_schema.tables")["table_name"])
        version = s.sql("SELECT version FROM schema_info")["version"].to_list()
    assert {"traces", "lanes", "events", "deps", "counters", "schema_info"} <= tables
    assert version == [SCHEMA_VERSION]


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    db = tmp_path / "old.duckdb"
    retime.open(db).close()
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE schema_info SET version = 999")
    with pytest.raises(StoreError, match="schema version 999"):
        retime.open(db)


def test_a_foreign_duckdb_file_is_not_taken_over(tmp_path):
    db = tmp_path / "foreign.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE mine (x INTEGER)")
    with pytest.raises(StoreError, match="not a retime store"):
        retime.open(db)


def test_a_read_only_store_refuses_to_ingest(tmp_path):
    db = tmp_path / "ro.duckdb"
    retime.open(db).close()
    with retime.open(db, read_only=True) as s, pytest.raises(StoreError, match="read-only"):
        s.ingest(SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz")


def test_a_second_writer_gets_a_clear_message(tmp_path):
    db = tmp_path / "busy.duckdb"
    import subprocess
    import sys
    holder = subprocess.Popen([sys.executable, "-c", f"import retime, time; s = retime.open({str(db)!r}); "
                               "print('open', flush=True); time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match="in use by another retime process"):
            retime.open(db)
    finally:
        holder.kill()
        holder.wait()
