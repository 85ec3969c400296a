"""Kernel-level validation of the measured-GEMM model (replay/kernel_db.py), each part held out.

For every part with a measured grid, its measured GEMM latencies are predicted from the other
parts' grids and its own specs only (kernel_db.latency with the part excluded), and scored by the
absolute percentage error per shape: median and 90th percentile, beside two naive baselines:

- roofline at one efficiency: max(FLOPs / (peak x 0.7), bytes / (HBM x 0.7)), no latency floor;
- nearest part x peak ratio: the measured latency on the part nearest in specs (|log peak ratio| +
  |log HBM ratio|), scaled by the ratio of the dense peaks.

Also, what `--to` uses between two measured parts, the ratio of their latencies, checked against
the same ratio predicted with the target held out (the ratio error a retarget onto an unmeasured
part of that vendor carries). The shapes are the tables' grid (m 1-32768, n and k 32-65536): far
more small and odd shapes than a training step has, so the errors are those of the grid, not of
any one workload.

Causal prefill attention likewise (TensorRT-LLM's kernels, BF16, head size 128: every row of a part
from the other parts' grids and its specs). Collectives likewise: every measured NCCL row of a part (all-reduce, all-gather, reduce-scatter,
all-to-all on 2-8 GPUs, 256 B to 512 MiB) predicted from the other parts' curves and its link
bandwidth only (kernel_db.collective_latency with the part excluded), beside the nearest part in
link bandwidth as measured and scaled by the bandwidth ratio.

    python bench/kernel_validation.py            # print the tables
    python bench/kernel_validation.py --write    # also write replay/presets/kernel_validation.toml
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from retime.replay import kernel_db, presets

OUT = Path(__file__).resolve().parents[1] / "replay" / "presets" / "kernel_validation.toml"
EFFICIENCY = 0.7
NVLINK_GB_S = 100  # parts whose GPUs talk over NVLink (gpus.toml interconnect_gb_s): the PCIe-only ones differ


def specs_link(part: str) -> float:
    return presets.presets()[part]["interconnect_gb_s"]


def shapes(part: str, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A part's measured rows (not the grid's filled cells): m, n, k and latency (µs)."""
    rows = kernel_db.table()
    mine = (rows["gpu"] == part) & (rows["dtype"] == dtype)
    return tuple(rows[c][mine].astype(np.float64) for c in ("m", "n", "k", "latency_us"))


def ape(predicted: np.ndarray, measured: np.ndarray) -> np.ndarray:
    return 100.0 * np.abs(predicted / measured - 1.0)


def held_out(dtype: str) -> list[dict]:
    """One row per measured part: its shapes' errors (model and baselines) with the part held out."""
    specs = presets.presets()
    parts = [p for p in kernel_db.gridded_parts(dtype) if p in specs]
    rows = []
    for part in parts:
        m, n, k, measured = shapes(part, dtype)
        spec = specs[part]
        near = min((p for p in parts if p != part), key=lambda q: kernel_db.spec_distance(specs[q], spec, dtype))
        predictions = {
            "model": kernel_db.latency(part, dtype, m, n, k, specs, exclude=(part,)),
            "roofline": kernel_db.roofline_us({**spec, "sms": None}, dtype, m, n, k) / EFFICIENCY,
            "nearest": kernel_db.interpolate(kernel_db.grid(near, dtype), m, n, k)
                       * specs[near][kernel_db.PEAK_FIELD[dtype]] / spec[kernel_db.PEAK_FIELD[dtype]],
        }
        rows.append({"part": part, "dtype": dtype, "shapes": len(m), "near": near,
                     "errors": {name: ape(predicted, measured) for name, predicted in predictions.items()}})
    return rows


def held_out_attention() -> list[dict]:
    """One row per measured part: its attention rows' errors (model and baselines) with the part held out."""
    specs = presets.presets()
    rows_all = kernel_db.attention_table()
    parts = [p for p in kernel_db.attention_parts() if p in specs]
    rows = []
    for part in parts:
        mine = rows_all["gpu"] == part
        b, s, h, measured = (rows_all[c][mine].astype(np.float64) for c in ("batch", "seq", "heads", "latency_us"))
        spec = specs[part]
        near = min((q for q in parts if q != part), key=lambda q: kernel_db.spec_distance(specs[q], spec, "bf16"))
        predictions = {
            "model": kernel_db.attention_latency(part, b, s, h, specs, exclude=(part,)),
            "roofline": kernel_db.attention_roofline_us({**spec, "sms": None}, b, s, h) / EFFICIENCY,
            "nearest": kernel_db.interpolate(kernel_db.attention_grid(near), b, s, h)
                       * specs[near]["bf16_tflops"] / spec["bf16_tflops"],
        }
        rows.append({"part": part, "rows": len(b), "near": near,
                     "errors": {name: ape(p, measured) for name, p in predictions.items()}})
    return rows


def held_out_collectives() -> list[dict]:
    """One row per measured part: its collectives' errors (model and baselines) with the part held out."""
    specs = presets.presets()
    rows_all = kernel_db.nccl_table()
    parts = [p for p in kernel_db.nccl_parts() if p in specs]
    rows = []
    for part in parts:
        spec = specs[part]
        link = lambda q: abs(np.log(specs[q]["interconnect_gb_s"] / spec["interconnect_gb_s"]))
        near = min((p for p in parts if p != part), key=link)
        errors = {"model": [], "nearest": [], "scaled": []}
        for op in kernel_db.COLLECTIVES:
            for ranks in np.unique(rows_all["ranks"][(rows_all["gpu"] == part) & (rows_all["op"] == op)]):
                mine = (rows_all["gpu"] == part) & (rows_all["op"] == op) & (rows_all["ranks"] == ranks)
                nbytes, measured = rows_all["bytes"][mine].astype(np.float64), rows_all["latency_us"][mine].astype(np.float64)
                theirs = kernel_db.collective_latency(near, op, int(ranks), nbytes, specs)
                errors["model"].append(ape(kernel_db.collective_latency(part, op, int(ranks), nbytes, specs, exclude=(part,)), measured))
                errors["nearest"].append(ape(theirs, measured))
                errors["scaled"].append(ape(theirs * specs[near]["interconnect_gb_s"] / spec["interconnect_gb_s"], measured))
        rows.append({"part": part, "near": near, "rows": sum(len(e) for e in errors["model"]),
                     "errors": {k: np.concatenate(v) for k, v in errors.items()}})
    return rows


def summary(errors: np.ndarray) -> tuple[float, float, float]:
    """Median, 80th and 90th percentile of absolute errors."""
    return tuple(float(q) for q in np.percentile(errors, (50, 80, 90)))


def main(write: bool) -> None:
    rows = [r for dtype in kernel_db.DTYPES for r in held_out(dtype)]
    pooled = {dtype: float(np.percentile(np.concatenate([r["errors"]["model"] for r in rows if r["dtype"] == dtype]), 80))
              for dtype in kernel_db.DTYPES}
    print("GEMM latency, each part held out: absolute error per shape, median / p90 "
          "(model: from the other parts' measurements and the part's specs)\n")
    print("| part | type | shapes | model | roofline at 70% | nearest part x peak ratio (which) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        cell = lambda key: "{0:.1f}% / {2:.1f}%".format(*summary(r["errors"][key]))
        print(f"| {r['part']} | {r['dtype']} | {r['shapes']:,} | {cell('model')} | {cell('roofline')} "
              f"| {cell('nearest')} ({r['near']}) |")
    print("\n" + ", ".join(f"{d}: 80% of held-out shapes within ±{v:.0f}%" for d, v in pooled.items()))
    attention = held_out_attention()
    print("\nCausal prefill attention (TensorRT-LLM, BF16, head size 128), each part held out: absolute error per "
          "row, median / p90\n")
    print("| part | rows | model | roofline at 70% | nearest part x peak ratio (which) |")
    print("|---|---|---|---|---|")
    for r in attention:
        cell = lambda key: "{0:.1f}% / {2:.1f}%".format(*summary(r["errors"][key]))
        print(f"| {r['part']} | {r['rows']:,} | {cell('model')} | {cell('roofline')} | {cell('nearest')} ({r['near']}) |")
    collectives = held_out_collectives()
    print("\nNCCL collectives within a node, each part held out: absolute error per row, median / p90 "
          "(model: from the other parts' curves and the part's link bandwidth)\n")
    print("| part | rows | model | nearest part as measured | nearest part x link ratio (which) |")
    print("|---|---|---|---|---|")
    for r in collectives:
        cell = lambda key: "{0:.1f}% / {2:.1f}%".format(*summary(r["errors"][key]))
        print(f"| {r['part']} | {r['rows']} | {cell('model')} | {cell('nearest')} | {cell('scaled')} ({r['near']}) |")
    if write:
        lines = ["# GEMM latency of a part known by its specs only (replay/kernel_db.py), each measured part held",
                 "# out in turn: written by `python bench/kernel_validation.py --write`. p80_abs_error_pct is the",
                 "# error bar `--to` quotes for GEMMs predicted from specs (replay/fidelity.py).", ""]
        for dtype, value in pooled.items():
            lines += [f'["{dtype}"]', 'basis = "GEMM shapes of every measured part held out in turn, pooled"',
                      f"p80_abs_error_pct = {value:.1f}", ""]
        for r in rows:
            median, p80, p90 = summary(r["errors"]["model"])
            lines += [f'["{r["part"]}.{r["dtype"]}"]', f"shapes = {r['shapes']}", f"median_abs_error_pct = {median:.1f}",
                      f"p80_abs_error_pct = {p80:.1f}", f"p90_abs_error_pct = {p90:.1f}", ""]
        lines += ['["attention"]', 'basis = "causal prefill attention rows of every measured part held out in turn, pooled"',
                  f"p80_abs_error_pct = {np.percentile(np.concatenate([r['errors']['model'] for r in attention]), 80):.1f}", ""]
        for r in attention:
            median, p80, p90 = summary(r["errors"]["model"])
            lines += [f'["{r["part"]}.attention"]', f"rows = {r['rows']}", f"median_abs_error_pct = {median:.1f}",
                      f"p80_abs_error_pct = {p80:.1f}", f"p90_abs_error_pct = {p90:.1f}", ""]
        nvlink = [r for r in collectives if specs_link(r["part"]) >= NVLINK_GB_S]
        lines += ['["nccl"]', f'basis = "NCCL rows of every measured NVLink part ({", ".join(r["part"] for r in nvlink)}) '
                  'held out in turn, pooled"',
                  f"p80_abs_error_pct = {np.percentile(np.concatenate([r['errors']['model'] for r in nvlink]), 80):.1f}", ""]
        for r in collectives:
            median, p80, p90 = summary(r["errors"]["model"])
            lines += [f'["{r["part"]}.nccl"]', f"rows = {r['rows']}", f"median_abs_error_pct = {median:.1f}",
                      f"p80_abs_error_pct = {p80:.1f}", f"p90_abs_error_pct = {p90:.1f}", ""]
        OUT.write_text("\n".join(lines))
        print(f"\nwrote {OUT}")


if __name__ == "__main__":
    main("--write" in sys.argv[1:])
