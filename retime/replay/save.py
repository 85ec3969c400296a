"""A replay written as a trace of its own (format 'replay', parent_trace_id): its events at their new
times, its predicted critical path and, on a topology, its link tables, so every query answers on it."""
from __future__ import annotations

import duckdb
import numpy as np

from retime.replay import fidelity, passes, presets
from retime.replay.engine import retimed_on_links
from retime.replay.graph import PACKAGE, ReplayGraph
from retime.replay.placement import LinkModel
from retime.replay.reach import idle_knob_names, runs_on_host
from retime.replay.scenario import Scenario
from retime.replay.spans import event_points
from retime.core.sqlfiles import run_script, set_variables
from retime.store import transaction
from retime.store.derived import derive_trace


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
    from retime.core import arrow
    starts, ends = event_points(graph, mask)
    times = arrow.table({"event_id": graph.point_event[starts] - event_base, "start_ns": new[starts], "end_ns": new[ends]})
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
    # each edge's kind by which of its events' points it links (s: start, e: end), source first
    which = graph.point_is_end[path_src].astype(np.int8) * 2 + graph.point_is_end[path_dst]
    kinds = pa.DictionaryArray.from_arrays(arrow.column(which.astype(np.int8)),
                                           arrow.strings(["critical_ss", "critical_se", "critical_es", "critical_ee"]))
    critical = arrow.table({"src_event_id": graph.point_event[path_src] - event_base,
                            "dst_event_id": graph.point_event[path_dst] - event_base, "kind": kinds.cast(pa.string())})
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
