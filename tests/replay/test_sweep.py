"""A sweep re-times many scenarios at once: each row must equal the replay of that one scenario."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from retime.replay import scenario, sweep

import retime
from retime.cli import main
from tests.conftest import SAMPLE_TRACES

PAGEABLE = SAMPLE_TRACES / "gpu_h100" / "h2d_pageable.pt.trace.json.gz"


@pytest.fixture(scope="module")
def gpu_store(tmp_path_factory):
    db = tmp_path_factory.mktemp("sweep") / "sweep.duckdb"
    with retime.open(db) as s:
        s.ingest(PAGEABLE)
        yield s


def test_every_row_equals_its_own_replay(gpu_store):
    grid = ["pcie.h2d=1x,4x,53GB/s", "cpu.speed=1x,2x", "launch.latency=1x,5us"]
    base = scenario.parse([], scale=["^aten::addmm$=1.5x"])
    result = gpu_store.sweep(1, grid, base)
    assert result.scenarios.height == 12
    for row in result.scenarios.iter_rows(named=True):
        one = gpu_store.replay(1, scenario.parse({k: row[k] for k in ("pcie.h2d", "cpu.speed", "launch.latency")},
                                                 scale=base.scale))
        assert row["predicted_span_ns"] == one.predicted_ns
        assert row["predicted_step_ns"] == int(np.median([s.predicted_ns for s in one.steps]))


def test_the_copy_bound_trace_ranks_the_host_link_first(gpu_store):
    result = gpu_store.sweep(1, ["gpu.flops=1x,2x,4x", "pcie.h2d=1x,2x,4x", "hbm=1x,2x"])
    assert result.sensitivity["knob"].to_list()[0] == "pcie.h2d"
    assert result.sensitivity["spread_pct"].to_list() == sorted(result.sensitivity["spread_pct"].to_list(), reverse=True)
    # faster hardware is never slower: the all-1x row is the slowest of the grid
    assert result.scenarios["predicted_span_ns"].max() == result.measured_ns


def test_many_scenarios_are_batched_under_the_memory_budget(gpu_store, monkeypatch):
    monkeypatch.setattr(sweep, "MEMORY_BUDGET_BYTES", 1)  # one scenario per kernel pass
    small = gpu_store.sweep(1, ["cpu.speed=1x,1.25x,1.5x,2x"])
    monkeypatch.undo()
    large = gpu_store.sweep(1, ["cpu.speed=1x,1.25x,1.5x,2x"])
    assert small.scenarios.equals(large.scenarios)


@pytest.mark.parametrize("grid, message", [(["pcie.h2d"], "expected KNOB=V1,V2"), (["warp=1x,2x"], "unknown knob"),
                                           (["cpu.speed=1x", "cpu.speed=2x"], "twice in grid="),
                                           (["cpu.speed=1x,fast"], "expected a factor")])
def test_bad_grids_say_what_is_wrong(grid, message):
    with pytest.raises(scenario.ScenarioError, match=message):
        sweep.parse_grid(grid)


def test_the_cli_prints_scenarios_and_the_ranking(tmp_path):
    db = tmp_path / "cli.duckdb"
    CliRunner().invoke(main, ["ingest", str(PAGEABLE), "--db", str(db)])
    out = CliRunner().invoke(main, ["sweep", "1", "--grid", "pcie.h2d=1x,2x", "--grid", "cpu.speed=1x,2x",
                                    "--db", str(db), "--format", "json"])
    doc = json.loads(out.output)
    assert len(doc["scenarios"]) == 4 and doc["sensitivity"][0]["knob"] == "pcie.h2d"
    assert doc["scenarios"][0]["pcie.h2d"] == "2x" and doc["scenarios"][0]["cpu.speed"] == "2x"
