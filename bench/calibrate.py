"""Calibrate the per-kernel performance model (retime/replay/kernel_model.py) on every measured
cross-hardware pair here and write retime/replay/presets/kernel_model.toml, which `retime replay --to`
reads. bench/fidelity.py validates the same procedure with each pair held out of its calibration.

    python bench/calibrate.py
"""
from __future__ import annotations

from pathlib import Path

from common import fresh_store_path  # bench/common.py
from pairs import SHARED, CROSS_HARDWARE, ingest_cross_hardware  # bench/pairs.py
from retime.replay import kernel_model

import retime

OUT = Path(__file__).resolve().parents[1] / "retime" / "replay" / "presets" / "kernel_model.toml"


def main() -> None:
    with retime.open(fresh_store_path("calibrate")) as store:
        pairs = ingest_cross_hardware(store)
        if not pairs:
            raise SystemExit(f"no cross-hardware pairs under {SHARED}: nothing to calibrate on")
        data = [(ga, gb, kernel_model.kernel_samples(store.con, a), kernel_model.kernel_samples(store.con, b))
                for _, ga, a, gb, b in pairs]
    model = kernel_model.calibrate(data)
    lines = ["# Per-kernel performance model (retime/replay/kernel_model.py): per GPU preset, the latency floor",
             "# (floor_ns: the 5th percentile of its kernels' durations) and per kernel class the efficiencies,",
             "# fractions of a peak relative to the H100's: `efficiency` pooled over all of a class's kernels",
             "# against its class roof (dense BF16 FLOP/s or HBM bandwidth), for kernels without recorded shapes;",
             "# `compute_efficiency` and `memory_efficiency` from matched, throughput-bound kernels of known",
             "# intensity bound by that roof on both GPUs (weighted median), for kernels with recorded shapes.",
             "# Written by `python bench/calibrate.py` from these measured pairs (same model, two GPUs):"]
    lines += [f"#   {name}: {ga} {fa} vs {gb} {fb}" for name, ga, fa, gb, fb in CROSS_HARDWARE]
    lines += ["# A GPU or class not listed has no calibration: it reaches the H100's fraction of each peak, and a",
              "# GPU without a floor takes a listed part's of its vendor (else the other GPU's).", "", "[floor_ns]"]
    lines += [f"{gpu} = {value}" for gpu, value in sorted(model["floor_ns"].items())]
    lines.append("")
    for section in ("efficiency", "compute_efficiency", "memory_efficiency"):
        for gpu, values in sorted(model[section].items()):
            lines.append(f"[{section}.{gpu}]")
            lines += [f"{cls} = {value}" for cls, value in values.items()]
            lines.append("")
    OUT.write_text("\n".join(lines))
    print(OUT.read_text())


if __name__ == "__main__":
    main()
