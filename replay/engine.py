"""Replaying a trace: build its graph once (DuckDB), turn a scenario into edge lags (numpy),
re-time every point (numba), and summarize measured against predicted."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
from retime.queries import runner
from retime.replay import kernels
from retime.replay.scenario import EDGE_CLASSES, Scenario

from retime.sqlfiles import load_sql, run_script, scratch_tables, set_variables
from retime.store import transaction

PACKAGE = "retime.replay"
QUEUE_GAP_NS = 5_000  # an op starting within this of the previous op's end on its stream was queued behind it


@dataclass
class ReplayGraph:
    trace_id: int
    origin_ns: int              # measured time of the first point; times below are relative to it
    measured: np.ndarray        # int64[n]
    indptr: np.ndarray          # int64[n+1], CSR over incoming edges
    src: np.ndarray             # int64[m]
    base_lag: np.ndarray        # int64[m]
    edge_class: np.ndarray      # int64[m], index into EDGE_CLASSES
    bytes: np.ndarray           # int64[m], -1 where unknown
    point_event: np.ndarray     # int64[n], the event each point belongs to
    point_is_end: np.ndarray    # bool[n]


@dataclass
class ReplayResult:
    trace_id: int
    scenario: str
    measured_ns: int
    predicted_ns: int
    critical_path_ns: dict[str, int]   # time on the predicted critical path per edge class
    saved_trace_id: int | None = None  # the replay written back to the store (--save)

    @property
    def speedup(self) -> float:
        return self.measured_ns / self.predicted_ns if self.predicted_ns else float("nan")

    @property
    def bound_by(self) -> str:
        shares = {k: v for k, v in self.critical_path_ns.items() if k != "fixed"}
        return max(shares, key=shares.get) if shares and max(shares.values()) > 0 else "fixed"


def build_graph(con: duckdb.DuckDBPyConnection, trace_id: int) -> ReplayGraph:
    set_variables(con, trace_id=trace_id, queue_gap_ns=QUEUE_GAP_NS, edge_classes=list(EDGE_CLASSES))
    for macros in runner.foundation():  # the kernel classifier the queries use
        con.execute(macros).fetchall()
    with scratch_tables(con):  # the graph's tables are as large as the trace; only its arrays are kept
        run_script(con, PACKAGE, "graph_points")
        run_script(con, PACKAGE, "graph_edges")
        points = con.execute(load_sql(PACKAGE, "graph_arrays_points")).fetchnumpy()
        edges = con.execute(load_sql(PACKAGE, "graph_arrays_edges")).fetchnumpy()
    times = points["t"].astype(np.int64)
    origin = int(times[0]) if len(times) else 0
    n = len(times)
    dst = edges["dst"].astype(np.int64)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(dst, minlength=n), out=indptr[1:])
    return ReplayGraph(trace_id=trace_id, origin_ns=origin, measured=times - origin, indptr=indptr,
                       src=edges["src"].astype(np.int64), base_lag=edges["base_lag"].astype(np.int64),
                       edge_class=edges["edge_class"].astype(np.int64), bytes=edges["bytes"].astype(np.int64),
                       point_event=points["event_id"].astype(np.int64), point_is_end=points["is_end"].astype(bool))


def edge_lags(graph: ReplayGraph, scenario: Scenario) -> np.ndarray:
    """Every edge's lag under the scenario (vectorized over edges)."""
    multiplier = np.array([scenario.multiplier[c] for c in EDGE_CLASSES])
    lag = graph.base_lag * multiplier[graph.edge_class]
    for name, bytes_per_ns in scenario.bandwidth_bytes_per_ns.items():
        sized = (graph.edge_class == EDGE_CLASSES.index(name)) & (graph.bytes >= 0)
        lag[sized] = graph.bytes[sized] / bytes_per_ns
    if scenario.launch_latency_ns is not None:
        lag[graph.edge_class == EDGE_CLASSES.index("launch")] = scenario.launch_latency_ns
    return np.rint(lag).astype(np.int64)


def retimed(graph: ReplayGraph, scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(new point times relative to the origin, binding edge per point, edge lags) under the scenario."""
    lag = edge_lags(graph, scenario)
    new, binding = kernels.retime(graph.measured, graph.indptr, graph.src, lag)
    return new, binding, lag


def replay(graph: ReplayGraph, scenario: Scenario) -> ReplayResult:
    if len(graph.measured) == 0:
        return ReplayResult(graph.trace_id, scenario.label, 0, 0, {})
    new, binding, lag = retimed(graph, scenario)
    last = int(np.argmax(new))
    path = kernels.critical_path_time(binding, graph.src, lag, graph.edge_class, len(EDGE_CLASSES), last)
    return ReplayResult(
        trace_id=graph.trace_id, scenario=scenario.label,
        measured_ns=int(graph.measured.max() - graph.measured.min()),
        predicted_ns=int(new.max() - new.min()),
        critical_path_ns={c: int(v) for c, v in zip(EDGE_CLASSES, path) if v},
    )


def save(con: duckdb.DuckDBPyConnection, graph: ReplayGraph, scenario: Scenario, new_trace_id: int) -> None:
    """Write the replay as trace new_trace_id (one transaction), so every query works on it."""
    import orjson
    import pyarrow as pa
    new, _, _ = retimed(graph, scenario)
    starts, ends = ~graph.point_is_end, graph.point_is_end
    start_order, end_order = np.argsort(graph.point_event[starts]), np.argsort(graph.point_event[ends])
    times = pa.table({"event_id": graph.point_event[starts][start_order],
                      "start_ns": new[starts][start_order], "end_ns": new[ends][end_order]})
    set_variables(con, trace_id=new_trace_id, parent_id=graph.trace_id, origin_ns=graph.origin_ns,
                  scenario=orjson.dumps(scenario.settings).decode())
    con.register("replay_times", times)
    try:
        with transaction(con):
            run_script(con, PACKAGE, "save_replay")
    finally:
        con.unregister("replay_times")
