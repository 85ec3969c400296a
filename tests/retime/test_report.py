"""The HTML report: self-contained, built from the named queries, and explicit about what it found none of."""
from __future__ import annotations

import re

from click.testing import CliRunner

from retime.cli import main
from tests.conftest import SAMPLE_TRACES


def test_a_gpu_job_report_shows_the_query_answers_and_needs_nothing_online(tmp_path, shared_traces):
    db, page = tmp_path / "r.duckdb", tmp_path / "report.html"
    CliRunner().invoke(main, ["ingest", str(shared_traces / "param" / "dlrm_8rank"), "--db", str(db)])
    result = CliRunner().invoke(main, ["report", "1", "--db", str(db), "--html", str(page)])
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", text) and "<script" not in text
    for title in ("Where GPU time went", "Top GPU ops", "Why the GPU was idle", "Stragglers in job dlrm_8rank"):
        assert title in text
    temporal = CliRunner().invoke(main, ["query", "temporal_breakdown", "1", "--db", str(db), "--format", "csv"])
    idle_ns = temporal.output.splitlines()[1].split(",")[5]
    assert f"<td>{int(idle_ns):,}</td>" in text
    assert "8× Tesla V100-SXM2-32GB" in text


def test_a_cpu_trace_report_says_what_it_did_not_find(tmp_path):
    db, page = tmp_path / "r.duckdb", tmp_path / "report.html"
    CliRunner().invoke(main, ["ingest", str(SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz"), "--db", str(db)])
    CliRunner().invoke(main, ["report", "1", "--db", str(db), "--html", str(page)])
    text = page.read_text()
    assert "Nothing to show: the trace has no GPU kernels, copies or memsets." in text
    assert text.count("ProfilerStep#") >= 6  # three steps, in the chart and the table


def test_a_saved_replay_report_shows_its_critical_path_and_verdicts(tmp_path):
    db, page = tmp_path / "r.duckdb", tmp_path / "report.html"
    CliRunner().invoke(main, ["ingest", str(SAMPLE_TRACES / "gpu_h100" / "hostwork_2x.pt.trace.json.gz"), "--db", str(db)])
    saved = CliRunner().invoke(main, ["replay", "1", "--set", "cpu.speed=2x", "--save", "--db", str(db)])
    assert "saved as trace 2" in saved.output
    assert CliRunner().invoke(main, ["report", "2", "--db", str(db), "--html", str(page)]).exit_code == 0
    text = page.read_text()
    assert "Critical path by step and resource" in text and "ProfilerStep#4 cpu" in text
    assert "Launch-bound or GPU-bound, step by step" in text and "(launch-bound)" in text
