"""The error bar a prediction carries: how far predictions of its kind landed from measured runs.

replay/presets/fidelity.toml holds, per kind of prediction, the mean absolute error over the
validated pair-directions bench/fidelity.py replayed (`--to` on cross-hardware pairs; a knob on
measured what-if pairs that change only it). A scenario's error bar is the largest among the kinds
it uses; a knob with no measured pair makes the prediction unvalidated, and says which.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from retime.replay.scenario import Scenario

# knobs that --to sets itself (their error is the --to error, not each knob's)
RETARGET_KNOBS = ("hbm", "gpu.flops", "nvlink", "net", "pcie.h2d", "pcie.d2h")


@dataclass(frozen=True)
class ErrorBar:
    """How far predictions of one kind landed from measured runs (fidelity.toml), quoted with a replay."""
    pct: float | None          # expected absolute error, percent; None where unvalidated (0 for no change)
    basis: str                 # where it comes from, for people

    @property
    def text(self) -> str:
        """For people: "±8% (basis)" or "unvalidated (why)"."""
        return f"±{self.pct:.0f}% ({self.basis})" if self.pct is not None else f"unvalidated ({self.basis})"

    def as_dict(self) -> dict:
        """For JSON output: expected_error_pct and basis."""
        return {"expected_error_pct": self.pct, "basis": self.basis}


@lru_cache(maxsize=1)
def table() -> dict:
    """replay/presets/fidelity.toml: the measured error of each kind of prediction, with its pairs."""
    return tomllib.loads(resources.files("retime.replay").joinpath("presets", "fidelity.toml").read_text())


SHARED_LINKS = ErrorBar(None, "transfers shared a topology's links; no measured contention pair validates the sharing")


def error_bar_on_links(scenario: Scenario, uses: list) -> ErrorBar:
    """A scenario's error bar on a topology: its own where no link held a transfer back (the replay
    is then the topology-free one), unvalidated where the sharing changed the answer."""
    return SHARED_LINKS if any(u.slowed for u in uses) else error_bar(scenario)


def error_bar(scenario: Scenario) -> ErrorBar:
    """The expected error of a scenario's prediction: the largest of its changed knobs' validated
    errors (a retarget counts as `to`, scale rules as `scale`); unvalidated where any knob has none."""
    retargeted = scenario.kernel_model is not None
    kinds = (["to"] if retargeted else []) + [k for k in scenario.changed_knobs() if not (retargeted and k in RETARGET_KNOBS)]
    if scenario.scale:
        kinds.append("scale")
    if not kinds:
        return ErrorBar(0.0, "measured hardware: the replay reproduces the trace exactly")
    known = table()
    missing = [k for k in kinds if k not in known]
    if missing:
        return ErrorBar(None, f"no measured pair validates {', '.join('--to' if k == 'to' else k for k in missing)}")
    worst = max(kinds, key=lambda k: known[k]["mean_abs_error_pct"])
    entry = known[worst]
    name = "--to" if worst == "to" else ("--scale/--remove" if worst == "scale" else worst)
    return ErrorBar(float(entry["mean_abs_error_pct"]),
                    f"mean abs error of {entry['directions']} validated pair-directions of {name}: {entry['basis']}")
