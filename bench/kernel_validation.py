"""Kernel-level validation of the measured-GEMM model (retime/replay/kernel_db.py), each part held out.

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
    python bench/kernel_validation.py --write    # also write retime/replay/presets/kernel_validation.toml
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from fidelity import weighted_p80  # bench/fidelity.py: the error 80% of the weight falls within

from retime.replay import kernel_db, presets
from retime.replay.grow import bus_factor

OUT = Path(__file__).resolve().parents[1] / "retime" / "replay" / "presets" / "kernel_validation.toml"
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


def held_out_grids(parts: list[str], dtype: str, rows_of, model, roofline, grid_of) -> list[dict]:
    """One row per measured part of a gridded table: its measured rows' errors with the part held
    out, for the model (`model(part, *shape, exclude)`), the roofline at one efficiency
    (`roofline(spec, *shape)`) and the nearest part in specs scaled by the dense peak ratio."""
    specs = presets.presets()
    peak = kernel_db.PEAK_FIELD[dtype]
    out = []
    for part in parts:
        *shape, measured = rows_of(part)
        spec = specs[part]
        near = min((q for q in parts if q != part), key=lambda q: kernel_db.spec_distance(specs[q], spec, dtype))
        predictions = {"model": model(part, *shape, (part,)),
                       "roofline": roofline({**spec, "sms": None}, *shape) / EFFICIENCY,
                       "nearest": kernel_db.interpolate(grid_of(near), *shape) * specs[near][peak] / spec[peak]}
        out.append({"part": part, "dtype": dtype, "rows": len(measured), "near": near,
                    "errors": {name: ape(p, measured) for name, p in predictions.items()}})
    return out


def held_out(dtype: str) -> list[dict]:
    """GEMMs of one data type, each part held out."""
    specs = presets.presets()
    return held_out_grids([p for p in kernel_db.gridded_parts(dtype) if p in specs], dtype,
                          lambda part: shapes(part, dtype),
                          lambda part, m, n, k, exclude: kernel_db.latency(part, dtype, m, n, k, specs, exclude=exclude),
                          lambda spec, m, n, k: kernel_db.roofline_us(spec, dtype, m, n, k),
                          lambda part: kernel_db.grid(part, dtype))


def held_out_attention() -> list[dict]:
    """Causal prefill attention, each part held out."""
    specs = presets.presets()
    rows_all = kernel_db.attention_table()

    def rows_of(part):
        mine = rows_all["gpu"] == part
        return tuple(rows_all[c][mine].astype(np.float64) for c in ("batch", "seq", "heads", "latency_us"))
    return held_out_grids([p for p in kernel_db.attention_parts() if p in specs], "bf16", rows_of,
                          lambda part, b, s, h, exclude: kernel_db.attention_latency(part, b, s, h, specs, exclude=exclude),
                          kernel_db.attention_roofline_us, kernel_db.attention_grid)


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


def held_out_counts() -> list[dict]:
    """Each part's curves at each GPU count it was measured at, held out: predicted from its curve
    at its nearest other measured count moved by the other parts' ratio between the two counts
    (kernel_db.count_ratio, what a job grown to another GPU count within a node and a part without
    a count use), beside that count's curve as measured (no change), moved by the ring's bus-bytes
    factor (2(n-1)/n for all-reduce, (n-1)/n for the others) and by the count ratio n / n0."""
    specs = presets.presets()
    rows_all = kernel_db.nccl_table()
    out = []
    for part in [p for p in kernel_db.nccl_parts() if p in specs]:
        errors = {"model": [], "same": [], "bus": [], "count": []}
        for op in kernel_db.COLLECTIVES:
            counts = sorted({int(c) for c in rows_all["ranks"][(rows_all["gpu"] == part) & (rows_all["op"] == op)]})
            for held in counts:
                others = [c for c in counts if c != held]
                if not others:
                    continue
                near = min(others, key=lambda c: (abs(np.log(c / held)), c))
                log_bytes, log_latency = kernel_db.nccl_curve(part, op, held)
                nbytes, measured = np.exp(log_bytes), np.exp(log_latency)
                base = kernel_db._on_curve(kernel_db.nccl_curve(part, op, near), nbytes)
                errors["model"].append(ape(base * kernel_db.count_ratio(part, op, near, held, nbytes, specs), measured))
                errors["same"].append(ape(base, measured))
                code = kernel_db.COLLECTIVES.index(op)
                errors["bus"].append(ape(base * bus_factor(code, held) / bus_factor(code, near), measured))
                errors["count"].append(ape(base * held / near, measured))
        out.append({"part": part, "rows": sum(len(e) for e in errors["model"]),
                    "errors": {k: np.concatenate(v) for k, v in errors.items()}})
    return out


def across_vendors() -> list[dict]:
    """GEMMs measured on the other vendor's parts (aiter's tuned MI300X / MI355X rows, never fitted
    on): each predicted from an NVIDIA part's measured latency of the shape as `--to` does across
    vendors (the calibrated roofline model, retime/replay/kernel_model.py, from each part calibrated there),
    beside the NVIDIA-anchored spec model (kernel_db.from_specs: what `covers` refuses across
    vendors), the source x the dense peak ratio and no change."""
    from retime.replay import kernel_model
    from retime.replay.scenario import ROOF_TYPES
    specs = presets.presets()
    table = kernel_db.table()
    sources = [g for g in kernel_model.shipped()["floor_ns"] if presets.vendor(g) == "NVIDIA"]
    rows = []
    for dtype in kernel_db.DTYPES:
        anchors = [q for q in kernel_db.gridded_parts(dtype) if q in specs]
        for part in sorted({g for g in table["gpu"][table["dtype"] == dtype] if presets.vendor(g) != "NVIDIA"}):
            m, n, k, measured = shapes(part, dtype)
            intensity = 2 * m * n * k / (kernel_db.ELEMENT_BYTES[dtype] * (m * k + k * n + m * n))
            roof = np.full(len(m), ROOF_TYPES.index(dtype))
            peak = kernel_db.PEAK_FIELD[dtype]
            spec_model = kernel_db.from_specs(specs[part], dtype, m, n, k, anchors, specs)
            for source in sources:
                t_source = kernel_db.latency(source, dtype, m, n, k, specs)
                moved = kernel_model.retarget_model(source, part).times(t_source * 1e3, "gemm", intensity, roof) / 1e3
                rows.append({"part": f"{source} -> {part}", "dtype": dtype, "rows": len(measured),
                             "errors": {"model": ape(moved, measured), "specs": ape(spec_model, measured),
                                        "flops": ape(t_source * specs[source][peak] / specs[part][peak], measured),
                                        "same": ape(t_source, measured)}})
    return rows


def batch_rule() -> list[dict]:
    """`--set batch=F`'s rule for kernels without shapes (retime/replay/batch.py: the floor plus the time
    above it times F), against each NVIDIA part's measured latencies at twice and half the batch:
    a GEMM's m (the batch's dimension of a linear layer) and an attention's batch, every measured
    shape whose doubled batch is measured too, both ways. The floor is the part's in
    kernel_model.toml (the 5th percentile of a trace's kernels on it; a part without one takes its
    vendor's). Beside: the time times F, and no change. Nothing here was fitted on these tables."""
    from retime.replay import batch, kernel_model
    floors = kernel_model.retarget_model("h100", "h100")
    rows = []
    gemm_all, attention_all = kernel_db.table(), kernel_db.attention_table()
    for kind, table, batch_axis, other_axes in (("GEMM bf16, m", gemm_all, "m", ("n", "k")),
                                                ("attention, batch", attention_all, "batch", ("seq", "heads"))):
        for part in sorted(set(table["gpu"])):
            if presets.vendor(part) != "NVIDIA":
                continue
            mine = (table["gpu"] == part) & ((table["dtype"] == "bf16") if "dtype" in table else True)
            batch_size = table[batch_axis][mine].astype(np.int64)
            _, shape = np.unique(np.stack([table[c][mine] for c in other_axes], axis=1), axis=0, return_inverse=True)
            key = shape.ravel().astype(np.int64) * (1 << 32) + batch_size  # (the other axes, the batch)
            order = np.argsort(key)
            at = np.minimum(np.searchsorted(key[order], key + batch_size), len(key) - 1)  # the same shape at twice the batch
            small = np.flatnonzero(key[order][at] == key + batch_size)
            if not len(small):
                continue
            large = order[at[small]]
            latency = table["latency_us"][mine].astype(np.float64) * 1e3
            floor = floors.floor(part)
            errors = {"model": [], "scaled": [], "same": []}
            for src, dst, factor in ((small, large, 2.0), (large, small, 0.5)):
                measured, base = latency[dst], latency[src]
                errors["model"].append(ape(base * batch.by_rule(base, floor, factor), measured))
                errors["scaled"].append(ape(base * factor, measured))
                errors["same"].append(ape(base, measured))
            rows.append({"part": part, "kind": kind, "rows": 2 * len(small), "floor": floor,
                         "errors": {k: np.concatenate(v) for k, v in errors.items()},
                         "weights": np.concatenate([latency[large], latency[small]])})
    return rows


def summary(errors: np.ndarray) -> tuple[float, float, float]:
    """Median, 80th and 90th percentile of absolute errors."""
    return tuple(float(q) for q in np.percentile(errors, (50, 80, 90)))


def cell(row: dict, key: str) -> str:
    return "{0:.1f}% / {2:.1f}%".format(*summary(row["errors"][key]))


def print_table(title: str, header: list[str], rows: list[dict], line) -> None:
    """One markdown table of held-out rows (`line(row)`: its cells after the part)."""
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print(f"| {r['part']} | " + " | ".join(line(r)) + " |")


def pooled_entry(name: str, basis: str, rows: list[dict]) -> list[str]:
    """A pooled bar's toml table: the 80th percentile of every held-out row's error."""
    p80 = np.percentile(np.concatenate([r["errors"]["model"] for r in rows]), 80)
    return [f'["{name}"]', f'basis = "{basis}"', f"p80_abs_error_pct = {p80:.1f}", ""]


def part_entries(rows: list[dict], suffix, count: str) -> list[str]:
    """One toml table per held-out part: its rows and the model's error percentiles."""
    lines = []
    for r in rows:
        median, p80, p90 = summary(r["errors"]["model"])
        lines += [f'["{r["part"]}.{suffix(r)}"]', f"{count} = {r['rows']}", f"median_abs_error_pct = {median:.1f}",
                  f"p80_abs_error_pct = {p80:.1f}", f"p90_abs_error_pct = {p90:.1f}", ""]
    return lines


def main(write: bool) -> None:
    rows = [r for dtype in kernel_db.DTYPES for r in held_out(dtype)]
    grid_header = ["part", "rows", "model", "roofline at 70%", "nearest part x peak ratio (which)"]
    grid_line = lambda r: [f"{r['rows']:,}", cell(r, "model"), cell(r, "roofline"), f"{cell(r, 'nearest')} ({r['near']})"]
    print_table("GEMM latency, each part held out: absolute error per shape, median / p90 "
                "(model: from the other parts' measurements and the part's specs)",
                ["part", "type", "shapes"] + grid_header[2:], rows, lambda r: [r["dtype"]] + grid_line(r))
    by_type = {d: [r for r in rows if r["dtype"] == d] for d in kernel_db.DTYPES}
    print("\n" + ", ".join(f"{d}: 80% of held-out shapes within ±{summary(np.concatenate([r['errors']['model'] for r in of]))[1]:.0f}%"
                           for d, of in by_type.items()))
    attention = held_out_attention()
    print_table("Causal prefill attention (TensorRT-LLM, BF16, head size 128), each part held out: absolute error "
                "per row, median / p90", grid_header, attention, grid_line)
    collectives = held_out_collectives()
    print_table("NCCL collectives within a node, each part held out: absolute error per row, median / p90 "
                "(model: from the other parts' curves and the part's link bandwidth)",
                ["part", "rows", "model", "nearest part as measured", "nearest part x link ratio (which)"], collectives,
                lambda r: [str(r["rows"]), cell(r, "model"), cell(r, "nearest"), f"{cell(r, 'scaled')} ({r['near']})"])
    counts = held_out_counts()
    print_table("NCCL collectives within a node, each GPU count of a part held out: absolute error per row, median / p90 "
                "(model: the part's nearest other count moved as the nearest parts measured at both move)",
                ["part", "rows", "model", "nearest count as measured", "x bus-bytes factor", "x GPU count ratio"], counts,
                lambda r: [str(r["rows"]), cell(r, "model"), cell(r, "same"), cell(r, "bus"), cell(r, "count")])
    crossed = across_vendors()
    print_table("GEMMs measured on AMD parts (aiter's tuned rows), predicted from an NVIDIA part's measured latency "
                "of the shape: absolute error per shape, median / p90", ["direction", "type", "shapes", "--to (calibrated "
                "roofline model)", "NVIDIA spec model", "x peak ratio", "no change"], crossed,
                lambda r: [r["dtype"], str(r["rows"]), cell(r, "model"), cell(r, "specs"), cell(r, "flops"), cell(r, "same")])
    pooled = np.concatenate([r["errors"]["model"] for r in crossed])
    print(f"\nacross vendors: 80% of {len(pooled):,} predictions within ±{np.percentile(pooled, 80):.0f}%")
    batches = batch_rule()
    print_table("--set batch=2x and 0.5x by rule (kernels without shapes: the part's floor plus the time above it x F), "
                "against the measured latency at the new batch: absolute error per row, median / p90, and the error "
                "80% of the measured time falls within", ["part", "kernels", "rows", "floor", "rule", "time x F",
                                                          "no change", "rule, time-weighted p80"], batches,
                lambda r: [r["kind"], f"{r['rows']:,}", f"{r['floor'] / 1e3:.2f} µs", cell(r, "model"), cell(r, "scaled"),
                           cell(r, "same"), f"{weighted_p80(r['errors']['model'], r['weights']):.1f}%"])
    batch_errors = np.concatenate([r["errors"]["model"] for r in batches])
    batch_weights = np.concatenate([r["weights"] for r in batches])
    print(f"\nby rule, pooled: 80% of {len(batch_errors):,} rows within ±{np.percentile(batch_errors, 80):.0f}%, "
          f"80% of their measured time within ±{weighted_p80(batch_errors, batch_weights):.0f}%")
    if write:
        lines = ["# GEMM latency of a part known by its specs only (retime/replay/kernel_db.py), each measured part held",
                 "# out in turn: written by `python bench/kernel_validation.py --write`. p80_abs_error_pct is the",
                 "# error bar `--to` quotes for GEMMs predicted from specs (retime/replay/fidelity.py).", ""]
        for dtype, of in by_type.items():
            lines += pooled_entry(dtype, "GEMM shapes of every measured part held out in turn, pooled", of)
        lines += part_entries(rows, lambda r: r["dtype"], "shapes")
        lines += pooled_entry("attention", "causal prefill attention rows of every measured part held out in turn, pooled",
                              attention)
        lines += part_entries(attention, lambda r: "attention", "rows")
        nvlink = [r for r in collectives if specs_link(r["part"]) >= NVLINK_GB_S]
        lines += pooled_entry("nccl", f"NCCL rows of every measured NVLink part ({', '.join(r['part'] for r in nvlink)}) "
                              "held out in turn, pooled", nvlink)
        lines += part_entries(collectives, lambda r: "nccl", "rows")
        nvlink_counts = [r for r in counts if specs_link(r["part"]) >= NVLINK_GB_S]
        lines += pooled_entry("nccl.counts", "NCCL rows of every NVLink part's GPU counts "
                              f"({', '.join(r['part'] for r in nvlink_counts)}) held out in turn, pooled", nvlink_counts)
        lines += pooled_entry("gemm.cross_vendor", "AMD-measured GEMM shapes (amd-aiter's tuned MI300X and MI355X rows) "
                              f"predicted as --to does from {', '.join(sorted({r['part'].split(' -> ')[0] for r in crossed}))}'s "
                              "measured latencies, pooled", crossed)
        lines += pooled_entry("batch.rule", "NVIDIA's measured GEMMs (m) and causal attention (batch) at twice and half "
                              "the batch, every NVIDIA part, pooled", batches)
        lines.insert(len(lines) - 1, f"time_weighted_p80_abs_error_pct = {weighted_p80(batch_errors, batch_weights):.1f}")
        OUT.write_text("\n".join(lines))
        print(f"\nwrote {OUT}")


if __name__ == "__main__":
    main("--write" in sys.argv[1:])
