"""The columnar reader (retime/ingest/json_columns.py) leaves exactly the store DuckDB's JSON reader
(chrome_read.sql) leaves: every table, every column, every row, on every real trace; and a file it
does not take on goes to DuckDB's reader, with the same store or the same error."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from retime.ingest import chrome, json_columns, json_split, kineto_args
from retime.core.sqlfiles import run_script, set_variables

import retime
from retime.core.errors import TraceFormatError
from tests.conftest import SAMPLE_TRACES, SHARED_TRACES, STORE_TABLES


# of ../shared/traces, the files whole stores are compared on (every file's staging table is, below):
# each kind of source, both top-level forms, cut-off copies, gzip, flows, counters, async and B/E slices
STORE_SAMPLE = ("catapult/flow.json", "catapult/fuchsia_trace.json.gz", "catapult/async_begin_end.json",
                "derived/alexnet_cuda_sync_cut_mid_event.json", "derived/tall_trace_no_closing_bracket.json",
                "hta/alexnet_cuda_sync.json.gz", "hta/nccl_parser_config_rank0.json.gz",
                "kineto/tb_plugin_resnet50_2020-12_array_format.pt.trace.json.gz",
                "param/dlrm_8rank/worker0_step_12.1694128201545.pt.trace.json.gz", "perfetto/flow_events_json_v2.json",
                "tracelens/mi300x_torch_compile_triton.json.gz", "tracelens/vllm_prefilldecode_piecewise_graph_execution.json.gz")


def chrome_files() -> list[Path]:
    """Every Chrome/Kineto JSON file of sample_traces/ and (where present) ../shared/traces."""
    files = sorted(p for p in SAMPLE_TRACES.rglob("*.json*"))
    if SHARED_TRACES.is_dir():
        files += sorted(p for p in SHARED_TRACES.rglob("*.json*") if not p.name.startswith("pytorch_et"))
    return files


def ingest_all(db: Path, files: list[Path], columnar: bool, monkeypatch) -> list:
    monkeypatch.setattr(chrome, "COLUMNAR", columnar)
    monkeypatch.setattr(chrome, "COLUMNAR_FROM_BYTES", 0)  # every file, small ones too, through the reader asked for
    with retime.open(db) as store:
        return [(r.status, r.error, r.warnings) for r in store.ingest(files)]


def differences(a: Path, b: Path) -> dict[str, int]:
    """Rows of each store table that are in one store and not the other (as many times), every
    column but the time of the ingest."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY); ATTACH '{b}' AS b (READ_ONLY)")
    found = {}
    for table in STORE_TABLES:
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'a' AND table_name = ? "
            "AND column_name <> 'ingested_at' ORDER BY ordinal_position", [table]).fetchall()]  # when, not what
        # JSON and nested values compare by their text; NULLs match each other in EXCEPT ALL
        picked = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)
        one_way = f"SELECT count(*) FROM (SELECT {picked} FROM a.{table} EXCEPT ALL SELECT {picked} FROM b.{table})"
        other_way = f"SELECT count(*) FROM (SELECT {picked} FROM b.{table} EXCEPT ALL SELECT {picked} FROM a.{table})"
        n = con.execute(one_way).fetchall()[0][0] + con.execute(other_way).fetchall()[0][0]
        if n:
            found[table] = n
    return found


def test_real_traces_give_the_store_duckdbs_reader_gives(tmp_path, monkeypatch):
    files = sorted(SAMPLE_TRACES.rglob("*.json*"))
    if SHARED_TRACES.is_dir():
        files += [SHARED_TRACES / name for name in STORE_SAMPLE]
    columnar = ingest_all(tmp_path / "columnar.duckdb", files, True, monkeypatch)
    reader = ingest_all(tmp_path / "reader.duckdb", files, False, monkeypatch)
    assert columnar == reader
    assert differences(tmp_path / "columnar.duckdb", tmp_path / "reader.duckdb") == {}


@pytest.mark.slow
def test_every_real_trace_is_staged_by_the_columnar_reader_as_duckdbs_reader_stages_it(tmp_path):
    """Every row and column of the staging table `raw`, in order, for every file: the rest of an
    ingest is the same SQL over it. And none needs DuckDB's reader: the path checked is the one taken."""
    left_to_duckdb, different = [], []
    for path in chrome_files():
        work = tmp_path / path.name
        work.mkdir()
        try:
            split = json_split.split_trace(path, work)
        except TraceFormatError:
            continue  # not a trace (a cut-off copy before its events, ...): no reader runs
        in_place = split.events_range()  # a plain file's array where it lies; _staging copies it for DuckDB's reader
        con = _staging(split)
        if not _same_as_duckdbs(con, in_place):
            (different if con.execute("SELECT count(*) FROM raw").fetchall()[0][0] else left_to_duckdb).append(path.name)
    assert (left_to_duckdb, different) == ([], [])


TOKENS = """[
{"ph": "X", "name": "a\\"b\\u00e9 \\n", "pid": 12345, "tid": "t 1", "ts": 1.5, "dur": 2,
 "args": {"b": 1.0, "a": [1, 2 , {"x": null}], "c": "\\u00e9", "d": 1e3, "e": 1.50, "f": -0.0,
          "g": 12345678901234567890, "External id": 7, "External id": 8, "device": "0", "stream": 7.0}},
{"ph": "X", "name": 12, "pid": 1.5, "tid": true, "ts": 100.25, "dur": 0.0004995, "args": null},
{"ph": "X", "name": {"k": [1, "x y"]}, "pid": -3, "tid": null, "ts": 1700000000123456.7891235, "dur": 1, "args": {}},
null,
{"ph": "s", "id": "0x1", "bp": "e", "ts": -5.0000005, "bind_id": 7, "flow_in": true, "flow_out": false, "args": "text"},
{"ph": "i", "name": "\\u00fc \\u00e9 x \\ud83d\\ude00", "ts": 5, "args": {"correlation": {"nested": [true, false]}, "seq": -0}},
{}, {"zz": [1, {"a": "\\u0041"}], "zz": 2, "cat": "a\\/b", "pid": -0, "tid": 12345678901234567890123}
]"""


@pytest.mark.parametrize("text, columnar_takes_it", [
    (TOKENS, True),                                        # escapes, floats, objects, duplicate args keys, nulls
    ('{"traceEvents": [{"ph": "X", "ts": "10", "dur": 1}]}', False),  # a timestamp written as a string
    ('[{"ph": "X", "ts": 1e3, "dur": 1}]', False),          # a timestamp with an exponent
    ('[{"ph": "X", "ts": 1, "dur": 1, "flow_in": 1}]', False),  # a flag that is not true or false
    ('[{"ph": "X", "n\\u0061me": "x", "ts": 1}]', False),   # a key with escapes
    ('[{"ph": "X", "ts": 1,}]', False),                    # a trailing comma, which DuckDB's reader allows
])
@pytest.mark.parametrize("batch_events", [2, json_columns.BATCH_EVENTS])  # batches streamed while others are built
def test_tokens_read_as_duckdbs_reader_reads_them(tmp_path, monkeypatch, text, columnar_takes_it, batch_events):
    monkeypatch.setattr(json_columns, "BATCH_EVENTS", batch_events)
    trace = tmp_path / "t.json"
    trace.write_text(text)
    split = json_split.split_trace(trace, tmp_path)
    source, offset, size = split.events_in_place  # a plain file's array is read where it lies
    array = text.encode()[offset:offset + size]
    assert source == trace and array.startswith(b"[") and array.endswith(b"]")
    in_place = split.events_range()
    con = _staging(split)
    assert _same_as_duckdbs(con, in_place) is columnar_takes_it
    if not columnar_takes_it:  # what the file leaves in raw is then DuckDB's reader's own
        assert json_columns.load_raw(con, *in_place) is False


def test_a_file_refused_after_batches_were_taken_ingests_as_duckdbs_reader_ingests_it(tmp_path, monkeypatch):
    """The fifth event's timestamp is a string: the columnar reader stops in its third batch of two,
    after DuckDB took two, and DuckDB's reader replaces what it staged."""
    events = [{"ph": "X", "name": f"op{k}", "pid": 1, "tid": 1, "ts": k, "dur": 1} for k in range(8)]
    events[4]["ts"] = "4"
    trace = tmp_path / "late.json"
    trace.write_text(json.dumps({"traceEvents": events}))
    monkeypatch.setattr(json_columns, "BATCH_EVENTS", 2)
    split = json_split.split_trace(trace, tmp_path)
    in_place = split.events_range()
    assert json_columns.load_raw(_staging(split), *in_place) is False
    results = ingest_all(tmp_path / "columnar.duckdb", [trace], True, monkeypatch)
    assert results == ingest_all(tmp_path / "reader.duckdb", [trace], False, monkeypatch)
    assert results[0][0] == "ingested"
    assert differences(tmp_path / "columnar.duckdb", tmp_path / "reader.duckdb") == {}


@pytest.mark.parametrize("text", [
    '[{"ph": "X", "ph": "B", "ts": 1}]',     # a key twice
    '[{"ph": "X", "ts": 01}]',               # a leading zero
    '[{"ph": "X", "ts": 1}, 5]',             # an element that is not an event
    '[{"ph": "X", "name": "\\ude00 x"}]',    # half a surrogate pair
])
def test_a_file_duckdbs_reader_refuses_fails_with_its_message(tmp_path, monkeypatch, text):
    trace = tmp_path / "bad.json"
    trace.write_text(text)
    results = ingest_all(tmp_path / "columnar.duckdb", [trace], True, monkeypatch)
    assert results == ingest_all(tmp_path / "reader.duckdb", [trace], False, monkeypatch)
    [(status, error, _)] = results
    assert status == "failed" and error.startswith(str(trace))


def _same_as_duckdbs(con: duckdb.DuckDBPyConnection, events: tuple) -> bool:
    """Whether the columnar reader takes the events array (file, offset, size) and stages exactly
    the rows DuckDB's reader stages from its file (events_path), every column (as text, so JSON and
    lists compare too), in order."""
    run_script(con, "retime.ingest", "chrome_read", fill=kineto_args.fill())
    con.execute("CREATE OR REPLACE TEMP TABLE by_duckdb AS SELECT rowid AS r, * FROM raw")
    if not json_columns.load_raw(con, *events):
        con.execute("DELETE FROM raw")
        return False
    rows = "SELECT r, COLUMNS(* EXCLUDE (r))::VARCHAR FROM {} ORDER BY r"
    return con.execute(rows.format("(SELECT rowid AS r, * FROM raw)")).fetchall() == \
        con.execute(rows.format("by_duckdb")).fetchall()


def _staging(split: json_split.SplitTrace) -> duckdb.DuckDBPyConnection:
    """A connection with what the reader's scripts need around them."""
    con = duckdb.connect()
    con.execute("CREATE TABLE traces (trace_id INT, format VARCHAR, rank INT, start_ns BIGINT, end_ns BIGINT, "
                "event_count BIGINT); CREATE TABLE events (trace_id INT, dur_ns BIGINT); CREATE TABLE lanes (trace_id INT)")
    set_variables(con, trace_id=1, time_base_ns=0, events_path=str(split.events_file()))
    run_script(con, "retime.ingest", "macros")
    return con



def test_a_small_file_goes_to_duckdbs_reader_while_the_kernels_are_not_compiled(tmp_path, monkeypatch):
    """On a fresh install (the columnar kernels not compiled), an events array below COLUMNAR_FROM_BYTES
    is DuckDB's to read: the kernels (seconds of compile) are not called."""
    from retime.core.jit import compiled
    from retime.ingest import json_tokens
    assert compiled(json_tokens.scan_events)  # this suite has run them: on disk, or in this process

    def refuse(*_):
        raise AssertionError("the columnar reader ran for a small file")
    monkeypatch.setattr(json_columns, "compiled", lambda: False)
    monkeypatch.setattr(json_columns, "load_raw", refuse)
    with retime.open(tmp_path / "s.duckdb") as store:
        [result] = store.ingest(SAMPLE_TRACES / "gpu_h100" / "hostwork_1x.pt.trace.json.gz")
    assert result.status == "ingested" and result.events > 0
