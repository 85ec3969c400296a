"""Hardware presets: public peaks, detection from the trace's GPU, and retargeting as ratios."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from retime.replay import presets

from retime.cli import main
from retime.core.errors import ScenarioError

FIELDS = ("name", "match", "hbm_tb_s", "bf16_tflops", "interconnect_gb_s", "pcie_gb_s", "source")


def test_every_preset_is_complete_and_sourced():
    known = presets.shipped()
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
def closed_store(tmp_path_factory):
    """A store of one real H100 trace that no connection holds open, for the CLI."""
    import retime
    from tests.conftest import SAMPLE_TRACES
    path = tmp_path_factory.mktemp("closed") / "c.duckdb"
    with retime.open(path) as store:
        [result] = store.ingest(SAMPLE_TRACES / "gpu_h100" / "hostwork_1x.pt.trace.json.gz")
    return path, result.trace_id


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


def test_a_part_known_by_its_specs_only_is_a_retarget_target(samples_store, tmp_path):
    """--to PART.toml: a hypothetical part from its specs. A B300 with twice the HBM moves
    memory-bound work and not compute-bound work against the B300 preset; a Maia 200 of stated
    specs retargets a real trace; both are unvalidated, and say why."""
    import numpy as np
    from retime.replay import kernel_model
    store, trace = samples_store
    (tmp_path / "b300_2x_hbm.toml").write_text('[b300_2x_hbm]\nbased_on = "b300"\nhbm_tb_s = 16.0\n')
    (tmp_path / "maia200.toml").write_text(
        '[maia200]\nname = "Microsoft Maia 200 (hypothetical)"\nhbm_tb_s = 7.0\nbf16_tflops = 1500\n'
        'fp8_tflops = 3000\ninterconnect_gb_s = 600\npcie_gb_s = 64\nsms = 128\n')
    key = presets.preset_key(str(tmp_path / "b300_2x_hbm.toml"))
    assert key == "b300_2x_hbm" and presets.presets()[key]["hbm_tb_s"] == 16.0
    assert presets.presets()[key]["bf16_tflops"] == presets.presets()["b300"]["bf16_tflops"]
    assert presets.vendor(key) == "NVIDIA" and "b300_2x_hbm" in presets.presets()[key]["name"]
    durations, intensity, roof = np.array([5e5, 5e5]), np.array([1.0, 2000.0]), np.array([0, 0])
    doubled = kernel_model.retarget_model("h100", key).times(durations, "elementwise", intensity, roof)
    plain = kernel_model.retarget_model("h100", "b300").times(durations, "elementwise", intensity, roof)
    assert doubled[0] < 0.6 * plain[0] and doubled[1] == pytest.approx(plain[1])  # B300's floor and efficiencies too
    for path, name in ((tmp_path / "b300_2x_hbm.toml", "b300_2x_hbm"), (tmp_path / "maia200.toml", "maia200")):
        result = store.replay(trace, store.scenario(trace, to=str(path)))
        assert result.predicted_ns > 0 and result.error_bar.pct is None
        assert name in result.scenario
    assert "maia200" in store.replay(trace, store.scenario(trace, to=str(tmp_path / "maia200.toml"))).error_bar.text


@pytest.mark.parametrize("text, message", [
    ("", "needs exactly one table"),
    ('[h100]\nhbm_tb_s = 9.0\n', "is a shipped preset"),
    ('[x]\nbased_on = "zz9"\n', "based_on names no preset"),
    ('[x]\nname = "Acme X1"\nhbm_tb_s = 3.0\n', "needs bf16_tflops, interconnect_gb_s, pcie_gb_s"),
    ('[x]\nbased_on = "b300"\nhbm_tb_s = -1\n', "hbm_tb_s: not a positive number"),
    ("[x\n", "not TOML"),
])
def test_a_bad_part_file_is_one_clear_error_naming_it(closed_store, tmp_path, text, message):
    db, trace = closed_store
    path = tmp_path / "part.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message):
        presets.preset_key(str(path))
    done = CliRunner().invoke(main, ["replay", str(trace), "--db", str(db), "--to", str(path)])
    assert done.exit_code != 0 and str(path) in done.output and message in done.output and "Traceback" not in done.output


def test_a_scenario_file_finds_its_part_file_beside_it(samples_store, tmp_path):
    store, trace = samples_store
    (tmp_path / "wide.toml").write_text('[wide_h100]\nbased_on = "h100"\nhbm_tb_s = 6.7\n')
    (tmp_path / "s.toml").write_text('to = "wide.toml"\n')
    result = store.replay(trace, store.scenario(trace, file=tmp_path / "s.toml"))
    assert "wide_h100" in result.scenario
