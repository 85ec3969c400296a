"""A sweep: many scenarios of one trace re-timed together (one graph, one kernel pass per batch of
scenarios), and a ranking of the knobs by how much they move the predicted time.

The grid is the cartesian product of each knob's values (`pcie.h2d=1x,2x,4x` x `cpu.speed=1x,2x`);
a base scenario (`--set`, `--scale`, a scenario file) holds for every point of the grid. On a
topology (retime/replay/links.py) the transfers share links, which takes a fixed point per scenario, so
the points are re-timed one by one; the grid can then vary links too (`link.nic=100Gb/s,400Gb/s`,
`link.sw0=1x,2x`, `link.pcie.gen=5,6`) and where nodes hang (`move.nic3=sw1,sw0`).
"""
from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from retime.core.errors import arg, ScenarioError
from retime.core.progress import Progress, Steps
from retime.replay import engine, fidelity, passes, reach
from retime.replay.graph import ReplayGraph
from retime.replay.scenario import EDGE_CLASSES, PER_EDGE_KNOBS, Scenario, parse

MEMORY_BUDGET_BYTES = 512 << 20  # new times of all points for a batch of scenarios, all threads together
MAX_SCENARIOS = 100_000
LINK_AXIS = "link."  # a grid axis over a topology's link (`link.sw0`, `link.nic`, `link.pcie.gen`)
MOVE_AXIS = "move."  # a grid axis over where a topology's node hangs (`move.nic3=sw0,sw1`)
TOPOLOGY_AXES = (LINK_AXIS, MOVE_AXIS)


@dataclass
class SweepResult:
    """A sweep's answer: a row per scenario of the grid, and the knobs ranked by their effect."""
    trace_id: int
    measured_ns: int              # span: first to last event on CPU threads and GPU streams
    measured_step_ns: int | None  # median ProfilerStep window, None without steps
    scenarios: pl.DataFrame       # one row per grid point: the knobs' values, predicted_span_ns, predicted_step_ns
                                  # (median ProfilerStep window), speedup of the span
    sensitivity: pl.DataFrame     # one row per knob, the knob that moves the predicted time most first


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """{"pcie.h2d": ["1x", "2x"]} from ["pcie.h2d=1x,2x"]; every value is checked as `--set` checks it."""
    grid: dict[str, list[str]] = {}
    for item in items:
        knob, sep, values = item.partition("=")
        knob = knob.strip()
        if not sep or not values.strip():
            raise ScenarioError(f"{item!r}: expected KNOB=V1,V2,..., e.g. pcie.h2d=1x,2x,4x")
        if knob in grid:
            raise ScenarioError(f"{knob} is given twice in {arg('grid')}; give all its values at once")
        grid[knob] = [v.strip() for v in values.split(",") if v.strip()]
        if knob.startswith(TOPOLOGY_AXES):  # checked against the topology it is swept on
            continue
        for value in grid[knob]:
            parse({knob: value})  # unknown knobs and bad values fail here, with the usual message
    size = int(np.prod([len(v) for v in grid.values()])) if grid else 0
    if not grid:
        raise ScenarioError(f"a sweep needs a grid ({arg('grid', 'KNOB=V1,V2,...')})")
    if size > MAX_SCENARIOS:
        raise ScenarioError(f"the grid has {size:,} scenarios; at most {MAX_SCENARIOS:,}")
    return grid


def grid_scenarios(grid: dict[str, list[str]], base: Scenario) -> list[Scenario]:
    """Every point of the grid on top of the base scenario (a grid knob overrides the base's); a
    topology's axes (links, moves) are left to grid_topology."""
    knobs = [k for k in grid if not k.startswith(TOPOLOGY_AXES)]
    for knob in knobs:
        if knob in PER_EDGE_KNOBS:  # the batched kernel shares one per-edge factor array across the grid
            raise ScenarioError(f"{knob} sets a factor per GPU op or event and cannot be a sweep axis; set it in the base "
                                f"scenario ({arg('settings', f'{knob}=2x')}) or replay each value")
    axes = list(grid)
    return [replace(parse({**base.settings, **{k: v for k, v in zip(axes, values) if k in knobs}}, scale=base.scale),
                    kernel_model=base.kernel_model)
            for values in itertools.product(*(grid[k] for k in axes))]


def grid_topology(grid: dict[str, list[str]]) -> list[tuple[dict[str, str], dict[str, str]]]:
    """Per point of the grid (grid_scenarios' order), the (moves, link settings) its topology axes give."""
    axes = list(grid)
    return [tuple({k[len(prefix):]: v for k, v in zip(axes, values) if k.startswith(prefix)}
                  for prefix in (MOVE_AXIS, LINK_AXIS))
            for values in itertools.product(*(grid[k] for k in axes))]


def sweep(graph: ReplayGraph, grid: dict[str, list[str]], base: Scenario, threads: int | None = None,
          progress: Progress | None = None, links=None) -> SweepResult:
    """Every scenario of the grid re-timed in batches over the graph (one by one where `links`, a
    retime/replay/links.py LinkModel, puts the graph on a topology); `progress` hears (task, scenarios
    done, scenarios in all) after each batch."""
    chosen = grid_scenarios(grid, base)
    if links is None and any(k.startswith(TOPOLOGY_AXES) for k in grid):
        raise ScenarioError(f"{', '.join(k for k in grid if k.startswith(TOPOLOGY_AXES))}: link and move axes need "
                            f"a topology ({arg('topology', 'NAME')})")
    if links is not None:
        return _on_links(graph, grid, chosen, links, progress)
    rows = [s.class_arrays() for s in chosen]
    multiplier, bandwidth, link_latency = (np.stack([r[i] for r in rows]) for i in range(3))
    launch = np.array([r[3] for r in rows], np.float64)
    factor = engine.edge_factors(graph, base)
    starts, ends = engine.step_windows(graph)
    watch = np.concatenate([starts, ends]).astype(np.int64)
    n = max(len(graph.measured), 1)
    threads = max(1, min(threads or os.cpu_count() or 1, len(chosen)))
    batch = int(max(1, min(64, MEMORY_BUDGET_BYTES // threads // (8 * n))))

    def run(lo: int):
        return passes.retime_many(graph.measured, graph.indptr, graph.src, graph.base_lag, graph.edge_class,
                                   graph.bytes, graph.offset, factor, multiplier[lo:lo + batch],
                                   bandwidth[lo:lo + batch], link_latency[lo:lo + batch], launch[lo:lo + batch],
                                   EDGE_CLASSES.index("launch"), watch)

    step = Steps(progress, f"sweeping {len(chosen)} scenarios of trace {graph.trace_id}", len(chosen))
    with ThreadPoolExecutor(threads) as pool:
        pending = {pool.submit(run, lo): lo for lo in range(0, len(chosen), batch)}
        for done in as_completed(pending):  # in the order they finish: the bar moves as they do
            step(min(batch, len(chosen) - pending[done]))
        parts = [future.result() for future in pending]  # submission order: scenario order
    span = np.concatenate([p[0] for p in parts]) if len(graph.measured) else np.zeros(len(chosen), np.int64)
    watched = np.concatenate([p[1] for p in parts]) if len(graph.measured) else np.zeros((len(chosen), 0), np.int64)
    steps = watched[:, len(starts):] - watched[:, :len(starts)]
    moving = moves_any(graph, factor, multiplier, bandwidth, launch)
    idle = idle_knobs_of(graph)
    host_run = reach.runs_on_host(graph)
    bars = [fidelity.error_bar(s, idle(s), host_run) if moves else fidelity.NO_EFFECT for s, moves in zip(chosen, moving)]
    return _result(graph, grid, chosen, span, steps, starts, ends, bars)


def idle_knobs_of(graph: ReplayGraph):
    """A function from a scenario to its knobs that change nothing on the graph (reach.idle_knob_names),
    each distinct knob and value looked at once for the whole sweep."""
    seen: dict[tuple[str, str], bool] = {}

    def idle(scenario: Scenario) -> list[str]:
        for knob in scenario.changed_knobs():
            key = (knob, scenario.settings[knob])
            if key not in seen:
                seen[key] = bool(reach.idle_knob_names(graph, parse({knob: key[1]})))
        return [k for k in scenario.changed_knobs() if seen[(k, scenario.settings[k])]]
    return idle


def moves_any(graph: ReplayGraph, factor: np.ndarray, multiplier: np.ndarray, bandwidth: np.ndarray,
              launch: np.ndarray) -> np.ndarray:
    """bool[points]: whether a point's scenario can move any time of the graph: a per-edge factor
    other than 1, a class multiplier other than 1 or an absolute bandwidth on a class the graph has
    (the bandwidth only where its edges record bytes), or an absolute launch latency. A point that
    moves nothing replays the trace exactly (identity), and quotes no error bar."""
    present = np.zeros(len(EDGE_CLASSES), bool)
    present[np.unique(graph.edge_class)] = True
    sized = np.zeros(len(EDGE_CLASSES), bool)
    sized[np.unique(graph.edge_class[graph.bytes >= 0])] = True
    launch_present = present[EDGE_CLASSES.index("launch")] or present[EDGE_CLASSES.index("launch_call")]
    by_factor = bool((factor != 1.0).any())
    return (by_factor | ((multiplier != 1.0) & present).any(axis=1) | ((bandwidth > 0) & sized).any(axis=1)
            | ((launch >= 0) & launch_present))


def _result(graph: ReplayGraph, grid: dict[str, list[str]], chosen: list[Scenario], span: np.ndarray,
            steps: np.ndarray, starts: np.ndarray, ends: np.ndarray, bars: list | None = None) -> SweepResult:
    """The sweep's table (a row per point: its values, span, median step, speedup, error bar) and
    the knobs ranked by effect."""
    measured_ns = int(graph.measured.max() - graph.measured.min()) if len(graph.measured) else 0
    measured_step = int(np.median(graph.measured[ends] - graph.measured[starts])) if len(starts) else None

    knobs = list(grid)
    columns = {k: [values[i] for values in itertools.product(*(grid[k] for k in knobs))] for i, k in enumerate(knobs)}
    table = pl.DataFrame({**columns, "predicted_span_ns": span,
                          "predicted_step_ns": np.median(steps, axis=1).astype(np.int64) if len(starts) else None})
    table = table.with_columns(speedup=(measured_ns / pl.col("predicted_span_ns")).round(4),
                               expected_error_pct=pl.Series([b.pct for b in bars or map(fidelity.error_bar, chosen)],
                                                         dtype=pl.Float64))
    return SweepResult(graph.trace_id, measured_ns, measured_step, table, sensitivity(table, knobs, measured_ns))


def _on_links(graph: ReplayGraph, grid: dict[str, list[str]], chosen: list[Scenario], links,
              progress: Progress | None) -> SweepResult:
    """The sweep on a topology: each point re-timed with its transfers sharing the links (its move
    and link axes applied to the topology), one after another."""
    topologies: dict[tuple, object] = {}  # one placed model per distinct (moves, links); every value checked first
    models = []
    for moves, link_values in grid_topology(grid):
        key = (tuple(sorted(moves.items())), tuple(sorted(link_values.items())))
        if key not in topologies:
            topologies[key] = (replace(links, topology=links.topology.moved(moves).with_links(link_values))
                               if moves or link_values else links)
        models.append(topologies[key])
    starts, ends = engine.step_windows(graph)
    step = Steps(progress, f"sweeping {len(chosen)} scenarios of trace {graph.trace_id} on {links.topology.key}",
                 len(chosen))
    span = np.zeros(len(chosen), np.int64)
    steps = np.zeros((len(chosen), len(starts)), np.int64)
    bars = []
    idle = idle_knobs_of(graph)
    for i, (scenario, model) in enumerate(zip(chosen, models)):
        new, _, _, report = engine.retimed_on_links(graph, scenario, model)
        if len(new):
            span[i] = new.max() - new.min()
            steps[i] = new[ends] - new[starts]
        bars.append(fidelity.quoted(scenario, new, graph.measured, report, idle(scenario), reach.runs_on_host(graph))
                    if len(new) else fidelity.error_bar(scenario))
        step(1)
    return _result(graph, grid, chosen, span, steps, starts, ends, bars)


def sensitivity(table: pl.DataFrame, knobs: list[str], measured_ns: int) -> pl.DataFrame:
    """Per knob, the predicted span averaged over the other knobs at each of its values (its main
    effect); spread_pct is the gap between its best and worst value, as a share of the measured span."""
    rows = []
    for knob in knobs:
        means = table.group_by(knob, maintain_order=True).agg(pl.col("predicted_span_ns").mean().alias("mean_ns"))
        best, worst = means.sort("mean_ns").row(0), means.sort("mean_ns").row(-1)
        rows.append({"knob": knob, "values": ",".join(means[knob].to_list()), "best_value": best[0],
                     "best_mean_span_ns": int(best[1]), "worst_value": worst[0], "worst_mean_span_ns": int(worst[1]),
                     "spread_pct": round(100 * (worst[1] - best[1]) / measured_ns, 2) if measured_ns else 0.0})
    if not rows:  # no axis of its own (a sweep of grown jobs along their ranks only)
        return pl.DataFrame()
    return pl.DataFrame(rows).sort("spread_pct", descending=True).with_row_index("rank", offset=1)
