"""The HTML report: self-contained, built from the named queries, and explicit about what it found none of."""
from __future__ import annotations

import re

import pytest

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
    assert "<th>idle_ms</th>" in text and f"<td>{int(idle_ns) / 1e6:g}</td>" in text  # ms, as the terminal shows it
    assert "8× Tesla V100-SXM2-32GB" in text


def test_a_cpu_trace_report_says_what_it_did_not_find(tmp_path):
    db, page = tmp_path / "r.duckdb", tmp_path / "report.html"
    CliRunner().invoke(main, ["ingest", str(SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz"), "--db", str(db)])
    CliRunner().invoke(main, ["report", "1", "--db", str(db), "--html", str(page)])
    text = page.read_text()
    assert "Nothing to show: the trace has no GPU kernels, copies or memsets." in text
    assert text.count("ProfilerStep#") >= 6  # three steps, in the chart and the table
    assert "Top CPU operators" in text and "<td>aten::linear</td>" in text  # a page for a trace with no GPU


def test_the_python_api_writes_the_page_the_cli_writes(tmp_path):
    import retime
    db, page = tmp_path / "r.duckdb", tmp_path / "report.html"
    CliRunner().invoke(main, ["ingest", str(SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz"), "--db", str(db)])
    CliRunner().invoke(main, ["report", "1", "--db", str(db), "--html", str(page)])
    with retime.open(db, read_only=True) as store:
        again = store.report(1, tmp_path / "again.html")
        with pytest.raises(retime.StoreError, match="cannot write"):
            store.report(1, tmp_path / "no" / "such" / "folder" / "x.html")
    # the same sections and tables (the page's build time aside)
    strip = lambda text: re.sub(r"\d{4}-\d{2}-\d{2}[ T][\d:.]+", "", text)
    assert strip(again) == strip(page.read_text()) == strip((tmp_path / "again.html").read_text())


def test_a_saved_replay_report_shows_its_critical_path_and_verdicts(tmp_path):
    db, page = tmp_path / "r.duckdb", tmp_path / "report.html"
    CliRunner().invoke(main, ["ingest", str(SAMPLE_TRACES / "gpu_h100" / "hostwork_2x.pt.trace.json.gz"), "--db", str(db)])
    saved = CliRunner().invoke(main, ["replay", "1", "--set", "cpu.speed=2x", "--save", "--db", str(db)])
    assert "saved as trace 2" in saved.output
    assert CliRunner().invoke(main, ["report", "2", "--db", str(db), "--html", str(page)]).exit_code == 0
    text = page.read_text()
    assert "Critical path by step and resource" in text and "ProfilerStep#4 cpu" in text
    assert "Launch-bound or GPU-bound, step by step" in text and "(launch-bound)" in text
    assert "<h1>Trace 2: replay of trace 1 (hostwork_2x.pt.trace.json.gz) under cpu.speed=2x</h1>" in text
    assert "Links under load" not in text  # not replayed on a topology


def test_a_replay_saved_on_a_topology_reports_its_links(tmp_path):
    db, page = tmp_path / "r.duckdb", tmp_path / "report.html"
    CliRunner().invoke(main, ["ingest", str(SAMPLE_TRACES / "gpu_h100" / "h2d_pageable.pt.trace.json.gz"), "--db", str(db)])
    saved = CliRunner().invoke(main, ["replay", "1", "--set", "pcie.h2d=2x", "--topology", "dgx-h100",
                                      "--link", "gpu0=8GB/s", "--save", "--db", str(db)])
    assert "saved as trace 2" in saved.output and "unvalidated" in saved.output
    assert CliRunner().invoke(main, ["report", "2", "--db", str(db), "--html", str(page)]).exit_code == 0
    text = page.read_text()
    for title, query in [("The server&#x27;s links by peak demand", "link_tree"),
                         ("Links under load", "link_demand"), ("The busiest links over time", "link_load"),
                         ("Transfers held back by shared links", "link_collisions")]:
        assert title in text and f"retime query {query} 2" in text
    assert "server 0 gpu0 to device" in text and "<polyline" in text
    # the tree: GPU 0's link over its bandwidth (red), the switch's uplink under it (blue), the rest idle
    assert re.search(r'stroke="#d8523b" stroke-width="4"><title>gpu0 to sw0: 8 GB/s', text)
    assert re.search(r'stroke="#3b7dd8" stroke-width="4"><title>sw0 to cpu0: 64 GB/s', text)
    assert "nic3.port to network: 50 GB/s each way, 0 bytes" in text


def test_charts_draw_to_scale_count_in_whole_numbers_and_keep_cut_text_as_a_tooltip():
    import re as regex

    from retime import charts, report
    svg = charts.stacked([("short stream", {"a": 145e3}), ("long stream", {"a": 11e6})], {"a": "#000"}, to_scale=True)
    widths = [float(w) for w in regex.findall(r'width="([\d.]+)" height="18"', svg)]
    assert widths[1] / widths[0] == pytest.approx(11e6 / 145e3, rel=1e-2) and "11.00 ms" in svg
    assert "5 times last" in charts.bars(["rank 7"], [5], "times last", 1)
    name = "void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_64x4_tn_align8>(Params)"
    cell = report._cell(name)
    assert cell.startswith(f'<td title="{name.replace("<", "&lt;").replace(">", "&gt;")}">') and "…" in cell
