"""The error bar a prediction carries: how far predictions of its kind landed from measured runs.

retime/replay/presets/fidelity.toml (bench/fidelity.py --write) holds, per kind of prediction, the 80th
percentile of the absolute errors over the validated cases of that kind, none of which the model
was fitted on: a knob on measured what-if pairs that change only it; a duration rule on the names
its pairs scaled; `--to` across vendors on cross-hardware pairs (leave-one-workload-out), for the
parts those pairs measured. retime/replay/presets/kernel_validation.toml (bench/kernel_validation.py) holds
the GEMM-level error of the measured-kernel model with each part held out, which a retarget between
two parts of one vendor quotes beside "unvalidated": no measured pair of one vendor validates it at
the level of a whole trace.

A scenario's error bar is the largest of its kinds'; one kind without validation makes it
unvalidated and says which; a scenario that changes nothing carries no error (ErrorBar.none).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from retime.replay import presets
from retime.replay.scenario import Scenario

# knobs that --to sets itself (their error is the --to error, not each knob's)
RETARGET_KNOBS = ("hbm", "gpu.flops", "nvlink", "net", "pcie.h2d", "pcie.d2h")


@dataclass(frozen=True)
class ErrorBar:
    """How far predictions of one kind landed from measured runs, quoted with a replay. `pct` is
    the bound ~80% of validated cases fell within; None where unvalidated; 0 where the scenario
    changes nothing (nothing to be wrong about)."""
    pct: float | None
    basis: str                 # where it comes from, for people

    @property
    def text(self) -> str:
        """For people: "±8% (basis)", "unvalidated (why)" or "none (why)"."""
        if self.pct is None:
            return f"unvalidated ({self.basis})"
        return f"none ({self.basis})" if self.pct == 0 else f"±{self.pct:.0f}% ({self.basis})"

    def as_dict(self) -> dict:
        """For JSON output: expected_error_pct and basis."""
        return {"expected_error_pct": self.pct, "basis": self.basis}


NO_CHANGE = ErrorBar(0.0, "the scenario changes no hardware and no duration")
NO_EFFECT = ErrorBar(0.0, "the scenario moves no event of this trace")


@lru_cache(maxsize=1)
def table() -> dict:
    """retime/replay/presets/fidelity.toml: the measured error of each kind of prediction, with its cases."""
    return tomllib.loads(resources.files("retime.replay").joinpath("presets", "fidelity.toml").read_text())


@lru_cache(maxsize=1)
def kernel_table() -> dict:
    """retime/replay/presets/kernel_validation.toml: GEMM latency error with each measured part held out."""
    return tomllib.loads(resources.files("retime.replay").joinpath("presets", "kernel_validation.toml").read_text())


SHARED_LINKS = ErrorBar(None, "transfers shared a topology's links; no measured contention pair validates the sharing")


def error_bar_on_links(scenario: Scenario, uses: list, idle: list[str] | tuple = (), host_run: bool = False) -> ErrorBar:
    """A scenario's error bar on a topology: its own where no link held a transfer back (the replay
    is then the topology-free one), unvalidated where the sharing changed the answer."""
    return SHARED_LINKS if any(u.slowed for u in uses) else error_bar(scenario, idle, host_run)


def quoted(scenario: Scenario, new, measured, report=None, idle: list[str] | tuple = (),
           host_run: bool = False) -> ErrorBar:
    """The error bar a replay quotes: NO_EFFECT where its predicted times are the measured ones,
    else the scenario's on the topology's links (`report`, retime/replay/links.py) or without them; `idle`:
    the knobs that change nothing on this trace (reach.idle_knob_names), which add no error;
    `host_run`: the trace has no GPU ops (its batch is validated apart, retime/replay/batch.py)."""
    if np.array_equal(new, measured):
        return NO_EFFECT
    bar = (error_bar_on_links(scenario, report.uses, idle, host_run) if report is not None
           else error_bar(scenario, idle, host_run))
    if bar is NO_CHANGE:  # nothing changed, yet times moved: the graph does not reproduce this trace
        moved = np.abs(np.asarray(new) - np.asarray(measured))
        return ErrorBar(None, f"the unchanged replay moves {int((moved > 0).sum()):,} of this trace's times, by up to "
                              f"{moved.max() / 1e3:,.3f} µs: its replay graph does not reproduce the trace")
    return bar


def retarget_bar(source: str, target: str) -> ErrorBar | None:
    """The error bar of `--to target` from `source`: None where source and target are one part
    (nothing changes), the validated cross-vendor error where both parts were measured in
    validated pairs, else unvalidated with the reason (and, between parts of one vendor, the GEMM
    kernels' error from the kernel-level validation)."""
    if source == target:
        return None
    if presets.vendor(source) != presets.vendor(target):
        entry = table().get("to", {}).get("cross_vendor")
        gemm = kernel_table().get("gemm.cross_vendor")
        kernels = (f"; GEMMs of recorded shape across vendors: 80% of {gemm['basis'].split(' (')[0]} within "
                   f"±{gemm['p80_abs_error_pct']:.0f}%" if gemm else "")
        if not entry:
            return ErrorBar(None, f"no measured cross-vendor pair validates --to{kernels}")
        unmeasured = [g for g in (source, target) if g not in entry["parts"]]
        if unmeasured:
            return ErrorBar(None, f"no measured pair includes {' or '.join(unmeasured)} (validated: "
                                  f"{', '.join(entry['parts'])}){kernels}")
        return cross_vendor_bar(entry)
    from retime.replay import kernel_db
    measured_vendors = {presets.vendor(q) for q in kernel_db.gridded_parts("bf16") + kernel_db.nccl_parts()}
    if presets.vendor(source) not in measured_vendors:  # the kernel tables answer for another vendor's parts only
        return ErrorBar(None, f"no measured pair of two {presets.vendor(source)} GPUs validates --to on a whole trace")
    gemm, nccl = kernel_table().get("bf16", {}), kernel_table().get("nccl", {})
    kernels = (f"; GEMMs of recorded shape: 80% of held-out measured shapes within ±{gemm['p80_abs_error_pct']:.0f}%"
               if gemm else "")
    attention = kernel_table().get("attention", {})
    kernels += (f"; attention of recorded shape: 80% of held-out measured shapes within "
                f"±{attention['p80_abs_error_pct']:.0f}%" if attention else "")
    kernels += (f"; NCCL collectives within a node: 80% of held-out NVLink parts' measured sizes within "
                f"±{nccl['p80_abs_error_pct']:.0f}%" if nccl else "")
    return ErrorBar(None, f"no measured pair of two {presets.vendor(source)} GPUs validates --to on a whole trace{kernels}")


def cross_vendor_bar(entry: dict) -> ErrorBar:
    """The bar of --to across vendors (fidelity.toml's to.cross_vendor): the bound 80% of the held-out
    kernel classes' GPU time fell within, or the span's where larger. Whole traces of the validated
    pairs land closer (their class errors partly cancel), but a workload of other class shares need
    not: the class bound is what a new workload can see. The whole-trace figures ride in the basis."""
    pct = max(float(entry["class_p80_abs_error_pct"]), float(entry["span_p80_abs_error_pct"]))
    split = "".join(f", kernels {label} ±{entry[f'{key}_p80_abs_error_pct']:g}% over {entry[f'{key}_directions']}"
                    for label, key in (("with recorded shapes", "shaped"), ("without", "unshaped"))
                    if f"{key}_p80_abs_error_pct" in entry)
    return ErrorBar(pct, f"80% of the held-out kernel classes' GPU time of --to across vendors, what a workload of "
                         f"other class shares can see; whole traces: span ±{float(entry['span_p80_abs_error_pct']):g}%, "
                         f"GPU busy ±{float(entry['p80_abs_error_pct']):g}% over {entry['directions']} pair-directions"
                         f"{split}: {entry['basis']}")


def unvalidated_knob(knob: str, known: dict) -> str:
    """Why a knob's prediction has no error bar, with what validates it in part: its rule against
    measured kernels (kernel_validation.toml `KNOB.rule`) and its pairs on traces with no GPU ops
    (fidelity.toml `KNOB.host`), where those exist."""
    rule, host = kernel_table().get(f"{knob}.rule"), known.get(f"{knob}.host")
    parts = ([f"its rule against {rule['basis']}: 80% of their measured time within "
              f"±{rule['time_weighted_p80_abs_error_pct']:g}% (80% of the rows within ±{rule['p80_abs_error_pct']:g}%)"]
             if rule else []) + \
        ([f"traces with no GPU ops: 80% of {host['directions']} measured pair-directions within "
          f"±{host['p80_abs_error_pct']:g}%"] if host else [])
    return f"no measured pair validates {knob}{' on a GPU' if host else ''}" + (f" ({'; '.join(parts)})" if parts else "")


def error_bar(scenario: Scenario, idle: list[str] | tuple = (), host_run: bool = False) -> ErrorBar:
    """The expected error of a scenario's prediction: the largest of its kinds' validated errors
    (a retarget by retarget_bar, a knob by its pairs, duration rules by the rules their pairs
    validated); unvalidated where any kind has none; NO_CHANGE where nothing is changed. Knobs in
    `idle` change nothing on the trace at hand and are left out. `host_run`: the trace has no GPU
    ops, so `batch` moves its host operators, validated as the kind `batch.host` (retime/replay/batch.py)."""
    model = scenario.kernel_model
    bars: list[ErrorBar] = []
    if model is not None and (bar := retarget_bar(model.source, model.target)) is not None:
        bars.append(bar)
    known = table()
    knobs = [k for k in scenario.changed_knobs() if not (model is not None and k in RETARGET_KNOBS) and k not in idle]
    for knob in knobs:
        kind = f"{knob}.host" if host_run and f"{knob}.host" in known else knob  # its pairs on traces with no GPU ops
        entry = known.get(kind)
        bars.append(ErrorBar(float(entry["p80_abs_error_pct"]),
                             f"80% of {entry['directions']} validated pair-directions of {kind}: {entry['basis']}")
                    if entry else ErrorBar(None, unvalidated_knob(knob, known)))
    if scenario.scale:
        entry = known.get("scale", {})
        validated = set(entry.get("patterns", []))
        other = [p for p, _ in scenario.scale if p not in validated]
        bars.append(ErrorBar(None, f"no measured pair validates a duration rule on {', '.join(other)}") if other else
                    ErrorBar(float(entry["p80_abs_error_pct"]),
                             f"80% of {entry['directions']} validated pair-directions of --scale {', '.join(validated)}: "
                             f"{entry['basis']}"))
    if not bars:
        return NO_CHANGE
    unvalidated = [b for b in bars if b.pct is None]
    if unvalidated:
        return ErrorBar(None, "; ".join(b.basis for b in unvalidated))
    return max(bars, key=lambda b: b.pct)
