"""The replay graph built from arrays: the same points and edges as the graph's SQL
(retime/replay/sql/graph_*.sql, the documented definition, which tests/replay/test_graph_build.py holds
this build to on every trace), in sorts and linear passes over the trace's events read once.

Each step below names the table of the SQL it stands for. DuckDB still gives the rules that are
matched once per distinct name (gpu_class, is_blocking_call), the kernels' work, the stream a
synchronize waited on, and the cross-stream waits (rare, and only where a trace records them).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retime.replay import graph_passes as gk
from retime.replay.scenario import EDGE_CLASSES, GPU_CLASSES
from retime.core import arrow
from retime.core.sqlfiles import load_sql, run_script, set_variables

PACKAGE = "retime.replay"
STEPS = ("events", "points", "gpu ops", "launches", "waits", "staged copies", "back-pressure", "stream waits",
         "cpu points", "hand-offs", "streams", "edges", "order")
EVENT_KINDS = ("kernel", "collective", "memcpy", "memset", "runtime", "driver")  # graph_arrays_events.sql codes them
COPY_KINDS = ("H2D", "D2H", "P2P")
_CLASS = {name: i for i, name in enumerate(EDGE_CLASSES)}
_GPU_CLASS = {name: i for i, name in enumerate(GPU_CLASSES)}
CONSTANTS = ("queue_gap_ns", "thread_wake_ns", "thread_idle_ns", "backpressure_depth_share",
             "backpressure_slow_factor", "ridge_flop_per_byte")  # what build_arrays takes from retime/replay/graph.py
_NONE = np.iinfo(np.int64).min  # an ASOF that found nothing, a launch before the window


@dataclass
class GraphArrays:
    """A replay graph before build_graph's final ordering: points in point order, edges by
    (destination, source)."""
    t: np.ndarray
    point_event: np.ndarray     # event ids
    point_is_end: np.ndarray
    point_lane: np.ndarray
    point_is_gpu: np.ndarray
    point_name: np.ndarray      # int32 codes into names
    point_gpu_class: np.ndarray
    point_flop_per_byte: np.ndarray
    point_roof: np.ndarray
    point_shape: np.ndarray     # int32[n], index into kernel_shapes; -1 where unknown
    kernel_shapes: np.ndarray   # float32[s, 3], the trace's distinct GEMM (m, n, k), attention (batch, seq, heads)
                                # and collective (op, GPUs, bytes) shapes
    names: list[str]
    src: np.ndarray
    indptr: np.ndarray          # CSR row pointers over destinations
    base_lag: np.ndarray
    edge_class: np.ndarray
    bytes: np.ndarray
    offset: np.ndarray


def shape_index(events: np.ndarray, rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct kernel shapes among `events` (rows: float[len(events), 3], NaN where unknown) as
    float32[s, 3], and each of n events' index into them (int32, -1 elsewhere): a trace has a few
    hundred shapes, so points carry 4 bytes each instead of three floats. A shape is a GEMM's
    (m, n, k) or a collective's (operation, GPUs, buffer bytes): the op's class says which."""
    rows = np.asarray(rows, np.float32).reshape(-1, 3)
    shaped = np.isfinite(rows).all(axis=1)
    shapes, inverse = np.unique(rows[shaped], axis=0, return_inverse=True)
    index = np.full(n, -1, np.int32)
    index[events[shaped]] = inverse.ravel()
    return shapes.reshape(-1, 3), index


def kernel_rows(columns: dict, rows: np.ndarray | slice) -> np.ndarray:
    """A kernel's shape per row of a fetched table (shape_1..3: a GEMM's m, n, k, an attention's
    batch, sequence, heads; NaN where unknown)."""
    return np.column_stack([np.asarray(columns[f"shape_{axis}"], np.float64)[rows] for axis in "123"])


def collective_rows(columns: dict) -> np.ndarray:
    """A collective's (operation, GPUs, buffer bytes) per row of graph_arrays_collectives."""
    return np.column_stack([np.asarray(columns[c], np.float64) for c in ("op", "ranks", "buffer_bytes")])


def _fetch(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, np.ndarray]:
    return con.execute(load_sql(PACKAGE, name)).fetchnumpy()


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """int32 codes of a string column over its distinct values in sorted order (as DuckDB orders
    VARCHAR: by bytes, which for UTF-8 is code point order)."""
    encoded = arrow.one_array(pc.dictionary_encode(column))
    values = encoded.dictionary.to_pylist()
    ranks = np.argsort(np.array(values, dtype=object), kind="stable") if values else np.zeros(0, np.int64)
    rank_of = np.empty(len(values), np.int32)
    rank_of[ranks] = np.arange(len(values), dtype=np.int32)
    indices = arrow.to_numpy(encoded.indices)
    return rank_of[indices] if len(values) else np.zeros(len(indices), np.int32), [values[i] for i in ranks]


class _Index:
    """Where each id sits among `ids` (distinct): a dense table where the ids are close together,
    as a trace's event and lane ids are, else a sorted search."""

    def __init__(self, ids: np.ndarray):
        self.ids = ids
        self.lo = int(ids.min()) if len(ids) else 0
        span = int(ids.max()) - self.lo + 1 if len(ids) else 0
        self.dense = None
        if span <= 4 * len(ids) + 1024:
            self.dense = np.full(span, -1, np.int64)
            self.dense[ids - self.lo] = np.arange(len(ids), dtype=np.int64)
        else:
            self.sorter = np.argsort(ids, kind="stable")
            self.sorted = ids[self.sorter]

    def of(self, wanted: np.ndarray) -> np.ndarray:
        """The index of each wanted id, -1 where absent."""
        wanted = np.asarray(wanted, np.int64)
        if len(self.ids) == 0:
            return np.full(len(wanted), -1, np.int64)
        if self.dense is not None:
            rel = wanted - self.lo
            inside = (rel >= 0) & (rel < len(self.dense))
            return np.where(inside, self.dense[np.where(inside, rel, 0)], -1)
        pos = np.minimum(np.searchsorted(self.sorted, wanted), len(self.ids) - 1)
        return np.where(self.sorted[pos] == wanted, self.sorter[pos], -1)


@contextmanager
def _handed_in(con: duckdb.DuckDBPyConnection, **tables: pa.Table) -> Iterator[None]:
    """Arrow tables visible to the graph's SQL by name while the block runs."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield
    finally:
        for name in tables:
            con.unregister(name)


def _column(table: pa.Table, name: str, dtype) -> np.ndarray:
    """A column as a numpy array of dtype, copied only where its type differs."""
    return arrow.to_numpy(table[name], dtype)


def _median_rint(values: np.ndarray) -> float:
    """DuckDB's median of integers cast to BIGINT: the interpolated median, rounded half to even."""
    return float(np.rint(np.median(values)))


def _groups(keys: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each group 0..n_groups-1 in rows sorted by keys."""
    start = np.searchsorted(keys, np.arange(n_groups), "left")
    end = np.searchsorted(keys, np.arange(n_groups), "right")
    return start, end


@dataclass
class _Events:
    """The trace's events read once (graph_arrays_events.sql), by row, with their lanes'."""
    ev_id: np.ndarray
    lane: np.ndarray
    is_gpu: np.ndarray
    ts: np.ndarray
    dur: np.ndarray
    end_t: np.ndarray
    nbytes: np.ndarray
    pageable: np.ndarray
    kind_code: np.ndarray
    copy_code: np.ndarray
    name_code: np.ndarray
    names: list[str]
    collective: np.ndarray
    memcpy: np.ndarray
    memset: np.ndarray
    is_call: np.ndarray     # runtime and driver calls
    lanes: dict             # graph_arrays_lanes.sql's columns
    lane_row: np.ndarray    # each event's lane, as its row in lanes
    device: np.ndarray
    has_stream: np.ndarray
    rows: "_Index"          # event id -> row

    @property
    def n(self) -> int:
        return len(self.ev_id)


@dataclass
class _Points:
    """replay_points: two per event, by time, then the instant's order (graph_points.sql)."""
    t: np.ndarray
    is_end: np.ndarray
    local: np.ndarray       # each point's event row
    start: np.ndarray       # each event row's start point
    end: np.ndarray         # and end point


@dataclass
class _GpuOps:
    """replay_gpu_ops: each GPU op's class by name, the roofline's verdict and its shape (graph_gpu.sql)."""
    rows: np.ndarray        # the GPU ops' event rows
    gpu_class: np.ndarray   # per event row, -1 off the GPU
    flop_per_byte: np.ndarray
    roof: np.ndarray
    kernel_shapes: np.ndarray
    shape_of_event: np.ndarray
    op_class: np.ndarray    # the edge class of each event row's duration


@dataclass
class _Launches:
    """replay_launches: a replayed call -> the GPU op it launched."""
    call: np.ndarray
    op: np.ndarray
    call_t: np.ndarray
    call_dur: np.ndarray
    call_end: np.ndarray
    op_t: np.ndarray
    op_end: np.ndarray
    ahead: np.ndarray       # the op started after its call did (the launch edge binds)
    op_row: np.ndarray      # each launch's op among the GPU ops


@dataclass
class _Waits:
    """replay_waits: blocking calls and the latest-ending op launched before each began."""
    ev: np.ndarray
    op_end: np.ndarray
    gpu_point: np.ndarray
    ts: np.ndarray
    end: np.ndarray
    waited: np.ndarray
    is_waiting: np.ndarray  # per event row


@dataclass
class _Staged:
    """replay_staged: copies from or to pageable memory whose call returns as the copy ends."""
    call: np.ndarray
    op: np.ndarray
    offset: np.ndarray
    is_staged: np.ndarray   # per event row


@dataclass
class _StreamWaits:
    """replay_stream_waits (graph_stream_waits.sql): a GPU op waiting for another stream's op."""
    producer: np.ndarray
    consumer_point: np.ndarray
    consumer: np.ndarray
    gap: np.ndarray


@dataclass
class _StreamOrder:
    """replay_stream: each GPU op after the previous op on its stream."""
    ops: np.ndarray         # the GPU ops by (lane, start, id)
    prev_op: np.ndarray
    has_prev: np.ndarray
    prev_end: np.ndarray
    own_queued: np.ndarray
    overlapped: np.ndarray
    has_launch: np.ndarray
    wait_bound: np.ndarray  # per event row
    queued: np.ndarray      # per event row: it waited in its stream's queue, so its launch did not bind


def build_arrays(con: duckdb.DuckDBPyConnection, step=None, queue_gap_ns: int = 0, thread_wake_ns: int = 0,
                 thread_idle_ns: int = 0, backpressure_depth_share: float = 0.0, backpressure_slow_factor: float = 0.0,
                 ridge_flop_per_byte: float = 0.0) -> GraphArrays:
    """The graph of the trace whose variables are set on `con` (retime/replay/graph.py sets them and loads
    the macros). `step` is called after each of STEPS."""
    def done():
        if step:
            step()

    ev = _read_events(con)
    done()
    pts = _points(ev)
    done()
    gpu = _gpu_ops(con, ev, ridge_flop_per_byte)
    done()
    launches = _launches(con, ev, gpu)
    done()
    waits = _waits(con, ev, pts, launches)
    done()
    staged = _staged(ev, launches)
    done()
    held = _held_calls(ev, pts, gpu, launches, waits, staged, backpressure_depth_share, backpressure_slow_factor)
    done()
    stream_waits = _stream_waits(con, ev, pts, gpu, launches)
    done()
    n_slots = len(ev.lanes["lane_id"])  # a thread's slot: its row among the trace's lanes
    seq, offsets = gk.thread_points(pts.local, ev.is_gpu, ev.lane_row, n_slots)
    walk = gk.thread_walk(seq, offsets, pts.t, pts.is_end, thread_idle_ns)
    done()
    handoffs = _handoffs(pts, seq, walk, n_slots, thread_wake_ns)
    done()
    order = _stream_order(ev, gpu, launches, stream_waits, queue_gap_ns)
    done()
    parts = _edge_parts(ev, pts, gpu, launches, waits, staged, held, stream_waits, handoffs, order, queue_gap_ns)
    chain = _cpu_chain(ev, pts, launches, waits, staged, held, seq, offsets, handoffs)
    done()
    indptr, src, base_lag, edge_class, e_bytes, offset = _csr(ev.n, chain, parts)
    p_ev, p_lane, p_gpu, p_name, p_class, p_fpb, p_roof = gk.point_columns(
        pts.local, ev.ev_id, ev.lane, ev.is_gpu, ev.name_code, gpu.gpu_class, gpu.flop_per_byte, gpu.roof)
    p_shape = gpu.shape_of_event[pts.local]  # only kernels have a shape: host points take -1 with their event
    result = GraphArrays(t=pts.t, point_event=p_ev, point_is_end=pts.is_end, point_lane=p_lane, point_is_gpu=p_gpu,
                         point_name=p_name, point_gpu_class=p_class, point_flop_per_byte=p_fpb, point_roof=p_roof,
                         point_shape=p_shape, kernel_shapes=gpu.kernel_shapes,
                         names=ev.names, src=src, indptr=indptr, base_lag=base_lag, edge_class=edge_class, bytes=e_bytes,
                         offset=offset)
    done()
    return result


def _read_events(con: duckdb.DuckDBPyConnection) -> _Events:
    set_variables(con, event_kinds=list(EVENT_KINDS), copy_kinds=list(COPY_KINDS))
    run_script(con, PACKAGE, "graph_events")
    run_script(con, PACKAGE, "graph_inputs")
    table = con.sql(load_sql(PACKAGE, "graph_arrays_events")).to_arrow_table()
    ev_id = _column(table, "event_id", np.int64)
    lane = _column(table, "lane_id", np.int64)
    is_gpu = _column(table, "is_gpu", bool)
    ts = _column(table, "ts_ns", np.int64)
    dur = _column(table, "dur_ns", np.int64)
    nbytes = _column(table, "bytes", np.int64)
    pageable = _column(table, "pageable", bool)
    kind_code = arrow.to_numpy(table["kind_code"], np.int8, fill=0)
    copy_code = _column(table, "copy_code", np.int8)
    name_code, names = _codes(table["name"])
    del table
    collective, memcpy, memset = (kind_code == 1 + EVENT_KINDS.index(k) for k in ("collective", "memcpy", "memset"))
    is_call = ~is_gpu & ((kind_code == 1 + EVENT_KINDS.index("runtime")) | (kind_code == 1 + EVENT_KINDS.index("driver")))
    lanes = _fetch(con, "graph_arrays_lanes")
    lane_row = _Index(np.asarray(lanes["lane_id"], np.int64)).of(lane)
    return _Events(ev_id=ev_id, lane=lane, is_gpu=is_gpu, ts=ts, dur=dur, end_t=ts + dur, nbytes=nbytes, pageable=pageable,
                   kind_code=kind_code, copy_code=copy_code, name_code=name_code, names=names, collective=collective,
                   memcpy=memcpy, memset=memset, is_call=is_call, lanes=lanes, lane_row=lane_row,
                   device=np.asarray(lanes["device"], np.int64)[lane_row],
                   has_stream=np.asarray(lanes["has_stream"], bool)[lane_row], rows=_Index(ev_id))


def _points(ev: _Events) -> _Points:
    t, is_end, local, start, end = gk.point_order(ev.ts, ev.end_t, np.argsort(ev.ts, kind="stable"),
                                                  np.argsort(ev.end_t, kind="stable"), ev.dur, ev.is_gpu, ev.ev_id)
    return _Points(t, is_end, local, start, end)


def _gpu_ops(con: duckdb.DuckDBPyConnection, ev: _Events, ridge_flop_per_byte: float) -> _GpuOps:
    n, names = ev.n, ev.names
    gi = np.flatnonzero(ev.is_gpu)
    pair_key = ev.kind_code[gi].astype(np.int64) * (len(names) + 1) + ev.name_code[gi]
    pairs, first_of_pair, pair_of = np.unique(pair_key, return_index=True, return_inverse=True)
    kind_names = ("",) + EVENT_KINDS
    name_list = arrow.table({"i": np.arange(len(pairs), dtype=np.int64),
                             "kind": arrow.strings([kind_names[ev.kind_code[gi[r]]] for r in first_of_pair]),
                             "name_key": arrow.strings([names[ev.name_code[gi[r]]] for r in first_of_pair])})
    with _handed_in(con, replay_gpu_name_list=name_list):
        pair_class = _fetch(con, "graph_arrays_gpu_names")["gpu_class"].astype(np.int8)
    gpu_class = np.full(n, -1, np.int8)
    gpu_class[gi] = pair_class[pair_of]
    work = _fetch(con, "graph_arrays_kernel_work")
    worked = ev.rows.of(np.asarray(work["event_id"], np.int64))
    known = worked >= 0
    worked, w_fpb, w_elem = worked[known], np.asarray(work["flop_per_byte"])[known], np.asarray(work["elem"])[known]
    fpb = np.full(n, np.nan, np.float32)  # what the points carry
    fpb[worked] = w_fpb
    roof = np.full(n, -1, np.int8)
    roof[worked] = np.asarray(work["roof"])[known]
    collectives = _fetch(con, "graph_arrays_collectives")
    c_events = ev.rows.of(np.asarray(collectives["event_id"], np.int64))
    kernel_shapes, shape_of_event = shape_index(np.concatenate([worked, c_events[c_events >= 0]]),
                                                np.vstack([kernel_rows(work, known), collective_rows(collectives)[c_events >= 0]]), n)
    # op_class by the first that applies: comm, memset, the copy's direction, a GEMM's side of the
    # ridge, compute for GEMM / attention / convolution, else memory-bound
    by_class = np.full(len(GPU_CLASSES) + 1, -1, np.int8)  # gpu_class -1 (not a GPU op) -> -1
    by_class[:len(GPU_CLASSES)] = _CLASS["membound"]
    for name in ("gemm", "attention", "convolution"):
        by_class[_GPU_CLASS[name]] = _CLASS["compute"]
    op_class = by_class[gpu_class]
    gemm = (gpu_class[worked] == _GPU_CLASS["gemm"]) & ~np.isnan(w_fpb)
    op_class[worked[gemm]] = np.where(w_fpb[gemm] < ridge_flop_per_byte / (w_elem[gemm] / 2), _CLASS["membound"], _CLASS["compute"])
    copy_class = np.array([_CLASS["d2d"]] + [_CLASS[c.lower()] for c in COPY_KINDS], np.int8)
    op_class[ev.memcpy] = copy_class[ev.copy_code[ev.memcpy]]
    op_class[ev.memset] = _CLASS["memset"]
    op_class[ev.collective | (gpu_class == _GPU_CLASS["communication"])] = _CLASS["comm"]
    return _GpuOps(gi, gpu_class, fpb, roof, kernel_shapes, shape_of_event, op_class)


def _launches(con: duckdb.DuckDBPyConnection, ev: _Events, gpu: _GpuOps) -> _Launches:
    deps = _fetch(con, "graph_arrays_launch_deps")
    l_call = ev.rows.of(deps["src_event_id"].astype(np.int64))
    l_op = ev.rows.of(deps["dst_event_id"].astype(np.int64))
    keep = (l_call >= 0) & (l_op >= 0)
    l_call, l_op = l_call[keep], l_op[keep]
    keep = ~ev.is_gpu[l_call] & ev.is_gpu[l_op]
    l_call, l_op = l_call[keep], l_op[keep]
    call_t, call_dur, op_t = ev.ts[l_call], ev.dur[l_call], ev.ts[l_op]
    return _Launches(call=l_call, op=l_op, call_t=call_t, call_dur=call_dur, call_end=call_t + call_dur, op_t=op_t,
                     op_end=ev.end_t[l_op], ahead=op_t >= call_t, op_row=np.searchsorted(gpu.rows, l_op))


def _waits(con: duckdb.DuckDBPyConnection, ev: _Events, pts: _Points, launches: _Launches) -> _Waits:
    names, n = ev.names, ev.n
    l_call, l_op, call_t, op_end = launches.call, launches.op, launches.call_t, launches.op_end
    call_names = np.flatnonzero(np.bincount(ev.name_code[ev.is_call], minlength=len(names)))
    call_list = arrow.table({"i": np.arange(len(call_names), dtype=np.int64),
                             "name": arrow.strings([names[c] for c in call_names])})
    with _handed_in(con, replay_call_name_list=call_list):
        blocking_rows = np.asarray(_fetch(con, "graph_arrays_blocking")["i"], np.int64)
    blocks = np.zeros(len(names), bool)
    blocks[call_names[blocking_rows]] = True
    by_name = ev.is_call & blocks[ev.name_code]
    own_done = np.zeros(n, bool)
    own_done[l_call[(op_end > call_t) & (op_end <= launches.call_end)]] = True
    blocking = np.flatnonzero(ev.is_call & (by_name | own_done))
    synced = _fetch(con, "graph_arrays_synced")
    sync_rows = ev.rows.of(np.asarray(synced["event_id"], np.int64))
    sync_streams = np.asarray(synced["sync_stream"], np.int64)
    # partition 0: every launch; partition 1+s: launches onto stream s (rows of stream-less lanes
    # would only repeat partition 0's)
    lanes = ev.lanes
    lane_streams = np.asarray(lanes["stream"], np.int64)
    stream_ids, stream_of_lane = np.unique(lane_streams[np.asarray(lanes["has_stream"], bool)], return_inverse=True)
    stream_index = np.full(len(lane_streams), -1, np.int64)
    stream_index[np.asarray(lanes["has_stream"], bool)] = stream_of_lane
    streamed = np.flatnonzero(ev.has_stream[l_op])
    part = np.concatenate([np.zeros(len(l_op), np.int64), 1 + stream_index[ev.lane_row[l_op[streamed]]]])
    rows = np.concatenate([np.arange(len(l_op)), streamed])
    by_time = np.argsort(call_t[rows], kind="stable")
    grouped, _ = gk.group_order(part[by_time], 1 + len(stream_ids))
    by = by_time[grouped]  # by (partition, launch time)
    part_s, rows_s = part[by], rows[by]
    best_end, best_point = gk.running_latest(part_s, op_end[rows_s], pts.end[l_op[rows_s]])
    g_start, g_end = _groups(part_s, 1 + len(stream_ids))
    synced_at = _Index(sync_rows).of(blocking)  # the call's 'Stream Sync' record, -1: none (device-wide)
    b_part = np.zeros(len(blocking), np.int64)
    has_sync = synced_at >= 0
    b_part[has_sync] = _Index(stream_ids).of(sync_streams[synced_at[has_sync]]) + 1  # 0: a stream with no launches
    b_part[has_sync & (b_part == 0)] = -1
    hit = gk.last_at_or_before(g_start, g_end, call_t[rows_s], b_part, ev.ts[blocking])
    ahead = launches.ahead
    tol = int((launches.op_t - call_t)[ahead].min()) if ahead.any() else 0
    found = hit >= 0
    w_ev = blocking[found]
    w_op_end = best_end[hit[found]]
    w_gpu_point = best_point[hit[found]]
    w_ts, w_end = ev.ts[w_ev], ev.end_t[w_ev]
    keep = ((w_op_end > w_ts) & (w_op_end <= w_end + tol)) | (by_name[w_ev] & (w_op_end <= w_ts))
    w_ev, w_op_end, w_gpu_point, w_ts, w_end = w_ev[keep], w_op_end[keep], w_gpu_point[keep], w_ts[keep], w_end[keep]
    is_waiting = np.zeros(n, bool)
    is_waiting[w_ev] = True
    return _Waits(w_ev, w_op_end, w_gpu_point, w_ts, w_end, w_op_end > w_ts, is_waiting)


def _staged(ev: _Events, launches: _Launches) -> _Staged:
    l_op = launches.op
    staged = (ev.memcpy[l_op] & ev.pageable[l_op] & (launches.op_t >= launches.call_t)
              & (launches.op_t < launches.call_end) & (launches.op_end > launches.call_end))
    is_staged = np.zeros(ev.n, bool)
    is_staged[launches.call[staged]] = True
    return _Staged(launches.call[staged], l_op[staged], (launches.call_end - launches.op_end)[staged], is_staged)


def _held_calls(ev: _Events, pts: _Points, gpu: _GpuOps, launches: _Launches, waits: _Waits, staged: _Staged,
                depth_share: float, slow_factor: float) -> dict[str, np.ndarray]:
    """replay_backpressure: launch calls held by a full launch queue."""
    first_call_t = np.full(len(gpu.rows), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first_call_t, launches.op_row, launches.call_t)
    return _backpressure(gpu.rows, ev.device, np.asarray(ev.lanes["device"], np.int64), ev.ts, ev.end_t, pts.end,
                         first_call_t, launches.call, ev.device[launches.op], waits.is_waiting, staged.is_staged,
                         ev.name_code, launches.call_t, launches.call_dur, depth_share, slow_factor)


def _stream_waits(con: duckdb.DuckDBPyConnection, ev: _Events, pts: _Points, gpu: _GpuOps,
                  launches: _Launches) -> _StreamWaits:
    """Still the SQL (graph_stream_waits.sql), over the ops and launches above."""
    none = np.zeros(0, np.int64)
    if not con.execute(load_sql(PACKAGE, "graph_arrays_stream_wait_count")).fetchall()[0][0]:
        return _StreamWaits(none, none, none, none)
    gi = gpu.rows
    ops = arrow.table({"event_id": ev.ev_id[gi], "lane_id": ev.lane[gi], "start_point": pts.start[gi],
                       "end_point": pts.end[gi], "ts_ns": ev.ts[gi], "dur_ns": ev.dur[gi]})
    with _handed_in(con, replay_gpu_ops=ops, replay_launches=arrow.table({"op_id": ev.ev_id[launches.op],
                                                                          "call_t": launches.call_t})):
        run_script(con, PACKAGE, "graph_stream_waits")  # its table goes with build_graph's scratch tables
        waits = _fetch(con, "graph_arrays_stream_waits")
    return _StreamWaits(waits["producer_end_point"].astype(np.int64), waits["consumer_start_point"].astype(np.int64),
                        ev.rows.of(waits["consumer_id"].astype(np.int64)), waits["gap"].astype(np.int64))


def _handoffs(pts: _Points, seq: np.ndarray, walk: tuple, n_slots: int, thread_wake_ns: int) -> np.ndarray:
    """replay_handoffs: a thread that waits while another runs a burst of work and wakes it."""
    bursts, burst_slot, waiting, wait_slot, wait_next, ending, end_slot, end_next = walk
    w_start, w_stop = _groups(wait_slot, n_slots)
    e_start, e_stop = _groups(end_slot, n_slots)
    p_t = pts.t
    return gk.handoffs(seq[bursts], p_t[seq[bursts]], burst_slot, np.flatnonzero(w_stop > w_start),
                       w_start, w_stop, seq[waiting], p_t[seq[waiting]], wait_next, p_t[wait_next],
                       e_start, e_stop, seq[ending], p_t[seq[ending]], end_next, thread_wake_ns)


def _stream_order(ev: _Events, gpu: _GpuOps, launches: _Launches, stream_waits: _StreamWaits,
                  queue_gap_ns: int) -> _StreamOrder:
    gi, lane, ts = gpu.rows, ev.lane, ev.ts
    so_rows = np.lexsort((ev.ev_id[gi], ts[gi], lane[gi]))
    so = gi[so_rows]
    first_on_lane = np.ones(len(so), bool)
    first_on_lane[1:] = lane[so][1:] != lane[so][:-1]
    prev_op = np.where(first_on_lane, -1, np.roll(so, 1))
    has_prev = prev_op >= 0
    prev_end = np.where(has_prev, ev.end_t[prev_op], 0)
    ahead = launches.ahead
    launch_t = np.full(len(gi), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(launch_t, launches.op_row[ahead], launches.call_t[ahead])
    launch_t = launch_t[so_rows]
    has_launch = launch_t != np.iinfo(np.int64).max
    sw = stream_waits
    wait_bound = np.zeros(ev.n, bool)
    wait_bound[sw.consumer[(sw.gap < queue_gap_ns) & (sw.consumer >= 0)]] = True
    own_queued = has_prev & (ts[so] >= prev_end) & (~has_launch | (launch_t < prev_end))
    overlapped = has_prev & (ts[so] < prev_end)
    queued = np.zeros(ev.n, bool)
    queued[so] = own_queued | wait_bound[so] | overlapped
    return _StreamOrder(so, prev_op, has_prev, prev_end, own_queued, overlapped, has_launch, wait_bound, queued)


class _CpuChain(NamedTuple):
    """What graph_passes.count_cpu_chain and place_cpu_chain read to place each CPU thread's edges
    straight into the edge arrays: tuples of arrays, each in the order the pass reads them."""
    thread: tuple       # seq (points by thread, in time order), offsets (each thread's first)
    points: tuple       # each point's time, whether it ends its event, its event
    waits: tuple        # blocking calls by end point: points, waited, op_end, end
    held: tuple         # held launches by end point: points, typical
    staged: tuple       # staged copies by their call's end point: points, the copy's start
    handed: np.ndarray  # points a hand-off arrives at, sorted
    is_launcher: np.ndarray  # per event: it launched GPU work
    classes: tuple      # the edge classes cpu, launch_call, fixed


def _cpu_chain(ev: _Events, pts: _Points, launches: _Launches, waits: _Waits, staged: _Staged, held: dict,
               seq: np.ndarray, offsets: np.ndarray, handoffs: np.ndarray) -> _CpuChain:
    end_point = pts.end
    w_order = np.argsort(end_point[waits.ev], kind="stable")
    bp_order = np.argsort(end_point[held["call"]], kind="stable")
    st_order = np.argsort(end_point[staged.call], kind="stable")
    is_launcher = np.zeros(ev.n, bool)
    is_launcher[launches.call] = True
    return _CpuChain((seq, offsets), (pts.t, pts.is_end, pts.local),
                     (end_point[waits.ev][w_order], waits.waited[w_order], waits.op_end[w_order], waits.end[w_order]),
                     (end_point[held["call"]][bp_order], held["typical"][bp_order]),
                     (end_point[staged.call][st_order], ev.ts[staged.op][st_order]), np.unique(handoffs[:, [1, 4]]),
                     is_launcher, (_CLASS["cpu"], _CLASS["launch_call"], _CLASS["fixed"]))


def _edge_parts(ev: _Events, pts: _Points, gpu: _GpuOps, launches: _Launches, waits: _Waits, staged: _Staged,
                held: dict, stream_waits: _StreamWaits, handoffs: np.ndarray, order: _StreamOrder,
                queue_gap_ns: int) -> list[tuple]:
    """replay_edges but the CPU threads' own (_cpu_chain): each part as (src, dst, lag, class, bytes,
    offset, backward), the last four one value for all or one per edge."""
    parts = []

    def edges(src, dst, lag, cls, nb=-1, offset=0, backward=False):
        parts.append((np.asarray(src, np.int64), np.asarray(dst, np.int64), np.asarray(lag, np.int64),
                      np.atleast_1d(np.asarray(cls, np.int64)), np.atleast_1d(np.asarray(nb, np.int64)),
                      np.atleast_1d(np.asarray(offset, np.int64)), np.atleast_1d(np.asarray(backward, bool))))

    start_point, end_point, ts, dur = pts.start, pts.end, ev.ts, ev.dur
    w = waits
    # blocking calls after the GPU work launched before them; work ending as the call returns may
    # sort after the return (a zero-length op at that instant): the edge still binds (backward)
    edges(w.gpu_point, end_point[w.ev], np.where(w.waited, w.end - w.op_end, w.end - w.ts), _CLASS["fixed"],
          backward=w.waited & (w.op_end >= w.end))
    # back-pressure (the op retired may end as the call returns, as above)
    edges(held["gpu_point"], end_point[held["call"]], held["end_t"] - held["op_end"], _CLASS["fixed"],
          backward=held["op_end"] >= held["end_t"])
    # hand-offs
    edges(handoffs[:, 0], handoffs[:, 1], handoffs[:, 2], _CLASS["cpu"])
    edges(handoffs[:, 3], handoffs[:, 4], handoffs[:, 5], _CLASS["cpu"])
    # staged copies
    edges(start_point[staged.op], end_point[staged.call], dur[staged.op], gpu.op_class[staged.op], ev.nbytes[staged.op],
          staged.offset)
    # GPU op durations
    gi = gpu.rows
    edges(start_point[gi], end_point[gi], dur[gi], gpu.op_class[gi], ev.nbytes[gi])
    # stream order
    so, prev_op, prev_end = order.ops, order.prev_op, order.prev_end
    after = order.has_prev & (ts[so] >= prev_end)
    keep_gap = order.own_queued | (~order.has_launch & ~order.wait_bound[so])
    edges(end_point[prev_op[after]], start_point[so[after]], np.where(keep_gap[after], ts[so[after]] - prev_end[after], 0),
          _CLASS["fixed"])
    # PDL overlap
    overlapped = order.overlapped
    edges(start_point[prev_op[overlapped]], start_point[so[overlapped]], ts[so[overlapped]] - ts[prev_op[overlapped]],
          gpu.op_class[prev_op[overlapped]])
    # cross-stream waits
    sw = stream_waits
    edges(sw.producer, sw.consumer_point, np.where(sw.gap < queue_gap_ns, sw.gap, 0), _CLASS["fixed"])
    # launches
    ahead, l_call, l_op = launches.ahead, launches.call, launches.op
    measured = (launches.op_t - launches.call_t)[ahead]
    bound = ~order.queued[l_op[ahead]]
    typical_launch = (_median_rint(measured[bound]) if bound.any() else float(measured.min()) if len(measured) else 0.0)
    edges(start_point[l_call[ahead]], start_point[l_op[ahead]],
          np.where(bound, measured, np.minimum(measured, int(typical_launch))), _CLASS["launch"])
    return parts


def _csr(n: int, chain: _CpuChain, parts: list[tuple]) -> tuple[np.ndarray, ...]:
    """The edges by destination (a counting sort over the parts, no copy of them all), then by source:
    (indptr, src, base_lag, edge_class, bytes, offset)."""
    indptr = np.zeros(2 * n + 1, np.int64)
    gk.count_cpu_chain(chain.thread, chain.points[1], chain.staged[0], indptr)
    for part in parts:
        gk.count_destinations(part[0], part[1], part[6], indptr)
    shared = np.flatnonzero(indptr[1:] > 1)  # destinations of several edges
    np.cumsum(indptr, out=indptr)
    m = int(indptr[-1])
    src, base_lag, edge_class, e_bytes, offset = (np.empty(m, np.int64) for _ in range(5))
    fill = indptr[:-1]  # each destination's next free slot: once all are placed, the next destination's first
    gk.place_cpu_chain(*chain, fill, (src, base_lag, edge_class, e_bytes, offset))
    for part in parts:
        gk.scatter_edges(*part, fill, src, base_lag, edge_class, e_bytes, offset)
    parts.clear()
    gk.shift_right(indptr)  # back to each destination's first slot
    gk.sort_sources(indptr, shared, src, base_lag, edge_class, e_bytes, offset)
    return indptr, src, base_lag, edge_class, e_bytes, offset


def _backpressure(gi, device, lane_devices, ts, end_t, end_point, first_call_t, l_call, op_device, is_waiting, is_staged, name_code,
                  call_t, call_dur, depth_share, slow_factor) -> dict[str, np.ndarray]:
    """replay_backpressure (graph_gpu.sql): per held call its end, the typical duration of its name,
    the GPU op it waited for and that op's end."""
    none = {"call": np.zeros(0, np.int64), "typical": np.zeros(0, np.int64), "gpu_point": np.zeros(0, np.int64),
            "end_t": np.zeros(0, np.int64), "op_end": np.zeros(0, np.int64)}
    eligible = ~is_waiting[l_call] & ~is_staged[l_call]
    if not eligible.any():
        return none
    rows = np.flatnonzero(eligible)
    calls, first, call_of = np.unique(l_call[rows], return_index=True, return_inverse=True)
    c_t, c_dur = call_t[rows[first]], call_dur[rows[first]]
    c_dev = np.full(len(calls), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(c_dev, call_of, op_device[rows])  # a call launching onto several devices: the first
    c_name = name_code[calls]
    present = np.flatnonzero(np.bincount(c_name))
    code_rank = np.zeros(int(c_name.max()) + 1, np.int64)
    code_rank[present] = np.arange(len(present))
    names_u, name_of = present, code_rank[c_name]
    typical = np.zeros(len(names_u), np.int64)
    order = np.argsort(name_of, kind="stable")
    bounds = np.searchsorted(name_of[order], np.arange(len(names_u) + 1))
    for i in range(len(names_u)):  # one median per distinct call name
        typical[i] = int(_median_rint(c_dur[order[bounds[i]:bounds[i + 1]]]))
    # queue depth at each call: ops of its device launched before it (or before the window) less
    # ops started before it
    devices = np.unique(lane_devices)  # few: one per lane at most
    dev_of_op = np.searchsorted(devices, device[gi])
    depth = np.zeros(len(calls), np.int64)
    c_dev_idx = np.searchsorted(devices, c_dev)
    for d in range(len(devices)):
        on_device = dev_of_op == d
        launched = first_call_t[on_device]  # ops launched before the window count as launched first
        launched = np.sort(np.where(launched == np.iinfo(np.int64).max, np.iinfo(np.int64).min, launched))
        started = np.sort(ts[gi[on_device]])
        mine = c_dev_idx == d
        depth[mine] = np.searchsorted(launched, c_t[mine], "left") - np.searchsorted(started, c_t[mine], "left")
    all_median = float(np.median(c_dur))
    held = np.zeros(len(calls), bool)
    for d in range(len(devices)):
        mine = c_dev_idx == d
        if not mine.any():
            continue
        deep = mine & (depth >= depth_share * depth[mine].max())
        if (c_dur[deep] > slow_factor * all_median).any():
            held |= deep
    if not held.any():
        return none
    calls, c_t, c_dur, c_dev_idx = calls[held], c_t[held], c_dur[held], c_dev_idx[held]
    typical_of = typical[name_of[held]]
    gpu_point = np.full(len(calls), -1, np.int64)
    op_end = np.full(len(calls), _NONE, np.int64)
    for d in np.unique(c_dev_idx):  # the latest op of the device ended by the call's end (the first of those ending at once)
        ops = gi[dev_of_op == d]
        ops = ops[np.lexsort((end_point[ops], end_t[ops]))]
        ends = end_t[ops]
        mine = np.flatnonzero(c_dev_idx == d)
        hit = np.searchsorted(ends, c_t[mine] + c_dur[mine], "right") - 1
        ok = hit >= 0
        first = np.searchsorted(ends, ends[hit[ok]], "left")
        gpu_point[mine[ok]] = end_point[ops[first]]
        op_end[mine[ok]] = ends[first]
    keep = (gpu_point >= 0) & (op_end > c_t)
    return {"call": calls[keep], "typical": typical_of[keep], "gpu_point": gpu_point[keep],
            "end_t": (c_t + c_dur)[keep], "op_end": op_end[keep]}
