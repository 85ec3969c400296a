"""What a replay changes: knobs from `--set k=v` (and, later, scenario files and presets).

Speeds and bandwidths are given as factors of the measured hardware (`2x`: twice as fast) or, for
links, as an absolute bandwidth (`64GB/s`: each copy then takes bytes / bandwidth). Latencies are
given as factors of the measured latency (`0.5x`: half) or as an absolute time (`5us`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from retime.errors import ScenarioError

__all__ = ["ScenarioError", "Scenario", "parse", "KNOBS", "EDGE_CLASSES"]

# knob -> the edge classes it rescales (see replay/sql/graph_edges.sql) and what kind of quantity it is
KNOBS = {
    "cpu.speed": (("cpu",), "speed"),
    "launch.latency": (("launch", "launch_call"), "latency"),
    "pcie.h2d": (("h2d",), "bandwidth"),
    "pcie.d2h": (("d2h",), "bandwidth"),
    "hbm": (("d2d", "memset", "membound"), "bandwidth"),
    "nvlink": (("p2p",), "bandwidth"),
    "net": (("comm",), "speed"),
    "gpu.flops": (("compute",), "speed"),
}
EDGE_CLASSES = ("cpu", "launch_call", "launch", "fixed", "h2d", "d2h", "d2d", "p2p", "memset", "compute",
                "membound", "comm")
VALUE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(x|gb/s|mb/s|tb/s|ns|us|µs|ms|s)?\s*$", re.I)
BYTES_PER_NS = {"mb/s": 1e-3, "gb/s": 1.0, "tb/s": 1e3}
NS = {"ns": 1.0, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}


@dataclass
class Scenario:
    """Per edge class: a multiplier on measured lags, or for links an absolute bandwidth."""

    settings: dict[str, str] = field(default_factory=dict)
    multiplier: dict[str, float] = field(default_factory=lambda: {c: 1.0 for c in EDGE_CLASSES})
    bandwidth_bytes_per_ns: dict[str, float] = field(default_factory=dict)
    launch_latency_ns: float | None = None

    @property
    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.settings.items()) or "measured hardware"


def parse(settings: list[str] | dict[str, str]) -> Scenario:
    """A scenario from `k=v` strings (or a dict)."""
    pairs = settings.items() if isinstance(settings, dict) else [_split(s) for s in settings]
    scenario = Scenario()
    for knob, raw in pairs:
        if knob not in KNOBS:
            raise ScenarioError(f"unknown knob {knob!r}; knobs: {', '.join(KNOBS)}")
        classes, quantity = KNOBS[knob]
        m = VALUE.match(str(raw))
        if not m:
            raise ScenarioError(f"{knob}={raw}: expected a factor like 2x, a bandwidth like 64GB/s, or a time like 5us")
        number, unit = float(m[1]), (m[2] or "x").lower()
        if number <= 0:
            raise ScenarioError(f"{knob}={raw}: must be positive")
        scenario.settings[knob] = str(raw)
        if unit == "x":
            for c in classes:
                scenario.multiplier[c] = number if quantity == "latency" else 1.0 / number
        elif unit in BYTES_PER_NS and quantity == "bandwidth":
            for c in classes:
                scenario.bandwidth_bytes_per_ns[c] = number * BYTES_PER_NS[unit]
        elif unit in NS and quantity == "latency":
            scenario.launch_latency_ns = number * NS[unit]
        else:
            raise ScenarioError(f"{knob}={raw}: a {quantity} knob takes "
                                + {"speed": "a factor (2x)", "bandwidth": "a factor (2x) or a bandwidth (64GB/s)",
                                   "latency": "a factor (0.5x) or a time (5us)"}[quantity])
    return scenario


def _split(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep:
        raise ScenarioError(f"{item!r}: expected knob=value, e.g. pcie.h2d=2x")
    return key.strip(), value.strip()
