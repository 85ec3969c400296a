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
    assert presets.detect(["Tesla V100-SXM2-32GB"]) == "v100"
    assert presets.detect(["NVIDIA A100-PCIE-40GB"]) == "a100_pcie" and presets.detect(["NVIDIA A100-SXM4-80GB"]) == "a100"
    assert presets.detect(["Quadro TPU 9000"]) is None
    db = tmp_path / "p.duckdb"
    CliRunner().invoke(main, ["ingest", str(shared_traces / "tracelens" / "h100_gaunernst_bert-small-uncased__1016001.json.gz"),
                              str(shared_traces / "param" / "dlrm_8rank" / "worker0_step_12.1694128201545.pt.trace.json.gz"),
                              "--db", str(db)])
    doc = json.loads(CliRunner().invoke(main, ["replay", "1", "--to", "H200", "--db", str(db), "--format", "json"]).output)
    assert doc["scenario"].startswith(f"--to h200 (from h100) hbm={4.8 / 3.35:.6g}x gpu.flops=1x")
    v100 = CliRunner().invoke(main, ["replay", "2", "--to", "h100", "--db", str(db)])
    assert v100.exit_code == 0 and "from v100" in v100.output, v100.output


def test_every_preset_retargets_to_and_from_every_roof(samples_store):
    """Each preset as target and as source of a trace with kernels of every roof type, through the
    per-kernel model: no preset may lack what a roof falls back to (Maia 100 states BF16 only)."""
    from retime.replay import kernel_model
    from retime.replay.scenario import ROOF_TYPES
    import numpy as np
    store, trace = samples_store
    for key in presets.presets():
        for roof in ROOF_TYPES:
            assert kernel_model.compute_peak(key, roof) > 0, (key, roof)
        for source, target in (("h100", key), (key, "h100")):
            model = kernel_model.retarget_model(source, target)
            for cls in kernel_model.MODELLED:
                times = model.times(np.array([5e3, 5e5]), cls, np.array([1.0, 400.0]), np.array([0, 3]))
                assert np.isfinite(times).all() and (times > 0).all(), (source, target, cls)
        forward = store.replay(trace, store.scenario(trace, to=key))
        backward = store.replay(trace, store.scenario(trace, to="h100", source=key))
        assert forward.predicted_ns > 0 and backward.predicted_ns > 0, key


@pytest.fixture(scope="module")
def samples_store(tmp_path_factory):
    import retime
    from tests.conftest import SAMPLE_TRACES
    store = retime.open(tmp_path_factory.mktemp("presets") / "p.duckdb")
    [result] = store.ingest(SAMPLE_TRACES / "gpu_h100" / "hostwork_1x.pt.trace.json.gz")
    yield store, result.trace_id
    store.close()


def test_preset_names_are_case_insensitive():
    assert presets.preset_key("MI300X") == "mi300x"
    with pytest.raises(ScenarioError, match="unknown hardware preset 'tpu'"):
        presets.preset_key("tpu")
