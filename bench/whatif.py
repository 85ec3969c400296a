"""Measured what-if pairs: replay the first trace of each pair under the change the second one
made, and compare the prediction with the second trace's measured step time.

The pairs are in sample_traces/gpu_h100 (recorded on an H100 by sample_traces/make_gpu_samples.py,
with the copy bandwidths it measured outside the profiler in measurements.toml) and
sample_traces/input_pipeline (recorded on a CPU by sample_traces/make_samples.py):
  h2d         the same MLP training step, its 64 MiB batch copied from pageable or from pinned memory
  host        GPU matmuls overlapped with host work ("host_prep"), once or twice per step
  host.input  a training loop fed by a DataLoader whose samples cost 2 units of decoding, or 1

Each row gives retime's prediction (dependency graph) and, for comparison, a sum of durations
(the step changes by the changed events' own time, as if nothing overlapped).

    python bench/whatif.py
"""
from __future__ import annotations

from pathlib import Path

from common import fresh_store_path  # bench/common.py
from pairs import whatif_pairs  # bench/pairs.py
from retime.replay import scenario

import retime

DURATIONS = Path(__file__).with_name("whatif_durations.sql").read_text()


def main() -> None:
    with retime.open(fresh_store_path("whatif")) as store:
        rows = whatif_pairs(store)
        print(f"| {'knob':<10} | {'direction':<20} | {'scenario':<22} | {'base step ms':>12} | {'predicted ms':>12} "
              f"| {'measured ms':>11} | {'error':>7} | {'sum of durations ms':>19} | {'its error':>9} |")
        print(f"|{'-' * 12}|{'-' * 22}|{'-' * 24}|{'-' * 14}|{'-' * 14}|{'-' * 13}|{'-' * 9}|{'-' * 21}|{'-' * 11}|")
        for pair, direction, base, target, knobs, scale, _ in rows:
            chosen = scenario.parse(knobs, scale=scale)
            result = store.replay(base, chosen)
            check = store.against(result, target)
            base_step = store.iteration(base)["step_ns"]
            naive = base_step + _duration_change(store, base, chosen)
            naive_error = 100 * (naive - check.measured_ns) / check.measured_ns
            print(f"| {pair:<10} | {direction:<20} | {chosen.label:<22} | {base_step / 1e6:>12.3f} "
                  f"| {check.predicted_ns / 1e6:>12.3f} | {check.measured_ns / 1e6:>11.3f} "
                  f"| {check.error_pct:>+6.1f}% | {naive / 1e6:>19.3f} | {naive_error:>+8.1f}% |")
    print("\nsteps are medians of the profiled ProfilerStep windows (4 a trace on the H100, 6 on the CPU); * uses the pageable copies' bandwidth "
          "as the pageable trace shows it, the other h2d rows the bandwidth measured outside the profiler")


def _duration_change(store, trace_id: int, chosen: scenario.Scenario) -> float:
    """Per step, how much the changed events' own time changes (no overlap taken into account)."""
    rules = chosen.scale + [rule for rules in chosen.knob_rules.values() for rule in rules]
    change = 0.0
    for pattern, factor in rules or [("^$", 1.0)]:
        d = store.sql(DURATIONS, params={"trace_id": trace_id, "pattern": pattern}).to_dicts()[0]
        change += (factor - 1) * d["matched_ns"]
    if "h2d" in chosen.bandwidth_bytes_per_ns:
        d = store.sql(DURATIONS, params={"trace_id": trace_id, "pattern": "^$"}).to_dicts()[0]
        change += d["h2d_bytes"] / chosen.bandwidth_bytes_per_ns["h2d"] - d["h2d_ns"]
    return change


if __name__ == "__main__":
    main()
