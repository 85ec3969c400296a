"""What a replay changes: hardware knobs (`--set k=v`), per-name duration rules (`--scale`,
`--remove`), and scenario files (TOML) that hold both.

Speeds and bandwidths are given as factors of the measured hardware (`2x`: twice as fast) or, for
links, as an absolute bandwidth (`64GB/s`: each copy then takes bytes / bandwidth). Latencies are
given as factors of the measured latency (`0.5x`: half) or as an absolute time (`5us`). A duration
rule is different on purpose: it says what happens to the matching events' own time (`2x`: twice as
long, `0` or `--remove`: free), since it describes a change of work, not of hardware.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from retime.replay.kernel_model import RetargetModel
    from retime.replay.topology import Topology

from retime.core.errors import arg, ScenarioError

__all__ = ["ScenarioError", "Scenario", "assemble", "parse", "read_file", "KNOBS", "EDGE_CLASSES", "GPU_CLASSES"]

# knob -> the edge classes it rescales (see retime/replay/sql/graph_edges.sql) and what kind of quantity it is
KNOBS = {
    "cpu.speed": (("cpu",), "speed"),
    "launch.latency": (("launch", "launch_call"), "latency"),
    "pcie.h2d": (("h2d",), "bandwidth"),
    "pcie.d2h": (("d2h",), "bandwidth"),
    "hbm": (("d2d", "memset", "membound"), "bandwidth"),
    "nvlink": (("p2p",), "bandwidth"),
    "net": (("comm",), "bandwidth"),
    "net.latency": (("comm",), "link_latency"),
    "gpu.flops": (("compute",), "speed"),
    "host.input": ((), "rules"),  # the input pipeline's host work by name (retime/replay/presets/input_pipeline.toml)
    "batch": ((), "batch"),  # every GPU op's work at a batch this many times the measured one (retime/replay/batch.py)
}
PER_EDGE_KNOBS = ("host.input", "batch")  # knobs that set a factor per edge, not per edge class: no sweep axis
RULE_KNOBS = {"host.input": "input_pipeline.toml"}  # knobs that act through per-name rules, and their rule file
EDGE_CLASSES = ("cpu", "launch_call", "launch", "fixed", "h2d", "d2h", "d2d", "p2p", "memset", "compute",
                "membound", "comm")
# gpu_class values (retime/foundation/gpu.sql), as ReplayGraph.point_gpu_class codes them
GPU_CLASSES = ("gemm", "attention", "convolution", "reduction", "elementwise", "other", "memory", "communication")
# roof_type values (retime/foundation/hardware.sql), as ReplayGraph.point_roof codes them: each names
# the compute peak `<type>_tflops` of a GPU preset (retime/foundation/gpus.toml)
ROOF_TYPES = ("bf16", "fp8", "tf32", "fp32")
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
    # per edge class: a fixed time added to each sized transfer when its bandwidth is absolute
    link_latency_ns: dict[str, float] = field(default_factory=dict)
    # (regular expression searched in event names, factor on the matching events' own time)
    scale: list[tuple[str, float]] = field(default_factory=list)
    # the same, from knobs that act through per-name rules (host.input): knob -> its rules
    knob_rules: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    # retargeting onto another GPU: each kernel's time from the per-kernel performance model
    # (retime/replay/kernel_model.py) instead of the hbm / gpu.flops knobs
    kernel_model: "RetargetModel | None" = None
    # the batch the GPU work runs at, as a factor of the measured one (retime/replay/batch.py), and the
    # preset of the trace's GPU whose measured GEMMs time the new shapes (None: unknown)
    batch: float | None = None
    batch_gpu: str | None = None
    # the server whose links the trace's copies and a job's transfers share (retime/replay/links.py):
    # a scenario file's topology, [move], [link], ranks_per_server and [place], or the same flags
    topology: "Topology | None" = None
    # a job grown to this many ranks (retime/replay/grow.py: Store.replay(all_ranks=True, ranks=N), `--all-ranks --ranks N`): a
    # scenario file's ranks, copy_ranks and global_batch
    ranks: int | None = None
    copy_ranks: tuple[int, ...] = ()
    fixed_global_batch: bool = False

    @property
    def label(self) -> str:
        """The scenario in words, as the CLI prints it ("--to h200 (from h100) pcie.h2d=2x")."""
        return label_of(self.as_dict())

    def changed_knobs(self) -> list[str]:
        """The knobs set to something other than a factor of 1 (`pcie.h2d=1x` changes nothing)."""
        changed = []
        for knob, raw in self.settings.items():
            m = VALUE.match(raw)
            if not (m and (m[2] or "x").lower() == "x" and float(m[1]) == 1.0):
                changed.append(knob)
        return changed

    def class_arrays(self) -> tuple["np.ndarray", "np.ndarray", "np.ndarray", float]:
        """What passes.edge_lag reads, per edge class in EDGE_CLASSES order: multipliers, absolute
        bandwidths (0: none), link latencies, and the absolute launch latency (-1: none)."""
        import numpy as np
        return (np.array([self.multiplier[c] for c in EDGE_CLASSES], np.float64),
                np.array([self.bandwidth_bytes_per_ns.get(c, 0.0) for c in EDGE_CLASSES], np.float64),
                np.array([self.link_latency_ns.get(c, 0.0) for c in EDGE_CLASSES], np.float64),
                -1.0 if self.launch_latency_ns is None else float(self.launch_latency_ns))

    def as_dict(self) -> dict:
        """The scenario as a saved replay stores it: the knobs, and the duration rules under "scale"."""
        rules = {"scale": [{"match": p, "factor": f} for p, f in self.scale]} if self.scale else {}
        model = ({"from": self.kernel_model.source, "to": self.kernel_model.target} if self.kernel_model else {})
        return {**model, **self.settings, **rules}


def label_of(doc: dict) -> str:
    """A scenario in words from its stored form (Scenario.as_dict, as a saved replay keeps it):
    the retarget, the knobs, then the duration rules ("^host_prep$=2x", "remove Optimizer")."""
    model = [f"--to {doc['to']} (from {doc.get('from')})"] if doc.get("to") else []
    knobs = [f"{k}={v}" for k, v in doc.items() if k in KNOBS]
    rules = [f"{r['match']}={r['factor']:g}x" if r["factor"] else f"remove {r['match']}" for r in doc.get("scale") or []]
    return " ".join(model + knobs + rules) or "measured hardware"


def rule_text(pattern: str, factor: float) -> str:
    """A duration rule as the user wrote it: `--remove PATTERN` (factor 0) or `--scale PATTERN=Fx`."""
    return f"--remove {pattern}" if factor == 0 else f"--scale {pattern}={factor:g}x"


def assemble(settings: list[str] | dict[str, str] = (), scale: list[str] = (), remove: list[str] = (),
             doc: dict | None = None, to: str | None = None, source: str | None = None, *,
             topology: "Topology | str | None" = None, move: list[str] | dict[str, str] = (),
             link: list[str] | dict[str, str] = (), ranks_per_server: int | None = None,
             place: list[str] | dict[str, str] = ()) -> "Scenario":
    """One Scenario from a scenario file's contents (`doc`, read_file's), a retarget from GPU preset
    `source` to `to`, and explicit settings, in that order of precedence (later wins); the duration
    rules and removals of the file and the flags add up. A retarget times each kernel with the
    per-kernel performance model (retime/replay/kernel_model.py), not the class ratios alone. The server
    (`topology`, a preset key or a Topology) is the file's or the argument's, with the file's and
    then the arguments' moves, links, ranks a server and places applied (see `server`)."""
    doc = doc or EMPTY_FILE
    knobs = {}
    if to:  # the per-kernel model and the presets load only for a retarget
        from retime.replay import presets
        to, source = presets.preset_key(to), presets.preset_key(source)
        knobs = presets.retarget(source, to)
    knobs.update(doc["set"])
    knobs.update(settings.items() if isinstance(settings, dict) else [split_setting(s) for s in settings])
    chosen = parse(knobs, scale=[*doc["scale"], *scale], remove=[*doc["remove"], *remove])
    if to:
        from retime.replay import kernel_model
        chosen.kernel_model = kernel_model.retarget_model(source, to)
    chosen.topology = server(doc, topology, move, link, ranks_per_server, place)
    chosen.ranks, chosen.copy_ranks = doc.get("ranks"), tuple(doc.get("copy_ranks") or ())
    chosen.fixed_global_batch = doc.get("global_batch") == "fixed"
    return chosen


EMPTY_FILE = {"set": {}, "scale": [], "remove": [], "to": None, "from": None, "topology": None,
              "ranks_per_server": None, "move": {}, "link": {}, "place": {}, "ranks": None, "copy_ranks": [],
              "global_batch": None}


def server(doc: dict | None = None, topology: "Topology | str | None" = None, move: list[str] | dict[str, str] = (),
           link: list[str] | dict[str, str] = (), ranks_per_server: int | None = None,
           place: list[str] | dict[str, str] = ()) -> "Topology | None":
    """The server a scenario puts the trace on: `topology` (a preset key or a Topology) or the
    scenario file's (`doc`, read_file's), with the file's [move], [link], ranks_per_server and
    [place], then the arguments' (later wins) applied. None without a topology; ScenarioError
    for moves, links, ranks a server or places without one."""
    from retime.replay import topology as topo
    doc = doc or EMPTY_FILE
    pairs = {name: {**doc[name], **(given if isinstance(given, dict) else topo.split_pairs(given, f"--{name}"))}
             for name, given in (("move", move), ("link", link), ("place", place))}
    chosen = topology if topology is not None else doc["topology"]
    ranks_per_server = ranks_per_server or doc["ranks_per_server"]
    if chosen is None:
        if pairs["move"] or pairs["link"]:
            raise ScenarioError(f"{arg('move')} and {arg('link')} (a scenario file's [move] and [link]) need {arg('topology', 'NAME')}")
        if ranks_per_server:
            raise ScenarioError(f"{arg('ranks_per_server')} (a scenario file's ranks_per_server) needs {arg('topology', 'NAME')}")
        if pairs["place"]:
            raise ScenarioError(f"{arg('place')} (a scenario file's [place]) needs {arg('topology', 'NAME')}")
        return None
    base = chosen if isinstance(chosen, topo.Topology) else topo.load(chosen)
    return base.moved(pairs["move"]).with_links(pairs["link"]).with_ranks_per_server(ranks_per_server) \
        .placed(pairs["place"])


def parse(settings: list[str] | dict[str, str], scale: list[str] | list[tuple[str, float]] = (),
          remove: list[str] = ()) -> Scenario:
    """A scenario from `k=v` strings (or a dict), `REGEX=FACTOR` duration rules and removal patterns."""
    pairs = settings.items() if isinstance(settings, dict) else [split_setting(s) for s in settings]
    scenario = Scenario()
    for rule in scale:
        pattern, factor = _split_rule(rule) if isinstance(rule, str) else rule
        scenario.scale.append((_pattern(pattern), _factor(pattern, factor)))
    scenario.scale.extend((_pattern(p), 0.0) for p in remove)
    for knob, raw in pairs:
        if knob not in KNOBS:
            raise ScenarioError(f"unknown knob {knob!r}; knobs: {', '.join(KNOBS)}")
        classes, quantity = KNOBS[knob]
        m = VALUE.match(str(raw))
        if not m:
            raise ScenarioError(f"{knob}={raw}: expected a factor like 2x, a bandwidth like 64GB/s, or a time like 5us")
        number, unit = float(m[1]), (m[2] or "x").lower()
        if number <= 0 and not (quantity == "link_latency" and number == 0):
            raise ScenarioError(f"{knob}={raw}: must be positive")
        scenario.settings[knob] = str(raw)
        if quantity == "rules":
            if unit != "x":
                raise ScenarioError(f"{knob}={raw}: a factor like 2x (twice as fast)")
            scenario.knob_rules[knob] = [(pattern, 1.0 / number) for pattern in knob_patterns(knob)]
        elif quantity == "batch":
            if unit != "x":
                raise ScenarioError(f"{knob}={raw}: a factor of the measured batch like 2x (twice the batch) or 0.5x")
            scenario.batch = number if number != 1.0 else None
        elif unit == "x" and quantity != "link_latency":
            for c in classes:
                scenario.multiplier[c] = number if quantity == "latency" else 1.0 / number
        elif unit in BYTES_PER_NS and quantity == "bandwidth":
            for c in classes:
                scenario.bandwidth_bytes_per_ns[c] = number * BYTES_PER_NS[unit]
        elif unit in NS and quantity == "latency":
            scenario.launch_latency_ns = number * NS[unit]
        elif unit in NS and quantity == "link_latency":
            for c in classes:
                scenario.link_latency_ns[c] = number * NS[unit]
        else:
            raise ScenarioError(f"{knob}={raw}: a {quantity} knob takes "
                                + {"speed": "a factor (2x)", "bandwidth": "a factor (2x) or a bandwidth (64GB/s)",
                                   "latency": "a factor (0.5x) or a time (5us)",
                                   "link_latency": "a time (5us), added to each transfer at an absolute bandwidth"}[quantity])
    return scenario


@lru_cache(maxsize=None)
def knob_patterns(knob: str) -> tuple[str, ...]:
    """The event-name patterns a rule knob acts on, from its file in retime/replay/presets (read once: a
    sweep parses its knobs once a point)."""
    from importlib import resources
    text = resources.files("retime.replay").joinpath("presets", RULE_KNOBS[knob]).read_text()
    return tuple(rule["pattern"] for rule in tomllib.loads(text)["rule"])


def read_file(path: str | Path) -> dict:
    """A scenario file: hardware knobs, duration rules, removals and an optional retarget.

        to = "h200"                 # optional: retarget onto a preset or a part's specs ("maia200.toml",
                                    # beside this file), from = "h100" if not detected
        remove = ["Optimizer.step"] # patterns whose events become free (before the tables, as TOML wants)
        [set]
        "pcie.h2d" = "64GB/s"
        "cpu.speed" = "1.5x"
        [scale]                     # regular expression (searched in event names) = factor on duration
        "^ncclDevKernel" = "0.5x"
        # optional, for replay: a server whose links copies share (retime/replay/topology.py)
        # topology = "dgx-h100" and ranks_per_server = 4 (before the tables), then [move] gpu1 = "sw1"
        # and [link] sw0 = "2x", nic = "800Gb/s", and [place] 3 = "1/gpu5" (a job's rank 3 on server 1's GPU 5)
        # optional, for a job (--all-ranks): ranks = 64, copy_ranks = [0, 1, 2, 3], global_batch = "fixed"
        # (before the tables): the job grown to 64 ranks (retime/replay/grow.py)

    Returns {"set": {...}, "scale": [(pattern, factor)], "remove": [...], "to": ..., "from": ...,
    "topology": ..., "ranks_per_server": ..., "move": {...}, "link": {...}, "place": {...}, "ranks": ...,
    "copy_ranks": [...], "global_batch": ...}.
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not a TOML scenario file ({exc})") from None
    unknown = set(doc) - {"set", "scale", "remove", "to", "from", "topology", "ranks_per_server", "move", "link", "place",
                          "ranks", "copy_ranks", "global_batch"}
    if unknown:
        raise ScenarioError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; a scenario file has set, scale, "
                            "remove, to, from, topology, ranks_per_server, move, link, place, ranks, copy_ranks and "
                            "global_batch")
    tables = {"set": dict, "scale": dict, "remove": list, "to": str, "from": str, "topology": str, "ranks_per_server": int,
              "move": dict, "link": dict, "place": dict, "ranks": int, "copy_ranks": list, "global_batch": str}
    for key, kind in tables.items():
        if key in doc and not isinstance(doc[key], kind):
            raise ScenarioError(f"{path}: {key} must be a {'table' if kind is dict else kind.__name__}")
    if "ranks" in doc and doc["ranks"] < 1:
        raise ScenarioError(f"{path}: ranks must be 1 or more")
    if not all(isinstance(r, int) and not isinstance(r, bool) for r in doc.get("copy_ranks", [])):
        raise ScenarioError(f"{path}: copy_ranks must be a list of ranks ([0, 1, 2, 3])")
    if doc.get("global_batch", "per-rank") not in ("per-rank", "fixed"):
        raise ScenarioError(f"{path}: global_batch must be \"per-rank\" or \"fixed\"")
    return {"set": {k: str(v) for k, v in doc.get("set", {}).items()},
            "scale": [(k, v) for k, v in doc.get("scale", {}).items()],
            "remove": [str(p) for p in doc.get("remove", [])],
            "to": _part(path, doc.get("to")), "from": _part(path, doc.get("from")), "topology": doc.get("topology"),
            "ranks_per_server": doc.get("ranks_per_server"),
            "move": {k: str(v) for k, v in doc.get("move", {}).items()},
            "link": {k: str(v) for k, v in doc.get("link", {}).items()},
            "place": {str(k): str(v) for k, v in doc.get("place", {}).items()},
            "ranks": doc.get("ranks"), "copy_ranks": list(doc.get("copy_ranks", [])), "global_batch": doc.get("global_batch")}


def _part(scenario_file: Path, part: str | None) -> str | None:
    """A scenario file's `to` / `from`: a preset, or a file of a part's specs (PART.toml), found
    beside the scenario file where its path is relative."""
    if part and part.strip().lower().endswith(".toml") and not Path(part).is_absolute():
        return str(scenario_file.parent / part)
    return part


def _pattern(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ScenarioError(f"{pattern!r}: not a regular expression ({exc})") from None
    return pattern


def _factor(pattern: str, raw) -> float:
    m = VALUE.match(str(raw))
    if not m or (m[2] or "x").lower() != "x":
        raise ScenarioError(f"{pattern}={raw}: a duration rule takes a factor like 2x (twice as long) or 0 (free)")
    return float(m[1])


def _split_rule(item: str) -> tuple[str, str]:
    pattern, sep, factor = item.rpartition("=")
    if not sep or not pattern:
        raise ScenarioError(f"{item!r}: expected REGEX=FACTOR, e.g. 'host_prep=2x' or '^nccl=0.5x'")
    return pattern, factor


def split_setting(item: str) -> tuple[str, str]:
    """"knob=value" as (knob, value); ScenarioError without an "="."""
    key, sep, value = item.partition("=")
    if not sep:
        raise ScenarioError(f"{item!r}: expected knob=value, e.g. pcie.h2d=2x")
    return key.strip(), value.strip()
