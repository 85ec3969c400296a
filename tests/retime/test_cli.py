"""The CLI as a newcomer uses it, on the shipped samples."""
from __future__ import annotations

import json

import polars as pl
from click.testing import CliRunner

from retime.cli import main
from tests.conftest import SAMPLE_TRACES


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_ingest_then_list_query_and_inspect(tmp_path):
    db = tmp_path / "cli.duckdb"
    ingested = run("ingest", SAMPLE_TRACES, "--db", db)
    assert ingested.exit_code == 0, ingested.output
    assert "20 ingested, 0 already in the store, 0 failed" in ingested.output

    again = run("ingest", SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz", "--db", db)
    assert "already in the store" in again.output and again.exit_code == 0

    listed = json.loads(run("traces", "--db", db, "--format", "json").output)
    assert [t["format"] for t in listed] == ["kineto"] * 20
    assert sorted(t["rank"] for t in listed if t["rank"] is not None) == [0, 1]

    csv = run("sql", "SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY kind", "--db", db, "--format", "csv")
    counts = dict(line.split(",") for line in csv.output.strip().splitlines()[1:])
    assert {"cpu_op", "annotation", "python"} <= set(counts)

    info = json.loads(run("info", "cpu_mlp_train_step.pt.trace.json.gz", "--db", db, "--format", "json").output)
    assert info["trace"][0]["events"] == sum(k["events"] for k in info["kinds"])


def test_sql_writes_parquet(tmp_path):
    db = tmp_path / "cli.duckdb"
    run("ingest", SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz", "--db", db)
    out = tmp_path / "events.parquet"
    result = run("sql", "SELECT * FROM events", "--db", db, "--format", "parquet", "--out", out)
    assert result.exit_code == 0
    assert pl.read_parquet(out).height == int(result.output.split()[0])


def test_sql_errors_are_one_line(tmp_path):
    db = tmp_path / "cli.duckdb"
    run("ingest", SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz", "--db", db)
    result = CliRunner().invoke(main, ["sql", "SELEC nonsense", "--db", str(db)])
    assert result.exit_code == 2 and result.output.startswith("error: ") and result.output.count("\n") == 1


def test_sql_cannot_write_to_the_store(tmp_path):
    db = tmp_path / "cli.duckdb"
    run("ingest", SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz", "--db", db)
    result = CliRunner().invoke(main, ["sql", "DELETE FROM events", "--db", str(db)])
    assert result.exit_code == 2 and "read-only" in result.output
    still = run("sql", "SELECT count(*) > 0 AS has_events FROM events", "--db", db, "--format", "csv").output
    assert still.split() == ["has_events", "true"]


def test_ingest_reports_as_csv_one_row_per_file(tmp_path):
    result = run("ingest", SAMPLE_TRACES / "ddp_gloo_2rank", "--db", tmp_path / "c.duckdb", "--format", "csv")
    assert result.exit_code == 0
    rows = pl.read_csv(result.output.encode())
    assert rows["status"].to_list() == ["ingested", "ingested"]
    assert rows["trace_ids"].cast(str).to_list() == ["1", "2"] and rows["ranks"].cast(str).to_list() == ["0", "1"]


def test_csv_ends_with_one_newline_and_query_list_names_one_query(tmp_path):
    db = tmp_path / "cli.duckdb"
    run("ingest", SAMPLE_TRACES / "gpu_h100" / "streams_graph.pt.trace.json.gz", "--db", db)
    assert run("sql", "SELECT 1 AS a", "--format", "csv", "--db", db).output == "a\n1\n"
    assert run("query", "describe", "op_roofline").output == run("query", "list", "op_roofline").output
    described = run("query", "list", "op_roofline").output
    assert described.startswith("op_roofline (ops): ")
    assert "  top_n BIGINT = 30  " in described and "  gpu VARCHAR = ''  " in described
    assert "achieved_tflops" in described and "no rows means: " in described


def test_a_rule_that_matches_no_event_is_said_to_change_nothing(tmp_path):
    db = tmp_path / "cli.duckdb"
    run("ingest", SAMPLE_TRACES / "gpu_h100" / "hostwork_1x.pt.trace.json.gz", "--db", db)
    missing = run("replay", "1", "--remove", "^no_such_op$", "--scale", "^host_prep$=2x", "--db", db)
    assert missing.exit_code == 0, missing.output
    warnings = [line for line in missing.output.splitlines() if "warning" in line]
    assert warnings == ["  warning    --remove ^no_such_op$ matches no event of trace 1: it changes nothing "
                        "(patterns are regular expressions searched in event names)"]
    as_json = json.loads(run("replay", "1", "--scale", "^nope$=3x", "--format", "json", "--db", db).output)
    assert as_json["warnings"] == ["--scale ^nope$=3x matches no event of trace 1: it changes nothing "
                                   "(patterns are regular expressions searched in event names)"]




def test_a_rule_on_an_operator_says_that_the_kernels_it_launched_keep_their_time(tmp_path):
    db = tmp_path / "cli.duckdb"
    run("ingest", SAMPLE_TRACES / "gpu_h100" / "hostwork_1x.pt.trace.json.gz", "--db", db)
    alone = json.loads(run("replay", "1", "--remove", "^aten::mm$", "--format", "json", "--db", db).output)
    [line] = alone["warnings"]
    assert line.startswith("--remove ^aten::mm$ times the host time of its events only: the 8 GPU ops they launched")
    assert "sm80_xmma_gemm" in line
    both = json.loads(run("replay", "1", "--remove", "^aten::mm$", "--remove", "^sm80_xmma", "--format", "json",
                          "--db", db).output)
    assert both["warnings"] == []  # the kernels are named too

def test_a_knob_with_nothing_to_act_on_is_said_to_change_nothing(tmp_path):
    db = tmp_path / "cli.duckdb"
    run("ingest", SAMPLE_TRACES / "ddp_gloo_2rank", "--db", db)
    gloo = json.loads(run("replay", "1", "--set", "net=2x", "--set", "cpu.speed=2x", "--format", "json", "--db", db).output)
    assert gloo["warnings"] == ["net=2x changes nothing: trace 1 has no GPU collectives"]  # gloo's run on the CPU
    retargeted = json.loads(run("replay", "1", "--to", "h200", "--from", "h100", "--format", "json", "--db", db).output)
    assert retargeted["warnings"] == []  # --to's knobs are the presets' ratios, not the user's

def test_csv_writes_lists_and_structs_as_json_text(tmp_path):
    db = tmp_path / "cli.duckdb"
    run("ingest", SAMPLE_TRACES / "gpu_h100" / "streams_graph.pt.trace.json.gz", "--db", db)
    out = run("sql", "SELECT [1, 2] AS l, {'a': 1} AS s", "--format", "csv", "--db", db).output
    assert out == 'l,s\n"[1,2]","{""a"":1}"\n'


def test_output_piped_into_a_reader_that_stops_early_ends_quietly():
    """`retime query list | head -1`: a reader that closed the pipe before the output ends is not an error."""
    import os
    import subprocess
    import sys
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    done = subprocess.run([sys.executable, "-m", "retime.cli", "query", "list"], stdout=write_end,
                          stderr=subprocess.PIPE, timeout=120)
    os.close(write_end)
    assert done.returncode == 0 and done.stderr == b"", done.stderr


def test_tables_show_times_in_a_unit_people_read_and_scripts_keep_ns(tmp_path):
    db = tmp_path / "cli.duckdb"
    run("ingest", SAMPLE_TRACES / "gpu_h100" / "h2d_pinned.pt.trace.json.gz", "--db", db)
    sql = ("SELECT name, ts_ns, dur_ns, 1e7 / 3 AS ratio FROM events WHERE trace_id = 1 AND kind = 'memcpy' "
           "ORDER BY ts_ns LIMIT 2")
    raw = pl.read_csv(run("sql", sql, "--db", db, "--format", "csv").output.encode())
    table = run("sql", sql, "--db", db).output
    assert "ts_us" in table or "ts_ms" in table  # durations of µs-ms copies, absolute times from the first shown
    unit = "us" if "dur_us" in table else "ms"
    first_dur = raw["dur_ns"][0] / {"us": 1e3, "ms": 1e6}[unit]
    assert f"{round(first_dur, 3):g}" in table and "from the earliest time shown" in table
    assert "e6" not in table and "3333333" in table  # no scientific notation, whole digits kept
    assert str(raw["ts_ns"][0]) in run("sql", sql, "--db", db, "--units", "ns").output  # the store's numbers
    assert raw["ts_ns"][0] > 10**17  # csv keeps the absolute ns


def test_a_per_trace_query_over_every_rank_of_a_job(tmp_path):
    db = tmp_path / "cli.duckdb"
    run("ingest", SAMPLE_TRACES / "ddp_gloo_2rank", "--db", db)
    ranks = json.loads(run("query", "step_times", "1", "--all-ranks", "--db", db, "--format", "json").output)
    one = {t: json.loads(run("query", "step_times", t, "--db", db, "--format", "json").output) for t in ("1", "2")}
    assert len(ranks) >= 2 and sorted({(r["trace_id"], r["rank"]) for r in ranks}) == [(1, 0), (2, 1)]
    for trace_id in (1, 2):
        mine = [{k: v for k, v in r.items() if k not in ("trace_id", "rank")} for r in ranks if r["trace_id"] == trace_id]
        assert mine == one[str(trace_id)]
    refused = CliRunner().invoke(main, ["query", "straggler_ranks", "1", "--all-ranks", "--db", str(db)])
    assert refused.exit_code == 2 and "not a per-trace query" in refused.output


def test_ingest_says_what_it_did_not_read(tmp_path):
    db = tmp_path / "cli.duckdb"
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = CliRunner().invoke(main, ["ingest", str(empty), "--db", str(db)])
    assert nothing.exit_code == 1 and "no trace files" in nothing.output and str(empty) in nothing.output
    read = run("ingest", SAMPLE_TRACES / "gpu_h100", "--db", db)
    assert read.exit_code == 0 and "not read: 1 file under" in read.output and "measurements.toml" in read.output
    lake = CliRunner().invoke(main, ["--lake", str(tmp_path / "lake"), "ingest", str(SAMPLE_TRACES), "--db", str(db)])
    assert lake.exit_code == 2 and "--lake is read-only" in lake.output


def test_job_queries_refuse_a_job_that_is_not_the_ranks_of_one_run(tmp_path):
    db = tmp_path / "cli.duckdb"
    run("ingest", SAMPLE_TRACES / "ddp_gloo_2rank", "--db", db)
    assert run("query", "straggler_ranks", "1", "--db", db).exit_code == 0
    run("ingest", SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz", "--job", "ddp_gloo_2rank", "--db", db)
    refused = CliRunner().invoke(main, ["query", "straggler_ranks", "1", "--db", str(db)])
    assert refused.exit_code == 2 and "is not the ranks of one run: 1 of 3 traces name no rank" in refused.output
    replay = CliRunner().invoke(main, ["replay", "1", "--all-ranks", "--db", str(db)])
    assert replay.exit_code == 2 and "not the ranks of one run" in replay.output
