"""What a scenario's knobs and rules reach on a trace's graph, for the warnings and the error bar:
the knobs that change nothing here (no work of theirs, or no byte counts for an absolute
bandwidth), the rules that match no event, and the rules whose events launched GPU work they do not
time."""
from __future__ import annotations

import duckdb
import numpy as np

from retime.replay import batch
from retime.replay.graph import PACKAGE, ReplayGraph
from retime.replay.scenario import EDGE_CLASSES, KNOBS, Scenario, rule_text
from retime.core.sqlfiles import load_sql


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
    return [knob for knob, _, idle in knob_reach(graph, scenario) if idle]


def knob_reach(graph: ReplayGraph, scenario: Scenario):
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
