"""Replaying a trace over its graph (retime/replay/graph.py): turn a scenario into edge lags (numpy),
re-time every point (numba) and summarize measured against predicted. What the scenario's knobs
reach on the trace is retime/replay/reach.py's; writing a replay as a trace, save.py's."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from retime import foundation
from retime.replay import batch, fidelity, kernel_model, passes
from retime.replay import links as link_model
from retime.replay.graph import ReplayGraph
from retime.replay.link_report import LinkReport, warnings as link_warnings
from retime.replay.placement import LinkModel
from retime.replay.reach import knob_reach, runs_on_host, unmatched_rules
from retime.replay.scenario import EDGE_CLASSES, Scenario
from retime.replay.spans import GPU_OP_CLASSES, event_points, merged_intervals, own_time_edges

if TYPE_CHECKING:
    from retime.replay.compare import Comparison

STEP_NAME = re.compile(foundation.STEP_PATTERN)


@dataclass
class StepTime:
    """One ProfilerStep window, measured and as the replay predicts it."""
    name: str
    measured_ns: int
    predicted_ns: int


@dataclass
class ReplayResult:
    """A replay's answer: the trace's measured and predicted span and steps, and what bounds the prediction."""
    trace_id: int
    scenario: str
    measured_ns: int                   # span: first to last event on CPU threads and GPU streams
    predicted_ns: int
    critical_path_ns: dict[str, int]   # time on the predicted critical path per edge class
    steps: list[StepTime] = field(default_factory=list)  # ProfilerStep windows, in order
    saved_trace_id: int | None = None  # the replay written back to the store (--save)
    error_bar: "fidelity.ErrorBar | None" = None  # how far predictions of this kind land from measured runs
    warnings: list[str] = field(default_factory=list)  # what in the scenario changed nothing (a rule matching no event)
    notes: list[str] = field(default_factory=list)     # how the scenario moved the work (batch=: by shape, by rule)
    links: list = field(default_factory=list)  # with a topology: each link direction's use (retime/replay/links.py LinkUse)
    link_report: "LinkReport | None" = None  # with a topology: every transfer and the links it crossed
    against: "Comparison | None" = None  # Store.replay(against=): the error against a measured trace of the change

    @property
    def speedup(self) -> float:
        """Measured span over predicted span (above 1: the scenario is faster)."""
        return self.measured_ns / self.predicted_ns if self.predicted_ns else float("nan")

    @property
    def bound_by(self) -> str:
        """The edge class with the largest share of the predicted critical path ("fixed" when none has one)."""
        shares = {k: v for k, v in self.critical_path_ns.items() if k != "fixed"}
        return max(shares, key=shares.get) if shares and max(shares.values()) > 0 else "fixed"

    def median_step(self) -> tuple[int, int] | None:
        """The median step, measured and predicted (what --against, bench/fidelity.py and the error
        bars compare); None without steps."""
        if not self.steps:
            return None
        return (int(np.median([s.measured_ns for s in self.steps])), int(np.median([s.predicted_ns for s in self.steps])))

    def links_doc(self, bucket_ns: int | None = None) -> dict:
        """The links in JSON: each link direction's use and demand, the transfers held back, and with
        `bucket_ns` the load in time buckets (empty without a topology)."""
        report = self.link_report
        if report is None:
            return {"links": []}
        doc = {"links": [vars(u) for u in report.uses], "link_demand": report.demand().to_dicts(),
               "collided": report.collided().to_dicts()}
        if bucket_ns is not None:
            doc["link_load"] = report.load(bucket_ns).to_dicts()
        return doc

    def to_dict(self, bucket_ns: int | None = None) -> dict:
        """The answer as JSON-ready values (what `retime replay --format json` prints), its links'
        load in buckets of `bucket_ns` where given."""
        return {"trace_id": self.trace_id, "scenario": self.scenario, "measured_ns": self.measured_ns,
                "predicted_ns": self.predicted_ns, "speedup": round(self.speedup, 4), "bound_by": self.bound_by,
                "critical_path_ns": self.critical_path_ns,
                "steps": [{"step": s.name, "measured_ns": s.measured_ns, "predicted_ns": s.predicted_ns} for s in self.steps],
                "saved_trace_id": self.saved_trace_id,
                "error_bar": self.error_bar.as_dict() if self.error_bar else None,
                "warnings": self.warnings, "notes": self.notes, "against": self.against.as_dict() if self.against is not None else None,
                **self.links_doc(bucket_ns)}


def edge_lags(graph: ReplayGraph, scenario: Scenario) -> np.ndarray:
    """Every edge's lag under the scenario (passes.edge_lag, the formula sweeps use too)."""
    multiplier, bandwidth, link_latency, launch_ns = scenario.class_arrays()
    return passes.edge_lags(graph.base_lag, graph.edge_class, graph.bytes, graph.offset,
                             edge_factors(graph, scenario), multiplier, bandwidth, link_latency, launch_ns,
                             EDGE_CLASSES.index("launch"))


def edge_factors(graph: ReplayGraph, scenario: Scenario) -> np.ndarray:
    """float64[m]: what each edge's lag is multiplied by: the per-kernel performance model where the
    scenario retargets the GPU (kernel_model), times the per-name rules (1 where none applies)."""
    factor = np.ones(len(graph.src))
    if scenario.kernel_model is not None:
        gpu_ops = [EDGE_CLASSES.index(c) for c in GPU_OP_CLASSES]
        multiplier, bandwidth = scenario.class_arrays()[:2]
        factor *= kernel_model.edge_factors(graph, scenario.kernel_model, multiplier, np.array(gpu_ops), bandwidth)
    if scenario.batch is not None:
        factor *= batch.edge_factors(graph, scenario.batch, scenario.batch_gpu)
    for pattern, f in scenario.scale + [rule for rules in scenario.knob_rules.values() for rule in rules]:
        factor[own_time_edges(graph, pattern)] *= f
    return factor


def retimed(graph: ReplayGraph, scenario: Scenario, links: "LinkModel | None" = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(new point times relative to the origin, binding edge per point, edge lags) under the
    scenario, with copies sharing the links of a topology where `links` places the trace on one."""
    return retimed_on_links(graph, scenario, links)[:3]


def retimed_on_links(graph: ReplayGraph, scenario: Scenario, links: "LinkModel | None" = None):
    """retimed's answer and what crossed the topology's links (None without a topology)."""
    lag = edge_lags(graph, scenario)
    if links is not None:
        return link_model.retimed(graph, lag, links)
    new, binding = passes.retime(graph.measured, graph.indptr, graph.src, lag)
    return new, binding, lag, None


def label_with(scenario: Scenario, links: "LinkModel | None") -> str:
    return scenario.label if links is None else f"{scenario.label} {links.label}".strip()


def replay(graph: ReplayGraph, scenario: Scenario, window: str | None = None,
           links: "LinkModel | None" = None, timing: tuple | None = None) -> ReplayResult:
    """Re-time the graph under the scenario; `window` (a regular expression over annotation names)
    picks the steps reported, ProfilerStep#N by default; `links` puts the trace on a topology;
    `timing`: retimed_on_links' answer when the caller has it already (to save it too)."""
    if len(graph.measured) == 0:
        return ReplayResult(graph.trace_id, scenario.label, 0, 0, {}, error_bar=fidelity.error_bar(scenario))
    new, binding, lag, report = timing if timing is not None else retimed_on_links(graph, scenario, links)
    result = summarize(graph, graph.trace_id, label_with(scenario, links), new, binding, lag, window=window)
    reach = list(knob_reach(graph, scenario))  # once: the bar leaves out what changes nothing, the warnings say it
    result.error_bar = fidelity.quoted(scenario, new, graph.measured, report, [k for k, _, idle in reach if idle],
                                       runs_on_host(graph))
    if report is not None:
        result.links, result.link_report = report.uses, report
    result.warnings = link_warnings(links, result.links) if links is not None else []
    result.warnings += unmatched_rules(graph, scenario) + [line for _, line, _ in reach]
    if scenario.batch is not None:
        result.notes.append(batch.shares(graph, scenario.batch_gpu).text(scenario.batch))
    return result


def summarize(graph: ReplayGraph, trace_id: int, label: str, new: np.ndarray, binding: np.ndarray,
              lag: np.ndarray, points: np.ndarray | None = None, window: str | None = None,
              windows: tuple[np.ndarray, np.ndarray] | None = None) -> ReplayResult:
    """Measured against predicted for `points` (default all; a job replay passes one rank's): their
    span, the critical path into the latest of them by edge class, and the steps that start in them
    (`windows`: step_windows(graph, window), found once for all of a job's ranks)."""
    if len(new) == 0 or (points is not None and len(points) == 0):
        return ReplayResult(trace_id, label, 0, 0, {})
    # every point: the arrays themselves (a fancy index of all of them would copy each)
    mine = slice(None) if points is None else points
    last = int(np.argmax(new)) if points is None else int(points[np.argmax(new[points])])
    path, _ = passes.critical_path_edges(binding, graph.src, last)
    per_class = np.bincount(graph.edge_class[path], weights=lag[path], minlength=len(EDGE_CLASSES))
    starts, ends = windows if windows is not None else step_windows(graph, window)
    if points is not None:
        keep = np.isin(starts, points)
        starts, ends = starts[keep], ends[keep]
    steps = [StepTime(graph.names[graph.point_name[s]], int(m), int(p)) for s, m, p in
             zip(starts.tolist(), (graph.measured[ends] - graph.measured[starts]).tolist(),
                 (new[ends] - new[starts]).tolist())]
    return ReplayResult(
        trace_id=trace_id, scenario=label,
        measured_ns=int(graph.measured[mine].max() - graph.measured[mine].min()),
        predicted_ns=int(new[mine].max() - new[mine].min()),
        critical_path_ns={c: int(v) for c, v in zip(EDGE_CLASSES, per_class) if v},
        steps=steps,
    )


def gpu_busy_ns(graph: ReplayGraph, times: np.ndarray) -> int:
    """Time at least one GPU op ran (overlaps counted once), at the given point times (measured or replayed)."""
    starts, ends = event_points(graph, graph.point_is_gpu)
    if len(starts) == 0:
        return 0
    island_lo, island_hi = merged_intervals(times[starts], times[ends])
    return int((island_hi - island_lo).sum())


def step_windows(graph: ReplayGraph, window: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(start point, end point) of every ProfilerStep window (or every event matching `window`, a
    regular expression) on a CPU thread that has a length, in measured order: the windows of the
    step queries (annotation_windows, retime/foundation/host.sql)."""
    rx = STEP_NAME if window is None else re.compile(window)
    is_step = np.fromiter((rx.search(n) is not None for n in graph.names), bool, len(graph.names))
    if not is_step.any():
        return np.empty(0, np.int64), np.empty(0, np.int64)
    starts, ends = event_points(graph, is_step[graph.point_name] & ~graph.point_is_gpu)
    lasting = graph.measured[ends] > graph.measured[starts]
    starts, ends = starts[lasting], ends[lasting]
    order = np.argsort(starts, kind="stable")
    return starts[order], ends[order]
