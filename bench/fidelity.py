"""How well retime's what-if predictions match measured runs, beside the naive baselines they must beat.

Cross-hardware pairs (the same model recorded on two GPUs, ../shared/traces/tracelens), each in both
directions: the source trace retargeted with `--to` onto the target's GPU, its predicted GPU busy
time (overlaps counted once), per-class kernel time and span against the target's measured ones.
The per-kernel model is calibrated with the pair held out (leave-one-pair-out), so no pair is
predicted with constants fitted on it. Beside it: the old peak-ratio retarget (every class scaled
by a datasheet ratio), and the naive baselines: no change, all GPU time x the FLOPs ratio, x the HBM
ratio. Measured what-if pairs (sample_traces/gpu_h100, sample_traces/input_pipeline and
sample_traces/batch: one workload, one factor changed) follow, with "no change" as their baseline
and, for a batch, the step time times the batch ratio (bench/whatif.py adds a sum of durations).

    python bench/fidelity.py            # print the tables
    python bench/fidelity.py --write    # also write retime/replay/presets/fidelity.toml (the error bars)
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import fresh_store_path  # bench/common.py
from pairs import ingest_cross_hardware, whatif_pairs  # bench/pairs.py

from retime.replay import cache, engine, kernel_model, presets, scenario

import retime

FIDELITY = Path(__file__).resolve().parents[1] / "retime" / "replay" / "presets" / "fidelity.toml"


def err(predicted: float, measured: float) -> float:
    return 100.0 * (predicted - measured) / measured


def cross_hardware(store) -> list[dict]:
    pairs = ingest_cross_hardware(store)
    kernels = {t: kernel_model.kernel_samples(store.con, t) for _, _, a, _, b in pairs for t in (a, b)}
    rows = []
    for held in pairs:
        others = [(ga, gb, kernels[a], kernels[b]) for _, ga, a, gb, b in pairs if (ga, a, gb, b) != held[1:]]
        name, gpu_a, trace_a, gpu_b, trace_b = held
        for src_gpu, src, tgt_gpu, tgt in ((gpu_a, trace_a, gpu_b, trace_b), (gpu_b, trace_b, gpu_a, trace_a)):
            # the other pairs, and the source trace itself for its own GPU's floors (never the target)
            model = kernel_model.retarget_model(src_gpu, tgt_gpu,
                                                kernel_model.calibrate(others, traces=[(src_gpu, kernels[src])]))
            graph_s = cache.graph(store.con, src, str(store.path))
            graph_t = cache.graph(store.con, tgt, str(store.path))
            peaks = scenario.parse(presets.retarget(src_gpu, tgt_gpu))
            modelled = replace(peaks, kernel_model=model)
            busy_s, busy_t = engine.gpu_busy_ns(graph_s, graph_s.measured), engine.gpu_busy_ns(graph_t, graph_t.measured)
            new_m, _, _ = engine.retimed(graph_s, modelled)
            new_p, _, _ = engine.retimed(graph_s, peaks)
            span_s, span_t, span_m = int(np.ptp(graph_s.measured)), int(np.ptp(graph_t.measured)), int(np.ptp(new_m))
            a, b = presets.presets()[src_gpu], presets.presets()[tgt_gpu]
            flops, hbm = a["bf16_tflops"] / b["bf16_tflops"], a["hbm_tb_s"] / b["hbm_tb_s"]
            pred_busy = engine.gpu_busy_ns(graph_s, new_m)
            classes = {}
            for cls in kernel_model.MODELLED:
                source_cls = kernels[src].durations(cls)
                measured_cls = kernels[tgt].durations(cls).sum()
                if measured_cls > 0.05 * busy_t:  # classes that hold at least 5% of the target's GPU time
                    peak_ratio = flops if cls in kernel_model.COMPUTE else hbm
                    classes[cls] = (err(kernels[src].predicted(model, cls).sum(), measured_cls),
                                    err(source_cls.sum() * peak_ratio, measured_cls), measured_cls / busy_t)
            shaped = {}
            for label, keep in (("shapes", np.isfinite), ("no shapes", lambda x: ~np.isfinite(x))):
                src_k, tgt_k = kernels[src], kernels[tgt]
                measured_part = tgt_k.dur_ns[keep(tgt_k.flop_per_byte)].sum()
                if measured_part > 0.05 * busy_t:
                    predicted_part = sum(src_k.predicted(model, cls)[keep(src_k.flop_per_byte[src_k.cls == cls])].sum()
                                         for cls in kernel_model.MODELLED)
                    shaped[label] = (err(predicted_part, measured_part), measured_part / busy_t)
            rows.append({
                "pair": name, "shaped": shaped, "direction": f"{src_gpu} -> {tgt_gpu}", "busy_src": busy_s, "busy_tgt": busy_t,
                "busy_pred": pred_busy, "busy_err": err(pred_busy, busy_t),
                "peaks_err": err(engine.gpu_busy_ns(graph_s, new_p), busy_t),
                "same_err": err(busy_s, busy_t), "flops_err": err(busy_s * flops, busy_t), "hbm_err": err(busy_s * hbm, busy_t),
                "span_src": span_s, "span_tgt": span_t, "span_pred": span_m,
                "span_err": err(span_m, span_t), "span_same_err": err(span_s, span_t),
                "span_flops_err": err(span_s - busy_s + busy_s * flops, span_t), "classes": classes,
            })
    return rows


def whatif(store) -> list[dict]:
    rows = []
    for knob, direction, src, tgt, settings, rules, fair in whatif_pairs(store):
        if not fair:  # its scenario reads the target's own trace: no validation
            continue
        chosen = scenario.parse(settings, scale=rules)
        check = store.against(store.replay(src, chosen), tgt)
        base = store.iteration(src)["step_ns"]
        ratio = float(settings["batch"].rstrip("x")) if "batch" in settings else None
        rows.append({"knob": knob, "direction": direction, "scenario": chosen.label, "base": base, "rules": rules,
                     "predicted": check.predicted_ns, "measured": check.measured_ns, "error": check.error_pct,
                     "same_err": err(base, check.measured_ns),
                     "ratio_err": err(base * ratio, check.measured_ns) if ratio else None})
    return rows


def main(write: bool) -> None:
    with retime.open(fresh_store_path("fidelity")) as store:
        cross = cross_hardware(store)
        pairs = whatif(store)
    if cross:
        print("Cross-hardware pairs, GPU busy time (ms; errors against the target's measured busy time)\n")
        print("| pair | direction | source | target | predicted | error | peak ratios | no change | x FLOPs | x HBM |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in cross:
            print(f"| {r['pair']} | {r['direction']} | {r['busy_src'] / 1e6:.3f} | {r['busy_tgt'] / 1e6:.3f} "
                  f"| {r['busy_pred'] / 1e6:.3f} | {r['busy_err']:+.1f}% | {r['peaks_err']:+.1f}% | {r['same_err']:+.1f}% "
                  f"| {r['flops_err']:+.1f}% | {r['hbm_err']:+.1f}% |")
        mae = {k: float(np.mean([abs(r[k]) for r in cross])) for k in ("busy_err", "peaks_err", "same_err", "flops_err", "hbm_err")}
        print(f"| **mean abs error** | {len(cross)} directions | | | | **{mae['busy_err']:.1f}%** | {mae['peaks_err']:.1f}% "
              f"| {mae['same_err']:.1f}% | {mae['flops_err']:.1f}% | {mae['hbm_err']:.1f}% |")
        print("\nPer kernel class (classes with >= 5% of the target's GPU time): model error / peak-ratio error\n")
        for r in cross:
            cells = ", ".join(f"{c} {m:+.0f}% / {p:+.0f}%" for c, (m, p, _) in r["classes"].items())
            print(f"- {r['pair']}, {r['direction']}: {cells}")
        print(f"\n80% of the GPU time of these classes, each direction weighted alike, within ±{class_p80(cross):.1f}%")
        print("\nKernels whose operator recorded its shapes, and kernels without: model error (the group's kernel time over the target's GPU busy time; overlapping kernels count each)\n")
        for r in cross:
            cells = ", ".join(f"{label} {e:+.1f}% ({share:.0%})" for label, (e, share) in r["shaped"].items())
            print(f"- {r['pair']}, {r['direction']}: {cells}")
        print("\nSpan (ms), first to last event; the host is not retargeted (same CPU assumed)\n")
        print("| pair | direction | source | target | predicted | error | no change | GPU time x FLOPs |")
        print("|---|---|---|---|---|---|---|---|")
        for r in cross:
            print(f"| {r['pair']} | {r['direction']} | {r['span_src'] / 1e6:.3f} | {r['span_tgt'] / 1e6:.3f} "
                  f"| {r['span_pred'] / 1e6:.3f} | {r['span_err']:+.1f}% | {r['span_same_err']:+.1f}% | {r['span_flops_err']:+.1f}% |")
        span_mae = float(np.mean([abs(r["span_err"]) for r in cross]))
        print(f"| **mean abs error** | | | | | **{span_mae:.1f}%** | "
              f"{np.mean([abs(r['span_same_err']) for r in cross]):.1f}% | {np.mean([abs(r['span_flops_err']) for r in cross]):.1f}% |")
    print("\nMeasured what-if pairs on one H100 and, for host.input and batch.host, on the CPU (median ProfilerStep, ms)\n")
    print("| knob | direction | scenario | base step | predicted | measured | error | no change | step x batch ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in pairs:
        ratio = f"{r['ratio_err']:+.1f}%" if r["ratio_err"] is not None else ""
        print(f"| {r['knob']} | {r['direction']} | {r['scenario']} | {r['base'] / 1e6:.3f} | {r['predicted'] / 1e6:.3f} "
              f"| {r['measured'] / 1e6:.3f} | {r['error']:+.1f}% | {r['same_err']:+.1f}% | {ratio} |")
    for knob in sorted({r["knob"] for r in pairs}):
        mine = [r for r in pairs if r["knob"] == knob]
        cells = [("model", "error"), ("no change", "same_err")] + ([("x batch ratio", "ratio_err")] if mine[0]["ratio_err"] is not None else [])
        print(f"- {knob}, {len(mine)} directions, mean / p80 absolute error: "
              + ", ".join(f"{label} {np.mean([abs(r[k]) for r in mine]):.1f}% / {p80([r[k] for r in mine]):.1f}%" for label, k in cells))
    if write:
        write_fidelity(cross, pairs)


def weighted_p80(errors: list[float], weights: list[float]) -> float:
    """The bound 80% of the weight's absolute errors fall within (the error where the weight reaches 80%)."""
    order = np.argsort(np.abs(errors))
    cumulative = np.cumsum(np.asarray(weights, np.float64)[order])
    return float(np.abs(np.asarray(errors))[order][np.searchsorted(cumulative, 0.8 * cumulative[-1])])


def class_p80(cross: list[dict]) -> float:
    """The bound 80% of the kernel-class GPU time falls within (classes of at least 5% of a target's
    time; each direction weighted alike): the error a workload made of other shares of these classes
    can see, where a whole trace's class errors partly cancel."""
    errors, weights = [], []
    for r in cross:
        total = sum(share for _, _, share in r["classes"].values())
        for model_err, _, share in r["classes"].values():
            errors.append(model_err)
            weights.append(share / total)
    return weighted_p80(errors, weights)


def p80(errors: list[float]) -> float:
    """The bound 80% of the absolute errors fall within (the higher value where it falls between two)."""
    return float(np.percentile(np.abs(errors), 80, method="higher"))


def write_fidelity(cross: list[dict], pairs: list[dict]) -> None:
    lines = ["# Expected error of each kind of prediction, from bench/fidelity.py (`python bench/fidelity.py --write`):",
             "# p80_abs_error_pct bounds 80% of the absolute errors over the validated pair-directions of that kind",
             "# (the higher value where 80% falls between two). Replays quote it as their error bar (retime/replay/fidelity.py).",
             "# Kinds: a knob measured on pairs that change only it (sample_traces/gpu_h100, sample_traces/input_pipeline;",
             "# `batch.host`, the batch knob on traces with no GPU ops: sample_traces/batch, three CPU workloads at three batch sizes);",
             "# `scale`, duration rules on the patterns its pairs scaled; `to.cross_vendor`, --to between the parts of",
             "# the cross-hardware pairs (../shared/traces/tracelens, each workload held out of the calibration): whole",
             "# traces' GPU busy time (p80_abs_error_pct) and span, the kernel classes' GPU time (class_p80_abs_error_pct:",
             "# what a workload of other class shares can see, the bar --to quotes), kernels with and without shapes.",
             "# Kinds not listed are unvalidated.", ""]
    by_knob: dict[str, list[dict]] = {}
    for r in pairs:
        by_knob.setdefault(r["knob"], []).append(r)
    for knob, rows in by_knob.items():
        errors = [r["error"] for r in rows]
        lines += [f'["{knob}"]', "basis = \"measured what-if pairs (median step)\"",
                  f"p80_abs_error_pct = {p80(errors):.1f}", f"mean_abs_error_pct = {np.mean(np.abs(errors)):.1f}",
                  f"directions = {len(errors)}"]
        if knob == "scale":
            patterns = sorted({p for r in rows for p, _ in r["rules"]})
            lines.append("patterns = [" + ", ".join(f"'{p}'" for p in patterns) + "]")
        lines.append("")
    if cross:
        busy, span = [r["busy_err"] for r in cross], [r["span_err"] for r in cross]
        parts = sorted({g for r in cross for g in r["direction"].split(" -> ")})
        lines += ['["to".cross_vendor]', "basis = \"cross-hardware pairs (../shared/traces/tracelens), each workload held out of the calibration\"",
                  f"p80_abs_error_pct = {p80(busy):.1f}", f"mean_abs_error_pct = {np.mean(np.abs(busy)):.1f}",
                  f"directions = {len(cross)}", f"span_p80_abs_error_pct = {p80(span):.1f}",
                  f"class_p80_abs_error_pct = {class_p80(cross):.1f}",
                  "class_basis = \"GPU time of the kernel classes holding at least 5% of a target's, each direction weighted alike\""]
        for label, key in (("shapes", "shaped"), ("no shapes", "unshaped")):
            # weighted by the group's share of each direction's GPU time, as the classes are: a
            # sliver of a trace's time far off counts as the sliver it is
            errors = [r["shaped"][label] for r in cross if label in r["shaped"]]
            if errors:
                lines += [f"{key}_p80_abs_error_pct = {weighted_p80([e for e, _ in errors], [w for _, w in errors]):.1f}",
                          f"{key}_directions = {len(errors)}"]
        lines += ["parts = [" + ", ".join(f'"{g}"' for g in parts) + "]",
                  "pairs = [" + ", ".join(f'"{r["pair"]}: {r["direction"]}"' for r in cross) + "]", ""]
    FIDELITY.write_text("\n".join(lines))
    print(f"\nwrote {FIDELITY}")


if __name__ == "__main__":
    main("--write" in sys.argv[1:])
