"""A trace's replay graph: its points (the start and end of each event) and the edges between them
(what each waited for, and how long), kept as flat arrays that the re-time kernels
(retime/replay/passes.py) read. The graph is defined in SQL (GRAPH_SCRIPTS, retime/replay/sql/graph_*.sql;
graph_tables, build_graph_sql) and built from arrays as that SQL defines it (build_graph,
retime/replay/graph_build.py), which tests hold to the SQL's graph on every real trace.

Edges are held as CSR over their destination point (`indptr`, `src`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import duckdb
import numpy as np
from retime import foundation
from retime.replay import graph_build, kernel_db, passes, presets
from retime.replay.scenario import EDGE_CLASSES, GPU_CLASSES, ROOF_TYPES

from retime.core.progress import Progress, Steps
from retime.core.sqlfiles import load_sql, run_script, script_length, scratch_tables, set_variables

PACKAGE = "retime.replay"
QUEUE_GAP_NS = 5_000  # an op starting within this of the previous op's end on its stream was queued behind it
THREAD_WAKE_NS = 1_000_000  # a thread resuming within this after another thread's burst was woken by it
THREAD_IDLE_NS = 50_000     # a thread idle this long before a burst of work was waiting to be handed it
# Launch back-pressure (graph_gpu.sql, replay_backpressure): a device's launch queue was full when
# calls at BACKPRESSURE_DEPTH_SHARE of its deepest queue took BACKPRESSURE_SLOW_FACTOR x the median
# launch call or longer (nsys h100_2gpu_1s: blocked calls 2-7 ms at depth 1134-1140 of 1140, the
# median cudaLaunchKernel 6 µs; unblocked calls at that depth 5-20 µs).
BACKPRESSURE_DEPTH_SHARE = 0.9
BACKPRESSURE_SLOW_FACTOR = 10.0

@dataclass
class ReplayGraph:
    """A trace's points (n: each event's start and end) and edges (m, CSR by destination) as arrays."""
    trace_id: int
    origin_ns: int              # measured time of the first point; times below are relative to it
    measured: np.ndarray        # int64[n]
    indptr: np.ndarray          # int64[n+1], CSR over incoming edges
    src: np.ndarray             # int64[m]
    base_lag: np.ndarray        # int64[m]
    edge_class: np.ndarray      # int64[m], index into EDGE_CLASSES
    bytes: np.ndarray           # int64[m], -1 where unknown
    offset: np.ndarray          # int64[m], added to the rescaled lag (staged copies; else 0)
    point_event: np.ndarray     # int64[n], the event each point belongs to
    point_is_end: np.ndarray    # bool[n]
    point_lane: np.ndarray      # int64[n]
    point_is_gpu: np.ndarray    # bool[n]
    point_name: np.ndarray      # int32[n], index into names
    names: list[str]            # distinct event names of the replayed points
    point_gpu_class: np.ndarray  # int8[n], index into GPU_CLASSES for GPU ops, -1 elsewhere
    point_flop_per_byte: np.ndarray  # float32[n], a kernel's arithmetic intensity; NaN where unknown
    point_roof: np.ndarray      # int8[n], a kernel's compute roof, index into ROOF_TYPES; -1 where unknown
    point_shape: np.ndarray     # int32[n], a kernel's shape, index into kernel_shapes; -1 where unknown
    kernel_shapes: np.ndarray   # float32[s, 3], the distinct shapes the points index (retime/replay/kernel_db.py): a GEMM's
                                # (m, n, k), a collective's (op, GPUs, buffer bytes; op indexes COLLECTIVES)

    @property
    def dst(self) -> np.ndarray:
        """Destination point of every edge (edges are sorted by destination)."""
        return destinations(self.indptr)

    def shape_of(self, points: np.ndarray) -> np.ndarray:
        """float64[len(points), 3]: each point's kernel shape (a GEMM's m, n, k; a collective's op,
        GPUs, bytes); NaN where unknown."""
        return self._shape_rows(self.point_shape[points])

    def _shape_rows(self, index: np.ndarray) -> np.ndarray:
        """Rows of kernel_shapes (float64) at `index`, a NaN row where it is -1 (unknown)."""
        shapes = np.vstack([self.kernel_shapes.astype(np.float64), np.full((1, 3), np.nan)])
        return shapes[np.where(index >= 0, index, len(self.kernel_shapes))]

    def by_shape(self, points: np.ndarray, ratio) -> np.ndarray:
        """float64[len(points)]: `ratio(shapes, roofs)` (rows of kernel shapes, NaN where unknown,
        and their roof codes) evaluated once per distinct (shape, roof) among the points, not once
        per point: a trace has a few hundred shapes and millions of kernels."""
        key = (self.point_shape[points].astype(np.int64) + 1) * (len(ROOF_TYPES) + 1) + (self.point_roof[points] + 1)
        distinct, inverse = np.unique(key, return_inverse=True)
        index, roof = distinct // (len(ROOF_TYPES) + 1) - 1, distinct % (len(ROOF_TYPES) + 1) - 1
        return np.asarray(ratio(self._shape_rows(index), roof), np.float64)[inverse.ravel()]

    def name_mask(self, pattern: str) -> np.ndarray:
        """bool[n]: points whose event's name matches `pattern` (searched once per distinct name)."""
        rx = re.compile(pattern)
        hit = np.fromiter((rx.search(name) is not None for name in self.names), bool, len(self.names))
        return hit[self.point_name] if len(self.names) else np.zeros(len(self.measured), bool)


GRAPH_SCRIPTS = ("graph_events", "graph_points", "graph_inputs", "graph_gpu", "graph_stream_waits", "graph_edges")
GRAPH_ARRAYS = ("graph_arrays_points", "graph_arrays_edges", "graph_arrays_names", "graph_arrays_gpu_classes",
                "graph_arrays_collectives")


def _variables(con: duckdb.DuckDBPyConnection, trace_id: int) -> dict:
    """The graph's inputs besides the store: its constants and the trace GPU's ridge point."""
    return dict(trace_id=trace_id, queue_gap_ns=QUEUE_GAP_NS, thread_wake_ns=THREAD_WAKE_NS,
                thread_idle_ns=THREAD_IDLE_NS, edge_classes=list(EDGE_CLASSES), gpu_classes=list(GPU_CLASSES),
                roof_types=list(ROOF_TYPES), collective_ops=list(kernel_db.COLLECTIVES),
                backpressure_depth_share=BACKPRESSURE_DEPTH_SHARE, backpressure_slow_factor=BACKPRESSURE_SLOW_FACTOR,
                ridge_flop_per_byte=presets.ridge_flop_per_byte(presets.trace_gpu_names(con, trace_id)))


def _prepare(con: duckdb.DuckDBPyConnection, trace_id: int) -> dict:
    """Both builds' inputs on the connection: the variables and the shared macros; returns the variables."""
    values = _variables(con, trace_id)
    set_variables(con, **values)
    foundation.load(con, "gpu", "comm", "host", "ops")  # gpu_class, collective_bus_bytes, is_blocking_call, op_costs
    return values


def graph_tables(con: duckdb.DuckDBPyConnection, trace_id: int, step: Steps | None = None) -> None:
    """The replay graph of a trace as temporary tables (replay_points, replay_edges and the tables
    they are built from: replay_waits, replay_backpressure, ...), as the graph's SQL defines them
    (GRAPH_SCRIPTS). `step` is called after each statement."""
    _prepare(con, trace_id)
    for script in GRAPH_SCRIPTS:
        run_script(con, PACKAGE, script, step)


# while the numba build is not compiled (a fresh install), a trace of fewer events than this gets its
# graph from the graph's SQL (build_graph_sql): 0.15 s against 0.06 s at 1,600 events, 0.39 s against
# 0.13 s at 75,000 (warm, 2 cores), which spares a first replay the build's compile (~6 s); the graph is
# the same either way (tests/replay/test_graph_build.py)
SQL_BUILD_BELOW_EVENTS = 200_000


def build_graph(con: duckdb.DuckDBPyConnection, trace_id: int, progress: Progress | None = None) -> ReplayGraph:
    """The replay graph of a trace, built from the store in linear passes over its events
    (retime/replay/graph_build.py), or, while that build is not compiled, for a trace of fewer than
    SQL_BUILD_BELOW_EVENTS events, as the graph's SQL defines it. `progress` hears (task, done, total) after each of the build's steps."""
    if not linear_compiled() and events_of(con, trace_id) < SQL_BUILD_BELOW_EVENTS:
        return build_graph_sql(con, trace_id, progress)
    return build_graph_linear(con, trace_id, progress)


def linear_compiled() -> bool:
    """Whether the numba build's kernels would run without compiling first (retime/core/jit.py)."""
    from retime.core.jit import compiled
    from retime.replay import graph_passes
    return all(compiled(k) for k in (graph_passes.sort_sources, graph_passes.point_order, graph_passes.count_cpu_chain,
                                     graph_passes.place_cpu_chain, graph_passes.thread_walk))


def events_of(con: duckdb.DuckDBPyConnection, trace_id: int) -> int:
    """The events a stored trace holds (its traces row)."""
    rows = con.execute(load_sql(PACKAGE, "graph_event_count"), {"trace_id": trace_id}).fetchall()
    return int(rows[0][0] or 0) if rows else 0


def build_graph_linear(con: duckdb.DuckDBPyConnection, trace_id: int, progress: Progress | None = None) -> ReplayGraph:
    """The replay graph of a trace, built from the store in linear passes over its events
    (retime/replay/graph_build.py: numba). `progress` hears (task, done, total) after each step."""
    step = Steps(progress, f"building the replay graph of trace {trace_id}", len(graph_build.STEPS)) if progress else None
    values = _prepare(con, trace_id)
    with scratch_tables(con):
        built = graph_build.build_arrays(con, step, **{k: values[k] for k in graph_build.CONSTANTS})
    return _assemble(trace_id, built)


def build_graph_sql(con: duckdb.DuckDBPyConnection, trace_id: int, progress: Progress | None = None,
                    inspect: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> ReplayGraph:
    """The replay graph of a trace as the graph's SQL defines it (graph_tables), statement by
    statement: slower than build_graph, and what build_graph is tested against. `inspect` is
    handed the connection while the graph's tables (replay_waits, replay_edges, ...) exist."""
    total = sum(script_length(con, PACKAGE, s) for s in GRAPH_SCRIPTS) + len(GRAPH_ARRAYS) if progress else 0
    step = Steps(progress, f"building the replay graph of trace {trace_id}", total) if progress else None
    with scratch_tables(con):  # the graph's tables are as large as the trace; only its arrays are kept
        graph_tables(con, trace_id, step)
        if inspect:
            inspect(con)
        fetched = []
        for name in GRAPH_ARRAYS:
            fetched.append(con.execute(load_sql(PACKAGE, name)).fetchnumpy())
            if step:
                step()
        points, edges, coded, classed, collectives = fetched
        names = [row[0] for row in con.execute(load_sql(PACKAGE, "graph_names")).fetchall()]
    point_event = points["event_id"].astype(np.int64)
    code_of_event = np.zeros(int(point_event.max()) + 1 if len(point_event) else 0, np.int32)
    code_of_event[coded["event_id"].astype(np.int64)] = coded["name_code"]
    class_of_event = np.full(len(code_of_event), -1, np.int8)
    class_of_event[classed["event_id"].astype(np.int64)] = classed["gpu_class"]
    intensity_of_event = np.full(len(code_of_event), np.nan, np.float32)
    intensity_of_event[classed["event_id"].astype(np.int64)] = classed["flop_per_byte"]
    roof_of_event = np.full(len(code_of_event), -1, np.int8)
    roof_of_event[classed["event_id"].astype(np.int64)] = classed["roof"]
    kernel_shapes, shape_of_event = graph_build.shape_index(
        np.concatenate([classed["event_id"], collectives["event_id"]]).astype(np.int64),
        np.vstack([graph_build.kernel_rows(classed, slice(None)), graph_build.collective_rows(collectives)]), len(code_of_event))
    return _assemble(trace_id, graph_build.GraphArrays(
        t=points["t"].astype(np.int64), point_event=point_event, point_is_end=points["is_end"].astype(bool),
        point_lane=points["lane_id"].astype(np.int64), point_is_gpu=points["is_gpu"].astype(bool),
        point_name=code_of_event[point_event], point_gpu_class=class_of_event[point_event],
        point_flop_per_byte=intensity_of_event[point_event], point_roof=roof_of_event[point_event],
        point_shape=shape_of_event[point_event], kernel_shapes=kernel_shapes, names=names,
        src=edges["src"].astype(np.int64), indptr=row_pointers(edges["dst"].astype(np.int64), len(point_event)),
        base_lag=edges["base_lag"].astype(np.int64),
        edge_class=edges["edge_class"].astype(np.int64), bytes=edges["bytes"].astype(np.int64),
        offset=edges["offset_ns"].astype(np.int64)))


def _assemble(trace_id: int, g: "graph_build.GraphArrays") -> ReplayGraph:
    """The ReplayGraph of points in point order and edges by (destination, source): numbered
    topologically where clock-skewed edges point back in time, relative to the first point."""
    times, src, indptr = g.t, g.src, g.indptr
    point_arrays = {"point_event": g.point_event, "point_is_end": g.point_is_end, "point_lane": g.point_lane,
                    "point_is_gpu": g.point_is_gpu, "point_gpu_class": g.point_gpu_class,
                    "point_flop_per_byte": g.point_flop_per_byte, "point_roof": g.point_roof, "point_name": g.point_name,
                    "point_shape": g.point_shape}
    edge_arrays = {"base_lag": g.base_lag, "edge_class": g.edge_class, "bytes": g.bytes, "offset": g.offset}
    if passes.points_back(indptr, src):  # clock-skewed waits point back in measured time: number points topologically
        times, src, dst, point_arrays, edge_arrays = _topological(times, src, destinations(indptr), point_arrays, edge_arrays)
        indptr = row_pointers(dst, len(times))
    origin = int(times.min()) if len(times) else 0
    times -= origin  # the build's own array: relative in place
    return ReplayGraph(trace_id=trace_id, origin_ns=origin, measured=times, indptr=indptr, src=src,
                       **edge_arrays, **point_arrays, kernel_shapes=g.kernel_shapes, names=g.names)


def _topological(times, src, dst, point_arrays, edge_arrays):
    """Points renumbered in a topological order of the edges (measured order kept wherever the edges
    allow), edges re-sorted by destination. Where the backward edges close a cycle they are dropped."""
    n = len(times)
    order, indptr = by_destination(src, dst, n)
    topo = passes.topological_order(n, indptr, src[order])
    if len(topo) == 0:
        keep = src < dst
        src, dst = src[keep], dst[keep]
        return times, src, dst, point_arrays, {k: v[keep] for k, v in edge_arrays.items()}
    rank = np.empty(n, np.int64)
    rank[topo] = np.arange(n, dtype=np.int64)
    src, dst = rank[src], rank[dst]
    by_dst, _ = by_destination(src, dst, n)
    return (times[topo], src[by_dst], dst[by_dst], {k: v[topo] for k, v in point_arrays.items()},
            {k: v[by_dst] for k, v in edge_arrays.items()})


def by_destination(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges as CSR over their destination, among n points: the order that sorts them by destination
    (then source), and the int64[n+1] row pointers of that order."""
    return np.lexsort((src, dst)), row_pointers(dst, n)


def destinations(indptr: np.ndarray) -> np.ndarray:
    """The destination point of every edge of a CSR over destinations."""
    return np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))


def row_pointers(dst: np.ndarray, n: int) -> np.ndarray:
    """The int64[n+1] CSR row pointers of edges sorted by destination, among n points."""
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(dst, minlength=n), out=indptr[1:])
    return indptr


