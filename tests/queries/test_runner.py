"""The query runner and CLI on the shipped samples: listing, parameters, and saying when nothing is found."""
from __future__ import annotations

from click.testing import CliRunner
from retime.queries import runner

from retime.cli import main
from tests.conftest import SAMPLE_TRACES


def test_every_query_documents_its_parameters_columns_and_empty_answer():
    queries = runner.catalogue()
    assert len(queries) >= 10
    for query in queries.values():
        assert query.summary and query.columns and query.empty != "no rows", query.name
        for param in query.params:
            assert f"${param.name}" in query.sql, (query.name, param.name)


def test_queries_on_a_cpu_only_trace_say_what_they_did_not_find(tmp_path):
    db = tmp_path / "q.duckdb"
    CliRunner().invoke(main, ["ingest", str(SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz"), "--db", str(db)])
    result = CliRunner().invoke(main, ["query", "temporal_breakdown", "1", "--db", str(db)])
    assert result.exit_code == 0
    assert result.output.strip() == "no rows: the trace has no GPU kernels, copies or memsets"


def test_parameters_are_checked_and_typed(tmp_path):
    db = tmp_path / "q.duckdb"
    CliRunner().invoke(main, ["ingest", str(SAMPLE_TRACES / "ddp_gloo_2rank"), "--db", str(db)])
    bad = CliRunner().invoke(main, ["query", "kernel_breakdown", "1", "--param", "top_n=many", "--db", str(db)])
    assert bad.exit_code == 2 and "top_n must be BIGINT" in bad.output
    job = CliRunner().invoke(main, ["query", "straggler_ranks", "1", "--db", str(db), "--format", "json"])
    assert job.exit_code == 0 and job.output.strip() == "[]"  # gloo on the CPU runs no collective kernels
