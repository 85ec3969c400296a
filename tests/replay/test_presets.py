"""Hardware presets: public peaks, detection from the trace's GPU, and retargeting as ratios."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from retime.replay import presets

from retime.cli import main
from retime.errors import ScenarioError

FIELDS = ("name", "match", "hbm_tb_s", "bf16_tflops", "interconnect_gb_s", "pcie_gb_s", "source")


def test_every_preset_is_complete_and_sourced():
    known = presets.presets()
    assert {"a100", "h100", "h200", "b200", "mi300x", "maia100"} <= set(known)
    for key, preset in known.items():
        assert all(field in preset for field in FIELDS), key
        assert all(preset[f] > 0 for f in FIELDS if f.endswith(("_s", "_tflops"))), key


def test_retargeting_is_the_ratio_of_peaks():
    knobs = presets.retarget("h100", "h200")
    assert knobs["hbm"] == f"{4.8 / 3.35:.6g}x" and knobs["gpu.flops"] == "1x" and knobs["pcie.h2d"] == "1x"
    with pytest.raises(ScenarioError, match="unknown hardware preset 'tpu'"):
        presets.retarget("h100", "tpu")


def test_the_source_gpu_is_read_from_the_trace(tmp_path, shared_traces):
    assert presets.detect(["NVIDIA H100 80GB HBM3"]) == "h100"
    assert presets.detect(["AMD Instinct MI300X"]) == "mi300x"
    assert presets.detect(["Tesla V100-SXM2-32GB"]) is None
    db = tmp_path / "p.duckdb"
    CliRunner().invoke(main, ["ingest", str(shared_traces / "tracelens" / "h100_gaunernst_bert-small-uncased__1016001.json.gz"),
                              str(shared_traces / "param" / "dlrm_8rank" / "worker0_step_12.1694128201545.pt.trace.json.gz"),
                              "--db", str(db)])
    doc = json.loads(CliRunner().invoke(main, ["replay", "1", "--to", "h200", "--db", str(db), "--format", "json"]).output)
    assert doc["scenario"].startswith(f"--to h200 (from h100) hbm={4.8 / 3.35:.6g}x gpu.flops=1x")
    v100 = CliRunner().invoke(main, ["replay", "2", "--to", "h100", "--db", str(db)])
    assert v100.exit_code == 2 and "no GPU retime has a preset for" in v100.output
