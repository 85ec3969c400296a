"""Scenario values as users write them, and `retime replay` on the shipped samples."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from retime.replay import scenario

from retime.cli import main
from tests.conftest import SAMPLE_TRACES


def test_factors_bandwidths_and_times():
    s = scenario.parse(["cpu.speed=2x", "launch.latency=0.5x", "pcie.h2d=64GB/s", "hbm=3.35TB/s"])
    assert s.multiplier["cpu"] == 0.5            # twice as fast: host work takes half the time
    assert s.multiplier["launch"] == 0.5         # a latency factor multiplies the latency
    assert s.bandwidth_bytes_per_ns["h2d"] == 64.0
    assert s.bandwidth_bytes_per_ns["membound"] == pytest.approx(3350.0)
    assert scenario.parse({"launch.latency": "5us"}).launch_latency_ns == 5000


@pytest.mark.parametrize("bad, message", [("warp=2x", "unknown knob"), ("cpu.speed=fast", "expected a factor"),
                                          ("cpu.speed=64GB/s", "speed knob takes"), ("hbm=0x", "positive"),
                                          ("pcie.h2d", "expected knob=value")])
def test_bad_settings_say_what_is_wrong(bad, message):
    with pytest.raises(scenario.ScenarioError, match=message):
        scenario.parse([bad])


def test_replaying_a_cpu_bound_sample(tmp_path):
    db = tmp_path / "r.duckdb"
    CliRunner().invoke(main, ["ingest", str(SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz"), "--db", str(db)])
    same = json.loads(CliRunner().invoke(main, ["replay", "1", "--db", str(db), "--format", "json"]).output)
    assert same["predicted_ns"] == same["measured_ns"] and same["speedup"] == 1.0
    faster = json.loads(CliRunner().invoke(main, ["replay", "1", "--set", "cpu.speed=2x", "--db", str(db),
                                                  "--format", "json"]).output)
    # a CPU-only trace is all host work: twice the CPU speed halves it (to the rounding of each gap)
    assert abs(faster["predicted_ns"] - same["measured_ns"] / 2) <= 500
    assert faster["bound_by"] == "cpu"
    bad = CliRunner().invoke(main, ["replay", "1", "--set", "warp=9x", "--db", str(db)])
    assert bad.exit_code == 2 and bad.output.startswith("error: unknown knob 'warp'")


def test_a_job_replays_all_its_ranks_and_takes_as_long_as_its_slowest_rank(tmp_path, shared_traces):
    db = tmp_path / "job.duckdb"
    CliRunner().invoke(main, ["ingest", str(shared_traces / "param" / "dlrm_8rank"), "--db", str(db)])
    doc = json.loads(CliRunner().invoke(main, ["replay", "1", "--all-ranks", "--set", "cpu.speed=2x", "--db", str(db),
                                               "--format", "json"]).output)
    assert [r["rank"] for r in doc["ranks"]] == list(range(8))
    assert all(r["predicted_span_ns"] < r["measured_span_ns"] for r in doc["ranks"])
    assert doc["total"]["predicted_span_ns"] == max(r["predicted_span_ns"] for r in doc["ranks"])


def test_duration_rules_and_removals():
    s = scenario.parse(["cpu.speed=2x"], scale=["^host_prep$=2x", ("nccl", "0.5x")], remove=["Optimizer"])
    assert s.scale == [("^host_prep$", 2.0), ("nccl", 0.5), ("Optimizer", 0.0)]
    assert s.label == "cpu.speed=2x ^host_prep$=2x nccl=0.5x remove Optimizer"
    assert s.as_dict() == {"cpu.speed": "2x", "scale": [{"match": "^host_prep$", "factor": 2.0},
                                                        {"match": "nccl", "factor": 0.5},
                                                        {"match": "Optimizer", "factor": 0.0}]}
    # a regex may itself hold '=': the factor is after the last one
    assert scenario.parse([], scale=["a=b=3x"]).scale == [("a=b", 3.0)]


@pytest.mark.parametrize("rule, message", [("(=2x", "not a regular expression"), ("host_prep=64GB/s", "a factor like 2x"),
                                           ("host_prep", "expected REGEX=FACTOR")])
def test_bad_duration_rules_say_what_is_wrong(rule, message):
    with pytest.raises(scenario.ScenarioError, match=message):
        scenario.parse([], scale=[rule])


def test_a_scenario_file_holds_knobs_rules_removals_and_a_retarget(tmp_path):
    path = tmp_path / "what_if.toml"
    path.write_text('to = "h200"\nremove = ["^Optimizer"]\n[set]\n"cpu.speed" = "1.5x"\n[scale]\n"^host_prep$" = "2x"\n')
    assert scenario.read_file(path) == {"set": {"cpu.speed": "1.5x"}, "scale": [("^host_prep$", "2x")],
                                        "remove": ["^Optimizer"], "to": "h200", "from": None,
                                        "topology": None, "ranks_per_server": None, "move": {}, "link": {}, "place": {}, "ranks": None, "copy_ranks": [], "global_batch": None}
    path.write_text('[knobs]\n"cpu.speed" = "2x"\n')
    with pytest.raises(scenario.ScenarioError, match="unknown key"):
        scenario.read_file(path)
    path.write_text('[set\n')
    with pytest.raises(scenario.ScenarioError, match="not a TOML scenario file"):
        scenario.read_file(path)


def test_replay_takes_a_scenario_file_and_flags_override_it(tmp_path):
    db = tmp_path / "r.duckdb"
    gpu = SAMPLE_TRACES / "gpu_h100"
    CliRunner().invoke(main, ["ingest", str(gpu / "hostwork_1x.pt.trace.json.gz"),
                              str(gpu / "hostwork_2x.pt.trace.json.gz"), "--db", str(db)])
    path = tmp_path / "twice_the_host_work.toml"
    path.write_text('[scale]\n"^host_prep$" = "2x"\n[set]\n"cpu.speed" = "4x"\n')
    doc = json.loads(CliRunner().invoke(main, ["replay", "1", "--scenario", str(path), "--set", "cpu.speed=1x",
                                               "--against", "2", "--db", str(db), "--format", "json"]).output)
    assert doc["scenario"] == "cpu.speed=1x ^host_prep$=2x"
    assert len(doc["steps"]) == 4 and doc["against"]["basis"] == "median step"
    assert abs(doc["against"]["error_pct"]) < 10
    table = CliRunner().invoke(main, ["replay", "1", "--remove", "^host_prep$", "--db", str(db)]).output
    assert "per step" in table and "bound by   compute" in table


@pytest.mark.parametrize("window, label", [("^h2d_batch$", "median of 4 h2d_batch windows"),
                                           (r"^h2d\_batch$", "median of 4 h2d_batch windows"),
                                           (r"^h2d_b\w+$", r"median of 4 windows matching ^h2d_b\w+$")])
def test_the_windows_a_replay_reports_are_named_as_a_person_reads_them(tmp_path, window, label):
    db = tmp_path / "w.duckdb"
    CliRunner().invoke(main, ["ingest", str(SAMPLE_TRACES / "gpu_h100" / "h2d_pageable.pt.trace.json.gz"), "--db", str(db)])
    out = CliRunner().invoke(main, ["replay", "1", "--db", str(db), "--window", window])
    assert out.exit_code == 0 and label in out.output, out.output


def test_the_cli_json_of_a_replay_is_the_results_own(tmp_path):
    """`retime replay --format json` prints ReplayResult.to_dict() and the comparison: the API and the
    CLI answer with the same values."""
    import json
    from click.testing import CliRunner
    from retime.cli import main
    import retime
    from tests.conftest import SAMPLE_TRACES
    db = tmp_path / "s.duckdb"
    with retime.open(db) as store:
        [r] = store.ingest(SAMPLE_TRACES / "gpu_h100" / "h2d_pageable.pt.trace.json.gz")
        expected = store.replay(r.trace_id, ["pcie.h2d=53GB/s"]).to_dict()
    done = CliRunner().invoke(main, ["replay", str(r.trace_id), "--db", str(db), "--set", "pcie.h2d=53GB/s",
                                     "--format", "json"])
    assert done.exit_code == 0, done.output
    printed = json.loads(done.output)
    assert {k: printed[k] for k in expected} == json.loads(json.dumps(expected)) and printed["against"] is None
