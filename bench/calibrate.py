"""Calibrate the per-kernel performance model (replay/kernel_model.py) on every measured
cross-hardware pair here and write replay/presets/kernel_model.toml, which `retime replay --to`
reads. bench/fidelity.py validates the same procedure with each pair held out of its calibration.

    python bench/calibrate.py
"""
from __future__ import annotations

from pathlib import Path

from common import fresh_store_path  # bench/common.py
from pairs import SHARED, CROSS_HARDWARE, ingest_cross_hardware  # bench/pairs.py
from retime.replay import kernel_model

import retime

OUT = Path(__file__).resolve().parents[1] / "replay" / "presets" / "kernel_model.toml"


def main() -> None:
    with retime.open(fresh_store_path("calibrate")) as store:
        pairs = ingest_cross_hardware(store)
        if not pairs:
            raise SystemExit(f"no cross-hardware pairs under {SHARED}: nothing to calibrate on")
        data = [(ga, gb, kernel_model.kernel_durations(store.con, a), kernel_model.kernel_durations(store.con, b))
                for _, ga, a, gb, b in pairs]
    model = kernel_model.calibrate(data)
    lines = ["# Per-kernel performance model (replay/kernel_model.py): per GPU preset and kernel class, the",
             "# latency floor (ns: the 5th percentile of that class's kernel durations on that GPU) and the",
             "# efficiency (fraction of the class's peak, dense BF16 FLOP/s or HBM bandwidth, relative to the",
             "# H100's). Written by `python bench/calibrate.py` from these measured pairs (same model, two GPUs):"]
    lines += [f"#   {name}: {ga} {fa} vs {gb} {fb}" for name, ga, fa, gb, fb in CROSS_HARDWARE]
    lines += ["# A GPU not listed has no calibration: --to onto or from it uses peak ratios and the other GPU's floors.", ""]
    for section in ("floor_ns", "efficiency"):
        for gpu, values in sorted(model[section].items()):
            lines.append(f"[{section}.{gpu}]")
            lines += [f"{cls} = {value}" for cls, value in values.items()]
            lines.append("")
    OUT.write_text("\n".join(lines))
    print(OUT.read_text())


if __name__ == "__main__":
    main()
