"""Which points and edges of a replay graph (retime/replay/graph.py) belong to which events: an event's
start and end points, and the edges that are the own time of events named like a pattern. The
scenario's duration rules (--scale, host.input) and the batch knob (retime/replay/batch.py) select their
edges here."""
from __future__ import annotations

import numpy as np

from retime.replay.graph import ReplayGraph
from retime.replay.scenario import EDGE_CLASSES

GPU_OP_CLASSES = ("h2d", "d2h", "d2d", "p2p", "memset", "compute", "membound", "comm")
HOST_CLASSES = ("cpu", "launch_call")


def merged_intervals(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intervals [lo, hi) merged where they overlap: (starts, ends) of the unions, in order."""
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    reach = np.maximum.accumulate(hi)
    first = np.flatnonzero(np.r_[True, lo[1:] > reach[:-1]])  # starts after everything before it ended
    return lo[first], np.maximum.reduceat(hi, first)


def event_points(graph: ReplayGraph, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(start points, end points) of the events whose points `mask` selects (default: every
    replayed event), aligned and ordered by event id: every replayed event has exactly one of each."""
    selected = np.ones(len(graph.measured), bool) if mask is None else mask
    starts = np.flatnonzero(selected & ~graph.point_is_end)
    ends = np.flatnonzero(selected & graph.point_is_end)
    return (starts[np.argsort(graph.point_event[starts], kind="stable")],
            ends[np.argsort(graph.point_event[ends], kind="stable")])


def points_of_events(graph: ReplayGraph, events) -> tuple[np.ndarray, np.ndarray]:
    """(start points, end points) of the given replayed event ids, in the order given."""
    events = np.asarray(events, np.int64)
    starts, ends = event_points(graph, np.isin(graph.point_event, events))
    at = np.searchsorted(graph.point_event[starts], events)  # event_points orders by event id
    return starts[at], ends[at]


def own_time_edges(graph: ReplayGraph, pattern: str) -> np.ndarray:
    """bool[m]: the edges that make up the own time of events named like `pattern`: a GPU op's
    duration, and on a CPU thread every step of host work inside a matching event's span (its
    children included; waits for the GPU and launches it issued are not its own time)."""
    hit = graph.name_mask(pattern)
    gpu_op = np.isin(graph.edge_class, [EDGE_CLASSES.index(c) for c in GPU_OP_CLASSES])
    selected = gpu_op & hit[graph.src]  # a GPU op's duration edge starts at the op's start point
    host = np.isin(graph.edge_class, [EDGE_CLASSES.index(c) for c in HOST_CLASSES])
    starts, ends = event_points(graph, hit & ~graph.point_is_gpu)
    if len(starts) and host.any():
        # one interval per matching event, keyed by (lane, point) so lanes never mix; nested
        # matches merge into their outermost span
        width = len(graph.measured) + 1
        span_lo, span_hi = merged_intervals(graph.point_lane[starts] * width + starts,
                                            graph.point_lane[ends] * width + ends)
        dst = graph.dst
        key = graph.point_lane[dst] * width + dst
        i = np.searchsorted(span_lo, key, side="right") - 1
        inside = (i >= 0) & (key > span_lo[np.maximum(i, 0)]) & (key <= span_hi[np.maximum(i, 0)])
        selected |= host & inside
    return selected


