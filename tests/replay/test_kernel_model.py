"""The per-kernel performance model behind --to, its validation against measured cross-hardware
pairs, the error bar every prediction carries, and --against's checks."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from retime.replay import engine, fidelity, kernel_model, presets, scenario
from retime.replay.graph import build_graph

import retime
from retime.cli import main
from retime.core.errors import QueryError
from tests.conftest import SAMPLE_TRACES, SHARED_TRACES

GPU = SAMPLE_TRACES / "gpu_h100"
CROSS = [("h100", "tracelens/h100_Falconsai_nsfw_image_detection__1016002.json.gz",
          "mi300x", "tracelens/mi300_Falconsai_nsfw_image_detection__1016002.json.gz"),
         ("h100", "tracelens/h100_gaunernst_bert-small-uncased__1016001.json.gz",
          "mi300x", "tracelens/mi300_gaunernst_bert-small-uncased__1016001.json.gz"),
         ("h100", "tracelens/h100_facebook_timesformer-base-finetuned-k400__1016002.json.gz",
          "mi300x", "tracelens/mi300_facebook_timesformer-base-finetuned-k400__1016002.json.gz"),
         ("b300", "tracelens/b300_sglang_qwen3_30b_a3b_decode.json.gz",
          "mi300x", "tracelens/mi300_sglang_qwen3_30b_a3b_decode.json.gz")]


@pytest.fixture
def samples(store):
    ids = {r.path.split("/")[-1].split(".")[0]: r.trace_id for r in store.ingest(sorted(GPU.glob("*.json.gz")))}
    return store, ids


def test_retargeting_onto_the_same_gpu_changes_nothing(samples):
    store, ids = samples
    chosen = store.scenario(ids["hostwork_1x"], to="h100")
    graph = build_graph(store.con, ids["hostwork_1x"])
    new, _, _ = engine.retimed(graph, chosen)
    assert np.abs(new - graph.measured).max() <= 1  # ns rounding of factor x lag


def test_a_kernel_at_the_source_floor_lands_on_the_target_floor_and_longer_kernels_scale():
    model = kernel_model.retarget_model("h100", "mi300x")
    floor_h100, floor_mi300 = model.floor("h100"), model.floor("mi300x")
    for cls in ("gemm", "elementwise"):
        at_floor, half, long = model.times(np.array([floor_h100, 0.5 * floor_h100, 100 * floor_h100]), cls)
        assert at_floor == pytest.approx(floor_mi300) and long > at_floor
        assert half == pytest.approx(0.5 * floor_mi300)  # below the floor: the floors' ratio


def test_a_kernel_of_known_intensity_follows_the_roof_that_binds_it():
    """A GEMM far above both ridge points scales with the compute peaks and the class's compute
    efficiency, one far below with HBM bandwidth and its memory efficiency."""
    model = kernel_model.RetargetModel("h100", "b200", {"h100": 0.0, "b200": 0.0}, {},
                                       compute_efficiency={"h100": {"gemm": 1.0}, "b200": {"gemm": 0.5}})
    h100, b200 = presets.presets()["h100"], presets.presets()["b200"]
    bf16 = scenario.ROOF_TYPES.index("bf16")
    compute_bound, memory_bound = model.times(np.array([1e6, 1e6]), "gemm", np.array([1e4, 1.0]), np.array([bf16, bf16]))
    assert compute_bound == pytest.approx(1e6 * h100["bf16_tflops"] / (0.5 * b200["bf16_tflops"]))
    assert memory_bound == pytest.approx(1e6 * h100["hbm_tb_s"] / b200["hbm_tb_s"])
    unknown, = model.times(np.array([1e6]), "gemm", np.array([np.nan]), np.array([-1]))
    assert unknown == pytest.approx(1e6 * h100["bf16_tflops"] / b200["bf16_tflops"])  # the class's roof, pooled efficiency 1


def test_a_gpu_without_a_measured_floor_takes_its_vendors():
    model = kernel_model.RetargetModel("mi300x", "b200", {"h100": 2000.0, "mi300x": 4000.0}, {})
    assert model.floor("b200") == 2000.0 and model.floor("mi355x") == 4000.0


def test_a_saved_retarget_names_its_target_gpu_so_a_second_one_starts_there(samples):
    store, ids = samples
    saved = store.replay(ids["hostwork_1x"], store.scenario(ids["hostwork_1x"], to="h200"), save=True).saved_trace_id
    assert presets.detect(presets.trace_gpu_names(store.con, saved)) == "h200"
    assert store.scenario(saved, to="b200").kernel_model.source == "h200"
    assert json.loads(store.sql("SELECT scenario FROM traces WHERE trace_id = $t", params={"t": saved})["scenario"][0])["to"] == "h200"


def test_every_prediction_states_its_error_bar(samples):
    store, ids = samples
    t = ids["h2d_pageable"]
    p80 = lambda kind: fidelity.table()[kind]["p80_abs_error_pct"]
    assert store.replay(t, []).error_bar.pct == 0
    assert store.replay(t, ["pcie.h2d=53GB/s"]).error_bar.pct == p80("pcie.h2d")
    unvalidated = store.replay(t, ["cpu.speed=2x"]).error_bar
    assert unvalidated.pct is None and "cpu.speed" in unvalidated.text
    swept = store.sweep(t, ["pcie.h2d=1x,2x"]).scenarios
    assert dict(zip(swept["pcie.h2d"], swept["expected_error_pct"])) == {"1x": 0.0, "2x": p80("pcie.h2d")}
    # a knob with nothing to act on (no collectives here) moves nothing: no bar, in a sweep as in a replay
    idle = store.sweep(t, ["net=1x,2x"]).scenarios
    assert idle["expected_error_pct"].to_list() == [0.0, 0.0]
    assert store.replay(t, ["net=2x"]).error_bar.pct == 0
    # beside a validated knob, a knob that changes nothing adds no error: the validated knob's bar
    assert store.replay(t, ["net=2x", "pcie.h2d=53GB/s"]).error_bar.pct == p80("pcie.h2d")
    both = store.sweep(t, ["net=2x", "pcie.h2d=1x,2x"]).scenarios
    assert dict(zip(both["pcie.h2d"], both["expected_error_pct"])) == {"1x": 0.0, "2x": p80("pcie.h2d")}


def test_an_unchanged_replay_that_moves_times_claims_no_exactness():
    """What a replay of unchanged hardware quotes rests on the replay itself: "none" only where every
    time is the measured one; where a graph fails to reproduce its trace, no bar at all."""
    unchanged = scenario.parse([])
    measured = np.array([0, 8_000, 20_000], np.int64)
    assert fidelity.quoted(unchanged, measured.copy(), measured) is fidelity.NO_EFFECT
    off = fidelity.quoted(unchanged, np.array([0, 0, 12_000], np.int64), measured)
    assert off.pct is None and "2 of this trace's times" in off.text and "8.000 µs" in off.text


def test_a_retarget_quotes_only_what_validated_it(samples):
    """--to between parts measured in cross-vendor pairs quotes the 80th percentile of their kernel
    classes' GPU time (or the span's, where larger), the whole traces' figures beside; a part no pair
    measured, or two parts of one vendor, are unvalidated (the kernel-level figures beside); the
    trace's own part changes nothing."""
    store, ids = samples
    t = ids["h2d_pageable"]  # an H100 trace
    cross = fidelity.table()["to"]["cross_vendor"]
    assert "h100" in cross["parts"] and "mi300x" in cross["parts"]
    bar = store.replay(t, store.scenario(t, to="mi300x")).error_bar
    assert bar.pct == max(cross["class_p80_abs_error_pct"], cross["span_p80_abs_error_pct"])
    assert bar.pct > cross["p80_abs_error_pct"]  # the classes' errors do not cancel on another workload's mix
    assert f"GPU busy ±{cross['p80_abs_error_pct']:g}%" in bar.text and "kernels with recorded shapes" in bar.text
    for unmeasured in ("mi355x", "maia100"):
        bar = store.replay(t, store.scenario(t, to=unmeasured)).error_bar
        assert bar.pct is None and unmeasured in bar.text and "AMD-measured GEMM shapes" in bar.text
    same_vendor = store.replay(t, store.scenario(t, to="b200")).error_bar
    assert same_vendor.pct is None and "NVIDIA" in same_vendor.text and "GEMM" in same_vendor.text
    own = store.replay(t, store.scenario(t, to="H100")).error_bar
    assert own.pct == 0


def test_a_duration_rule_is_validated_only_on_the_names_its_pairs_scaled(samples):
    store, ids = samples
    t = ids["hostwork_1x"]
    validated = store.replay(t, store.scenario(t, scale=["^host_prep$=2x"])).error_bar
    assert validated.pct == fidelity.table()["scale"]["p80_abs_error_pct"]
    other = store.replay(t, store.scenario(t, scale=["aten::mm=2x"])).error_bar
    assert other.pct is None and "aten::mm" in other.text


def test_against_refuses_another_workload_and_compares_any_window(samples):
    store, ids = samples
    replayed = store.replay(ids["h2d_pageable"], ["pcie.h2d=53GB/s"])
    with pytest.raises(QueryError, match="same workload"):
        store.against(replayed, ids["hostwork_1x"])
    check = store.against(replayed, ids["h2d_pinned"])
    assert check.warning is None and check.name_overlap["cpu_op"] == 1.0
    windowed = store.replay(ids["h2d_pageable"], ["pcie.h2d=53GB/s"], window=r"^ProfilerStep#\d+$")
    assert store.against(windowed, ids["h2d_pinned"], window=r"^ProfilerStep#\d+$").error_pct == check.error_pct


def test_against_with_all_ranks_compares_each_rank(tmp_path):
    db = str(tmp_path / "ddp.duckdb")
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(SAMPLE_TRACES / "ddp_gloo_2rank"), "--db", db]).exit_code == 0
    out = runner.invoke(main, ["replay", "1", "--all-ranks", "--against", "2", "--db", db, "--format", "json"])
    assert out.exit_code == 0, out.output
    ranks = json.loads(out.output)["ranks"]
    assert [r["rank"] for r in ranks] == [0, 1] and all(abs(r["error_pct"]) < 0.5 for r in ranks)


def test_the_kernel_model_beats_the_naive_baselines_on_held_out_pairs(tmp_path):
    """Leave-one-pair-out: each measured cross-hardware pair predicted with the model calibrated on the
    others, both ways; GPU busy time against the target's measurement."""
    if not SHARED_TRACES.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    with retime.open(tmp_path / "cross.duckdb") as store:
        pairs = []
        for gpu_a, file_a, gpu_b, file_b in CROSS:
            a, b = (r.trace_id for r in store.ingest([SHARED_TRACES / file_a, SHARED_TRACES / file_b]))
            pairs.append((gpu_a, a, gpu_b, b))
        durations = {t: kernel_model.kernel_samples(store.con, t) for _, a, _, b in pairs for t in (a, b)}
        errors = {"model": [], "no change": [], "flops": [], "hbm": []}
        for held in pairs:
            others = [(ga, gb, durations[a], durations[b]) for ga, a, gb, b in pairs if (ga, a, gb, b) != held]
            gpu_a, a, gpu_b, b = held
            for src_gpu, src, tgt_gpu, tgt in ((gpu_a, a, gpu_b, b), (gpu_b, b, gpu_a, a)):
                calibration = kernel_model.calibrate(others, traces=[(src_gpu, durations[src])])
                chosen = scenario.parse(presets.retarget(src_gpu, tgt_gpu))
                chosen.kernel_model = kernel_model.retarget_model(src_gpu, tgt_gpu, calibration)
                gs, gt = build_graph(store.con, src), build_graph(store.con, tgt)
                new, _, _ = engine.retimed(gs, chosen)
                busy_s, busy_t = engine.gpu_busy_ns(gs, gs.measured), engine.gpu_busy_ns(gt, gt.measured)
                p_s, p_t = presets.presets()[src_gpu], presets.presets()[tgt_gpu]
                for kind, predicted in (("model", engine.gpu_busy_ns(gs, new)), ("no change", busy_s),
                                        ("flops", busy_s * p_s["bf16_tflops"] / p_t["bf16_tflops"]),
                                        ("hbm", busy_s * p_s["hbm_tb_s"] / p_t["hbm_tb_s"])):
                    errors[kind].append(abs(predicted - busy_t) / busy_t)
    mae = {k: float(np.mean(v)) for k, v in errors.items()}
    assert len(errors["model"]) == 8
    assert mae["model"] < min(mae["no change"], mae["flops"], mae["hbm"]), mae

