"""Replaying a trace over its graph (retime/replay/graph.py): turn a scenario into edge lags (numpy),
re-time every point (numba), summarize measured against predicted, and save a replay as a trace."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb
import numpy as np
from retime import foundation
from retime.replay import batch, fidelity, kernel_model, passes, presets
from retime.replay import links as link_model
from retime.replay.links import LinkModel
from retime.replay.graph import PACKAGE, ReplayGraph
from retime.replay.scenario import EDGE_CLASSES, KNOBS, Scenario, rule_text
from retime.replay.spans import GPU_OP_CLASSES, event_points, merged_intervals, own_time_edges

from retime.store.derived import derive_trace
from retime.sqlfiles import load_sql, run_script, set_variables
from retime.store import transaction

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
    link_report: "link_model.LinkReport | None" = None  # with a topology: every transfer and the links it crossed
    against: dict | None = None  # Store.replay(against=): the error against a measured trace of the change (compare.py)

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
                "warnings": self.warnings, "notes": self.notes, "against": self.against, **self.links_doc(bucket_ns)}


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
    reach = list(_knob_reach(graph, scenario))  # once: the bar leaves out what changes nothing, the warnings say it
    result.error_bar = fidelity.quoted(scenario, new, graph.measured, report, [k for k, _, idle in reach if idle],
                                       runs_on_host(graph))
    if report is not None:
        result.links, result.link_report = report.uses, report
    result.warnings = link_model.warnings(links, result.links) if links is not None else []
    result.warnings += unmatched_rules(graph, scenario) + [line for _, line, _ in reach]
    if scenario.batch is not None:
        result.notes.append(batch.shares(graph, scenario.batch_gpu).text(scenario.batch))
    return result


# what a knob's edges are, for saying that a trace has none
KNOB_WORK = {"cpu.speed": "host work", "launch.latency": "launch calls", "pcie.h2d": "host-to-device copies",
             "pcie.d2h": "device-to-host copies", "hbm": "memory-bound GPU work (copies on the device, memsets, "
             "memory-bound kernels)", "nvlink": "peer-to-peer copies", "net": "GPU collectives",
             "net.latency": "GPU collectives", "gpu.flops": "compute-bound kernels",
             "host.input": "input pipeline work (DataLoader __next__ spans, pinning; retime/replay/presets/input_pipeline.toml)",
             "batch": "GPU ops nor host operators"}


def runs_on_host(graph: ReplayGraph) -> bool:
    """The trace has no GPU ops (the CPU build of PyTorch): its host operators are its work."""
    return not graph.point_is_gpu.any()


def idle_knob_names(graph: ReplayGraph, scenario: Scenario) -> list[str]:
    """The changed knobs that change nothing on this trace (_knob_reach's "changes nothing" lines):
    the error bar leaves them out, as they add no error."""
    return [knob for knob, _, idle in _knob_reach(graph, scenario) if idle]


def _knob_reach(graph: ReplayGraph, scenario: Scenario):
    """(knob, line, changes nothing) for each changed knob that cannot act on all of its work here:
    none of its edges are in the graph (net= on a trace whose collectives run on the CPU, as gloo's
    do), or it sets an absolute bandwidth and none (or only some) of its ops record their bytes, so
    the rest keep their time. Not for --to, whose knobs are the presets' ratios, set whether the
    trace has such work or not."""
    knobs = [] if scenario.kernel_model is not None else scenario.changed_knobs()
    per_class = np.bincount(graph.edge_class, minlength=len(EDGE_CLASSES)) if knobs else None
    for knob in knobs:
        classes, _ = KNOBS[knob]
        codes = [EDGE_CLASSES.index(c) for c in classes]
        value = scenario.settings[knob]
        nothing = f"{knob}={value} changes nothing: trace {graph.trace_id} has no {KNOB_WORK[knob]}"
        if knob in scenario.knob_rules:
            if not any(graph.name_mask(pattern).any() for pattern, _ in scenario.knob_rules[knob]):
                yield knob, nothing, True
            continue
        if knob == "batch":
            if not len(batch.duration_edges(graph)) and not len(batch.host_work_edges(graph)):
                yield knob, nothing, True
            continue
        if not per_class[codes].sum():
            yield knob, nothing, True
            continue
        if any(c in scenario.bandwidth_bytes_per_ns for c in classes):
            mine = np.isin(graph.edge_class, codes)  # only for an absolute bandwidth: which edges know their bytes
            sized = int((graph.bytes[mine] >= 0).sum())
            if sized == 0:
                yield knob, (f"{knob}={value} changes nothing: trace {graph.trace_id}'s {KNOB_WORK[knob]} record no "
                             "byte counts, so an absolute bandwidth cannot time them; give a factor (e.g. 2x) instead"), True
            elif sized < int(mine.sum()):
                yield knob, (f"{knob}={value} times {sized} of {int(mine.sum())} {KNOB_WORK[knob]} of trace "
                             f"{graph.trace_id}; the rest record no byte counts and keep their measured time"), False


def launched_by_rules(con: duckdb.DuckDBPyConnection, trace_id: int, scenario: Scenario) -> list[str]:
    """A line for each --scale / --remove rule whose events launched GPU ops no rule names: the rule
    times its events' own host time, and their kernels keep theirs (rule_launches.sql)."""
    lines = []
    patterns = [p for p, _ in scenario.scale]
    for pattern, factor in scenario.scale:
        gpu_ops, gpu_ns, names = con.execute(load_sql(PACKAGE, "rule_launches"),
                                             {"trace_id": trace_id, "pattern": pattern, "patterns": patterns}).fetchall()[0]
        if gpu_ops:
            lines.append(f"{rule_text(pattern, factor)} times the host time of its events only: the {gpu_ops} GPU ops "
                         f"they launched ({gpu_ns / 1e6:.3f} ms; {', '.join(names or [])}) keep theirs; name them in a "
                         "rule too to change them")
    return lines


def unmatched_rules(graph: ReplayGraph, scenario: Scenario) -> list[str]:
    """A line for each --scale / --remove rule whose pattern names no event with own time in the
    trace: such a rule changes nothing, and a speedup of 1.000x would otherwise look like an answer."""
    lines = []
    for pattern, factor in scenario.scale:
        if not graph.name_mask(pattern).any():
            lines.append(f"{rule_text(pattern, factor)} matches no event of trace {graph.trace_id}: it changes nothing "
                         "(patterns are regular expressions searched in event names)")
    return lines


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


def save(con: duckdb.DuckDBPyConnection, graph: ReplayGraph, scenario: Scenario, new_trace_id: int,
         links: "LinkModel | None" = None, timing: tuple | None = None) -> None:
    """Write the replay as trace new_trace_id (one transaction), so every query works on it;
    `timing`: retimed_on_links' answer, when the replay just computed it."""
    new, binding, _, report = timing if timing is not None else retimed_on_links(graph, scenario, links)
    last = int(np.argmax(new)) if len(new) else -1  # a trace with nothing to replay has no path
    with transaction(con):
        write_replay(con, graph, scenario, links, new, binding, report, graph.trace_id, new_trace_id, last)


def write_replay(con: duckdb.DuckDBPyConnection, graph: ReplayGraph, scenario: Scenario, links: "LinkModel | None",
                 new: np.ndarray, binding: np.ndarray, report, parent_id: int, new_trace_id: int, last: int,
                 mask: np.ndarray | None = None, event_base: int = 0, job: str | None = None,
                 extra: dict | None = None, error_bar: "fidelity.ErrorBar | None" = None) -> None:
    """Inside the caller's transaction, write trace parent_id's replay as trace new_trace_id: the
    events of the points `mask` selects (default: all; their ids less event_base, as a job graph
    keeps ranks apart) at their new times, the predicted critical path that ends at point `last`
    (its edges between those events), the link report's tables (None: none), and under job `job`
    (None: the parent's). `extra` joins the scenario record (a grown job's growth); `error_bar`,
    where given, is the one recorded instead of the scenario's."""
    import orjson
    import pyarrow as pa
    starts, ends = event_points(graph, mask)
    times = pa.table({"event_id": graph.point_event[starts] - event_base, "start_ns": new[starts], "end_ns": new[ends]})
    target = presets.presets()[scenario.kernel_model.target]["name"] if scenario.kernel_model else None
    set_variables(con, trace_id=new_trace_id, parent_id=parent_id, origin_ns=graph.origin_ns, job_name=job,
                  scenario=orjson.dumps({**scenario.as_dict(), **({"topology": links.label} if links else {}),
                                         **(extra or {}),
                                         "error_bar": (error_bar or fidelity.quoted(
                                             scenario, new, graph.measured, report,
                                             idle_knob_names(graph, scenario), runs_on_host(graph))).as_dict()}).decode(),
                  target_gpu_name=target)
    # the predicted critical path, as edges between events: kind says which of their points it
    # links ('critical_se': the source event's start to the destination event's end)
    path, path_dst = passes.critical_path_edges(binding, graph.src, last)
    path_src = graph.src[path]
    if mask is not None:
        inside = mask[path_src] & mask[path_dst]
        path_src, path_dst = path_src[inside], path_dst[inside]
    point_letter = np.where(graph.point_is_end, "e", "s")
    critical = pa.table({"src_event_id": graph.point_event[path_src] - event_base,
                         "dst_event_id": graph.point_event[path_dst] - event_base,
                         "kind": np.char.add(np.char.add("critical_", point_letter[path_src]), point_letter[path_dst])})
    tables = {"replay_times": times, "replay_critical": critical}
    if report is not None:
        tables.update(saved_transfers=report.transfers.to_arrow(), saved_transfer_links=report.transfer_links.to_arrow(),
                      saved_link_capacity=report.capacity.to_arrow())
    for name, table in tables.items():
        con.register(name, table)
    try:
        run_script(con, PACKAGE, "save_replay")
        if report is not None:
            run_script(con, PACKAGE, "save_replay_links")
        derive_trace(con, new_trace_id)
    finally:
        for name in tables:
            con.unregister(name)
