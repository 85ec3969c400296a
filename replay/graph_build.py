"""The replay graph built from arrays: the same points and edges as the graph's SQL
(replay/sql/graph_*.sql, the documented definition, which tests/replay/test_graph_build.py holds
this build to on every trace), in sorts and linear passes over the trace's events read once.

Each step below names the table of the SQL it stands for. DuckDB still gives the rules that are
matched once per distinct name (gpu_class, is_blocking_call), the kernels' work, the stream a
synchronize waited on, and the cross-stream waits (rare, and only where a trace records them).
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retime.replay import graph_kernels as gk
from retime.replay.scenario import EDGE_CLASSES, GPU_CLASSES
from retime.sqlfiles import load_sql, run_script

PACKAGE = "retime.replay"
STEPS = ("events", "points", "gpu ops", "launches", "waits", "staged copies", "back-pressure", "stream waits",
         "cpu points", "hand-offs", "streams", "edges", "order")
_CLASS = {name: i for i, name in enumerate(EDGE_CLASSES)}
_GPU_CLASS = {name: i for i, name in enumerate(GPU_CLASSES)}
CONSTANTS = ("queue_gap_ns", "thread_wake_ns", "thread_idle_ns", "backpressure_depth_share",
             "backpressure_slow_factor", "ridge_flop_per_byte")  # what build_arrays takes from replay/graph.py
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
    names: list[str]
    src: np.ndarray
    dst: np.ndarray
    base_lag: np.ndarray
    edge_class: np.ndarray
    bytes: np.ndarray
    offset: np.ndarray


def _fetch(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, np.ndarray]:
    return con.execute(load_sql(PACKAGE, name)).fetchnumpy()


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """int32 codes of a string column over its distinct values in sorted order (as DuckDB orders
    VARCHAR: by bytes, which for UTF-8 is code point order)."""
    encoded = pc.dictionary_encode(column).combine_chunks() if isinstance(column, pa.ChunkedArray) else pc.dictionary_encode(column)
    values = encoded.dictionary.to_pylist()
    ranks = np.argsort(np.array(values, dtype=object), kind="stable") if values else np.zeros(0, np.int64)
    rank_of = np.empty(len(values), np.int32)
    rank_of[ranks] = np.arange(len(values), dtype=np.int32)
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return rank_of[indices] if len(values) else np.zeros(len(indices), np.int32), [values[i] for i in ranks]


def _lookup(ids: np.ndarray, sorter: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Local index of each wanted event id among ids, -1 where absent."""
    if len(ids) == 0:
        return np.full(len(wanted), -1, np.int64)
    sorted_ids = ids[sorter]
    pos = np.minimum(np.searchsorted(sorted_ids, wanted), len(ids) - 1)
    return np.where(sorted_ids[pos] == wanted, sorter[pos], -1)


def _median_rint(values: np.ndarray) -> float:
    """DuckDB's median of integers cast to BIGINT: the interpolated median, rounded half to even."""
    return float(np.rint(np.median(values)))


def _groups(keys: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each group 0..n_groups-1 in rows sorted by keys."""
    start = np.searchsorted(keys, np.arange(n_groups), "left")
    end = np.searchsorted(keys, np.arange(n_groups), "right")
    return start, end


def _dense(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and each value's index among them."""
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, inverse.astype(np.int64)


def build_arrays(con: duckdb.DuckDBPyConnection, step=None, queue_gap_ns: int = 0, thread_wake_ns: int = 0,
                 thread_idle_ns: int = 0, backpressure_depth_share: float = 0.0, backpressure_slow_factor: float = 0.0,
                 ridge_flop_per_byte: float = 0.0) -> GraphArrays:
    """The graph of the trace whose variables are set on `con` (replay/graph.py sets them and loads
    the macros). `step` is called after each of STEPS."""
    def done():
        if step:
            step()

    run_script(con, PACKAGE, "graph_events")
    run_script(con, PACKAGE, "graph_inputs")
    table = con.sql(load_sql(PACKAGE, "graph_arrays_events")).to_arrow_table()
    ev_id = table["event_id"].to_numpy().astype(np.int64)
    n = len(ev_id)
    lane = table["lane_id"].to_numpy().astype(np.int64)
    is_gpu = table["is_gpu"].to_numpy(zero_copy_only=False).astype(bool)
    ts = table["ts_ns"].to_numpy().astype(np.int64)
    dur = table["dur_ns"].to_numpy().astype(np.int64)
    nbytes = table["bytes"].to_numpy().astype(np.int64)
    pageable = table["pageable"].to_numpy(zero_copy_only=False).astype(bool)
    kind_code, kinds = _codes(table["kind"])
    name_code, names = _codes(table["name"])
    copy_code, copy_kinds = _codes(table["copy_kind"])
    del table
    kind_is = {k: (kind_code == i) if n else np.zeros(0, bool) for i, k in enumerate(kinds)}
    empty = np.zeros(n, bool)
    kernelish, collective = kind_is.get("kernel", empty), kind_is.get("collective", empty)
    memcpy, memset = kind_is.get("memcpy", empty), kind_is.get("memset", empty)
    is_call = ~is_gpu & (kind_is.get("runtime", empty) | kind_is.get("driver", empty))
    end_t = ts + dur
    lanes = _fetch(con, "graph_arrays_lanes")
    lane_ids = lanes["lane_id"].astype(np.int64)
    lane_sorter = np.argsort(lane_ids, kind="stable")
    lane_row = _lookup(lane_ids, lane_sorter, lane)
    device = lanes["device"].astype(np.int64)[lane_row] if n else np.zeros(0, np.int64)
    stream = lanes["stream"].astype(np.int64)[lane_row] if n else np.zeros(0, np.int64)
    has_stream = lanes["has_stream"].astype(bool)[lane_row] if n else np.zeros(0, bool)
    sorter = np.argsort(ev_id, kind="stable")
    done()

    # replay_points: two per event, by time, then the instant's order (graph_points.sql)
    t2 = np.concatenate([ts, end_t])
    end2 = np.concatenate([np.zeros(n, bool), np.ones(n, bool)])
    gpu2 = np.concatenate([is_gpu, is_gpu])
    dur2 = np.concatenate([dur, dur])
    instant = np.where(end2, np.where(dur2 > 0, 0, 2), 1).astype(np.int64)
    k1 = instant * 2 + np.where(end2, ~gpu2, gpu2).astype(np.int64)
    k2 = np.where(end2, dur2, -dur2)
    k3 = np.concatenate([ev_id, ev_id])
    order = np.argsort(t2, kind="stable")
    gk.order_ties(order, t2, k1, k2, k3)
    del k1, k2, k3, instant, dur2
    position = np.empty(2 * n, np.int64)
    position[order] = np.arange(2 * n, dtype=np.int64)
    start_point, end_point = position[:n], position[n:]
    p_local = order % n if n else order
    p_t = t2[order]
    p_end = end2[order]
    del t2, end2, gpu2, position
    done()

    # replay_gpu_ops: each GPU op's class by name and the roofline's verdict (graph_gpu.sql)
    gi = np.flatnonzero(is_gpu)
    pair_key = kind_code[gi].astype(np.int64) * (len(names) + 1) + name_code[gi]
    pairs, first_of_pair, pair_of = np.unique(pair_key, return_index=True, return_inverse=True)
    name_list = pa.table({"i": np.arange(len(pairs), dtype=np.int64),
                          "kind": pa.array([kinds[kind_code[gi[r]]] for r in first_of_pair], pa.string()),
                          "name_key": pa.array([names[name_code[gi[r]]] for r in first_of_pair], pa.string())})
    con.register("replay_gpu_name_list", name_list)
    try:
        pair_class = _fetch(con, "graph_arrays_gpu_names")["gpu_class"].astype(np.int8)
    finally:
        con.unregister("replay_gpu_name_list")
    gpu_class = np.full(n, -1, np.int8)
    gpu_class[gi] = pair_class[pair_of]
    work = _fetch(con, "graph_arrays_kernel_work")
    fpb = np.full(n, np.nan, np.float64)
    elem = np.full(n, 2.0)
    roof = np.full(n, -1, np.int8)
    worked = _lookup(ev_id, sorter, work["event_id"].astype(np.int64))
    known = worked >= 0
    fpb[worked[known]] = work["flop_per_byte"][known]
    elem[worked[known]] = work["elem"][known]
    roof[worked[known]] = work["roof"][known]
    op_class = np.full(n, _CLASS["membound"], np.int64)
    op_class[np.isin(gpu_class, [_GPU_CLASS["gemm"], _GPU_CLASS["attention"], _GPU_CLASS["convolution"]])] = _CLASS["compute"]
    gemm_known = (gpu_class == _GPU_CLASS["gemm"]) & ~np.isnan(fpb)
    below_ridge = fpb < ridge_flop_per_byte / (elem / 2)
    op_class[gemm_known] = np.where(below_ridge[gemm_known], _CLASS["membound"], _CLASS["compute"])
    copy_name = np.array(copy_kinds + [""], dtype=object)[copy_code] if n else np.zeros(0, object)
    copy_class = np.full(n, _CLASS["d2d"], np.int64)
    for kind_name, cls in (("H2D", "h2d"), ("D2H", "d2h"), ("P2P", "p2p")):
        copy_class[copy_name == kind_name] = _CLASS[cls]
    op_class[memcpy] = copy_class[memcpy]
    op_class[memset] = _CLASS["memset"]
    op_class[collective | (gpu_class == _GPU_CLASS["communication"])] = _CLASS["comm"]
    op_class[~is_gpu] = -1
    del copy_name, copy_class, below_ridge
    done()

    # replay_launches: a replayed call -> the GPU op it launched
    deps = _fetch(con, "graph_arrays_launch_deps")
    l_call = _lookup(ev_id, sorter, deps["src_event_id"].astype(np.int64))
    l_op = _lookup(ev_id, sorter, deps["dst_event_id"].astype(np.int64))
    keep = (l_call >= 0) & (l_op >= 0)
    l_call, l_op = l_call[keep], l_op[keep]
    keep = ~is_gpu[l_call] & is_gpu[l_op]
    l_call, l_op = l_call[keep], l_op[keep]
    call_t, call_dur, op_t, op_end = ts[l_call], dur[l_call], ts[l_op], end_t[l_op]
    call_end = call_t + call_dur
    done()

    # replay_waits: blocking calls and the latest-ending op launched before each began
    call_names, call_name_of = _dense(name_code[is_call])
    call_list = pa.table({"i": np.arange(len(call_names), dtype=np.int64),
                          "name": pa.array([names[c] for c in call_names], pa.string())})
    con.register("replay_call_name_list", call_list)
    try:
        blocking_rows = _fetch(con, "graph_arrays_blocking")["i"].astype(np.int64)
    finally:
        con.unregister("replay_call_name_list")
    by_name = np.zeros(n, bool)
    call_rows = np.flatnonzero(is_call)
    name_blocks = np.zeros(len(call_names), bool)
    name_blocks[blocking_rows] = True
    by_name[call_rows] = name_blocks[call_name_of]
    own_done = np.zeros(n, bool)
    own_done[l_call[(op_end > call_t) & (op_end <= call_end)]] = True
    blocking = np.flatnonzero(is_call & (by_name | own_done))
    synced = _fetch(con, "graph_arrays_synced")
    sync_stream = np.full(n, _NONE, np.int64)
    sync_rows = _lookup(ev_id, sorter, synced["event_id"].astype(np.int64))
    sync_stream[sync_rows[sync_rows >= 0]] = synced["sync_stream"].astype(np.int64)[sync_rows >= 0]
    op_stream = stream[l_op]
    # partition 0: every launch; partition 1+s: launches onto stream s (rows of stream-less lanes
    # would only repeat partition 0's)
    stream_ids, stream_of_launch = _dense(op_stream[has_stream[l_op]])
    part = np.concatenate([np.zeros(len(l_op), np.int64), 1 + stream_of_launch])
    rows = np.concatenate([np.arange(len(l_op)), np.flatnonzero(has_stream[l_op])])
    by = np.lexsort((end_point[l_op[rows]], op_end[rows], call_t[rows], part))
    part_s, rows_s = part[by], rows[by]
    best_end, best_point = gk.running_latest(part_s, op_end[rows_s], end_point[l_op[rows_s]])
    g_start, g_end = _groups(part_s, 1 + len(stream_ids))
    b_stream = sync_stream[blocking]
    b_part = np.zeros(len(blocking), np.int64)
    has_sync = b_stream != _NONE
    if len(stream_ids):
        spos = np.minimum(np.searchsorted(stream_ids, b_stream[has_sync]), len(stream_ids) - 1)
        b_part[has_sync] = np.where(stream_ids[spos] == b_stream[has_sync], 1 + spos, -1)
    else:
        b_part[has_sync] = -1
    hit = gk.last_at_or_before(g_start, g_end, call_t[rows_s], b_part, ts[blocking], False)
    launched_ahead = op_t >= call_t
    tol = int((op_t - call_t)[launched_ahead].min()) if launched_ahead.any() else 0
    found = hit >= 0
    w_ev = blocking[found]
    w_op_end = best_end[hit[found]]
    w_gpu_point = best_point[hit[found]]
    w_ts, w_end = ts[w_ev], end_t[w_ev]
    keep = ((w_op_end > w_ts) & (w_op_end <= w_end + tol)) | (by_name[w_ev] & (w_op_end <= w_ts))
    w_ev, w_op_end, w_gpu_point, w_ts, w_end = w_ev[keep], w_op_end[keep], w_gpu_point[keep], w_ts[keep], w_end[keep]
    w_waited = w_op_end > w_ts
    is_waiting = np.zeros(n, bool)
    is_waiting[w_ev] = True
    done()

    # replay_staged: copies from or to pageable memory whose call returns as the copy ends
    staged = (memcpy[l_op] & pageable[l_op] & (op_t >= call_t) & (op_t < call_end) & (op_end > call_end))
    s_call, s_op = l_call[staged], l_op[staged]
    s_offset = (call_end - op_end)[staged]
    is_staged = np.zeros(n, bool)
    is_staged[s_call] = True
    done()

    # replay_backpressure: launch calls held by a full launch queue
    op_device = device[l_op]
    first_call_t = np.full(n, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first_call_t, l_op, call_t)
    bp = _backpressure(gi, device, ts, end_t, end_point, first_call_t, l_call, op_device, is_waiting, is_staged,
                       name_code, call_t, call_dur, backpressure_depth_share, backpressure_slow_factor)
    done()

    # replay_stream_waits: still the SQL (graph_stream_waits.sql), over the ops and launches above
    sw_producer = sw_consumer_point = sw_consumer = sw_gap = np.zeros(0, np.int64)
    if con.execute(load_sql(PACKAGE, "graph_arrays_stream_wait_count")).fetchall()[0][0]:
        con.register("replay_gpu_ops", pa.table({"event_id": ev_id[gi], "lane_id": lane[gi], "start_point": start_point[gi],
                                                 "end_point": end_point[gi], "ts_ns": ts[gi], "dur_ns": dur[gi]}))
        con.register("replay_launches", pa.table({"op_id": ev_id[l_op], "call_t": call_t}))
        try:
            run_script(con, PACKAGE, "graph_stream_waits")
            waits = _fetch(con, "graph_arrays_stream_waits")
        finally:
            con.unregister("replay_gpu_ops")
            con.unregister("replay_launches")
            con.execute("DROP TABLE IF EXISTS temp.replay_stream_waits").fetchall()
        sw_producer = waits["producer_end_point"].astype(np.int64)
        sw_consumer_point = waits["consumer_start_point"].astype(np.int64)
        sw_consumer = _lookup(ev_id, sorter, waits["consumer_id"].astype(np.int64))
        sw_gap = waits["gap"].astype(np.int64)
    done()

    # replay_cpu_points: each CPU thread's points in order, with its depth of open events
    cpu_pts = np.flatnonzero(~is_gpu[p_local])
    seq = cpu_pts[np.argsort(lane[p_local[cpu_pts]], kind="stable")]
    seq_lane = lane[p_local[seq]]
    new_lane = np.ones(len(seq), bool)
    new_lane[1:] = seq_lane[1:] != seq_lane[:-1]
    last_of_lane = np.ones(len(seq), bool)
    last_of_lane[:-1] = new_lane[1:]
    steps = np.where(p_end[seq], -1, 1).astype(np.int64)
    running = np.cumsum(steps)
    lane_base = np.maximum.accumulate(np.where(new_lane, np.arange(len(seq)), 0)) if len(seq) else seq
    depth = running - (running[lane_base] - steps[lane_base]) if len(seq) else running
    prev_point = np.where(new_lane, -1, np.roll(seq, 1))
    next_point = np.where(last_of_lane, -1, np.roll(seq, -1))
    seq_t = p_t[seq]
    prev_t = np.where(new_lane, 0, np.roll(seq_t, 1))
    next_t = np.where(last_of_lane, 0, np.roll(seq_t, -1))
    done()

    # replay_handoffs: a thread that waits while another runs a burst of work and wakes it
    lane_slots, slot = _dense(seq_lane)
    bursts = ~p_end[seq] & (depth == 1) & (new_lane | (seq_t - prev_t >= thread_idle_ns))
    waiting = (depth > 0) & ~last_of_lane & (next_t - seq_t >= thread_idle_ns)
    ending = (depth == 0) & (last_of_lane | (next_t - seq_t >= thread_idle_ns))
    w_start, w_stop = _groups(slot[waiting], len(lane_slots))
    e_start, e_stop = _groups(slot[ending], len(lane_slots))
    handoffs = gk.handoffs(seq[bursts], seq_t[bursts], slot[bursts], np.flatnonzero(w_stop > w_start),
                           w_start, w_stop, seq[waiting], seq_t[waiting], next_point[waiting], next_t[waiting],
                           e_start, e_stop, seq[ending], seq_t[ending], next_point[ending], thread_wake_ns)
    done()

    # replay_stream: each GPU op after the previous op on its stream
    so = gi[np.lexsort((ev_id[gi], ts[gi], lane[gi]))]
    first_on_lane = np.ones(len(so), bool)
    first_on_lane[1:] = lane[so][1:] != lane[so][:-1]
    prev_op = np.where(first_on_lane, -1, np.roll(so, 1))
    has_prev = prev_op >= 0
    prev_end = np.where(has_prev, end_t[prev_op], 0)
    launch_t = np.full(n, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(launch_t, l_op[launched_ahead], call_t[launched_ahead])
    has_launch = launch_t[so] != np.iinfo(np.int64).max
    wait_bound = np.zeros(n, bool)
    wait_bound[sw_consumer[(sw_gap < queue_gap_ns) & (sw_consumer >= 0)]] = True
    own_queued = has_prev & (ts[so] >= prev_end) & (~has_launch | (launch_t[so] < prev_end))
    overlapped = has_prev & (ts[so] < prev_end)
    queued_of = np.zeros(n, bool)
    queued_of[so] = own_queued | wait_bound[so] | overlapped
    done()

    # replay_edges
    parts = []

    def edges(src, dst, lag, cls, nb=None, offset=None, backward=None):
        m = len(src)
        parts.append((np.asarray(src, np.int64), np.asarray(dst, np.int64), np.asarray(lag, np.int64),
                      np.broadcast_to(np.asarray(cls, np.int64), m),
                      np.full(m, -1, np.int64) if nb is None else np.asarray(nb, np.int64),
                      np.zeros(m, np.int64) if offset is None else np.asarray(offset, np.int64),
                      np.zeros(m, bool) if backward is None else np.asarray(backward, bool)))

    # CPU threads
    chain = prev_point >= 0
    c_dst, c_src = seq[chain], prev_point[chain]
    c_t = seq_t[chain]
    c_lag = c_t - prev_t[chain]
    c_end = p_end[c_dst]
    c_event, c_prev_event = p_local[c_dst], p_local[c_src]
    wait_at = np.full(2 * n, -1, np.int64)
    wait_at[end_point[w_ev]] = np.arange(len(w_ev))
    bp_at = np.full(2 * n, -1, np.int64)
    bp_at[end_point[bp["call"]]] = np.arange(len(bp["call"]))
    staged_by_point = np.argsort(end_point[s_call], kind="stable")
    staged_points = end_point[s_call][staged_by_point]
    first_staged = np.searchsorted(staged_points, c_dst, "left")
    n_staged = np.where(c_end, np.searchsorted(staged_points, c_dst, "right") - first_staged, 0)
    copies = np.maximum(n_staged, 1)
    rep = np.repeat(np.arange(len(c_dst)), copies)
    within = np.arange(len(rep)) - np.repeat(np.cumsum(copies) - copies, copies)
    st_row = np.where(np.repeat(n_staged, copies) > 0,
                      staged_by_point[np.minimum(first_staged[rep] + within, max(len(staged_by_point) - 1, 0))]
                      if len(staged_by_point) else -1, -1)
    c_dst, c_src, c_t, c_lag, c_end = c_dst[rep], c_src[rep], c_t[rep], c_lag[rep], c_end[rep]
    c_event, c_prev_event = c_event[rep], c_prev_event[rep]
    w_row = np.where(c_end, wait_at[c_dst], -1)
    w_hit = w_row >= 0
    w_waits = np.zeros(len(c_dst), bool)
    w_waits[w_hit] = w_waited[w_row[w_hit]]
    own_step = c_end & (c_prev_event == c_event)
    b_row = np.where(own_step, bp_at[c_dst], -1)
    handed = np.zeros(2 * n, bool)
    handed[handoffs[:, 1]] = True
    handed[handoffs[:, 4]] = True
    h_hit = handed[c_dst]
    is_launcher = np.zeros(n, bool)
    is_launcher[l_call] = True
    lag = c_lag.copy()
    w_op_end_at = np.zeros(len(c_dst), np.int64)
    w_op_end_at[w_hit] = w_op_end[w_row[w_hit]]
    w_end_at = np.zeros(len(c_dst), np.int64)
    w_end_at[w_hit] = w_end[w_row[w_hit]]
    typical = bp["typical"]
    staged_start = np.where(st_row >= 0, ts[s_op[np.maximum(st_row, 0)]] if len(s_op) else 0, 0)
    lag = np.where(h_hit, 0, lag)
    has_st = st_row >= 0
    lag = np.where(has_st, np.maximum(0, np.minimum(c_lag, staged_start - (c_t - c_lag))), lag)
    has_bp = b_row >= 0
    lag = np.where(has_bp, np.minimum(c_lag, typical[np.maximum(b_row, 0)] if len(typical) else 0), lag)
    lag = np.where(w_waits, np.maximum(0, c_lag - np.maximum(0, w_op_end_at - (w_end_at - c_lag))), lag)
    cls = np.where(own_step & is_launcher[c_event], _CLASS["launch_call"], _CLASS["cpu"])
    cls = np.where(w_waits | h_hit, _CLASS["fixed"], cls)
    edges(c_src, c_dst, lag, cls)
    # blocking calls after the GPU work launched before them
    edges(w_gpu_point, end_point[w_ev], np.where(w_waited, w_end - w_op_end, w_end - w_ts), _CLASS["fixed"],
          backward=w_waited & (w_op_end > w_end))
    # back-pressure
    edges(bp["gpu_point"], end_point[bp["call"]], bp["end_t"] - bp["op_end"], _CLASS["fixed"])
    # hand-offs
    edges(handoffs[:, 0], handoffs[:, 1], handoffs[:, 2], _CLASS["cpu"])
    edges(handoffs[:, 3], handoffs[:, 4], handoffs[:, 5], _CLASS["cpu"])
    # staged copies
    edges(start_point[s_op], end_point[s_call], dur[s_op], op_class[s_op], nbytes[s_op], s_offset)
    # GPU op durations
    edges(start_point[gi], end_point[gi], dur[gi], op_class[gi], nbytes[gi])
    # stream order
    after = has_prev & (ts[so] >= prev_end)
    keep_gap = own_queued | (~has_launch & ~wait_bound[so])
    edges(end_point[prev_op[after]], start_point[so[after]], np.where(keep_gap[after], ts[so[after]] - prev_end[after], 0),
          _CLASS["fixed"])
    # PDL overlap
    edges(start_point[prev_op[overlapped]], start_point[so[overlapped]], ts[so[overlapped]] - ts[prev_op[overlapped]],
          op_class[prev_op[overlapped]])
    # cross-stream waits
    edges(sw_producer, sw_consumer_point, np.where(sw_gap < queue_gap_ns, sw_gap, 0), _CLASS["fixed"])
    # launches
    measured = (op_t - call_t)[launched_ahead]
    bound = ~queued_of[l_op[launched_ahead]]
    typical_launch = (_median_rint(measured[bound]) if bound.any() else float(measured.min()) if len(measured) else 0.0)
    edges(start_point[l_call[launched_ahead]], start_point[l_op[launched_ahead]],
          np.where(bound, measured, np.minimum(measured, int(typical_launch))), _CLASS["launch"])
    src, dst, base_lag, edge_class, e_bytes, offset, backward = (np.concatenate(c) for c in zip(*parts))
    keep = (src < dst) | (backward & (src != dst))
    src, dst, base_lag, edge_class, e_bytes, offset = (a[keep] for a in (src, dst, base_lag, edge_class, e_bytes, offset))
    done()
    by_dst = np.lexsort((src, dst))
    p_ev = ev_id[p_local]
    result = GraphArrays(t=p_t, point_event=p_ev, point_is_end=p_end, point_lane=lane[p_local], point_is_gpu=is_gpu[p_local],
                         point_name=name_code[p_local].astype(np.int32), point_gpu_class=gpu_class[p_local],
                         point_flop_per_byte=np.where(is_gpu, fpb, np.nan).astype(np.float32)[p_local],
                         point_roof=np.where(is_gpu, roof, -1).astype(np.int8)[p_local], names=names,
                         src=src[by_dst], dst=dst[by_dst], base_lag=base_lag[by_dst], edge_class=edge_class[by_dst],
                         bytes=e_bytes[by_dst], offset=offset[by_dst])
    done()
    return result


def _backpressure(gi, device, ts, end_t, end_point, first_call_t, l_call, op_device, is_waiting, is_staged, name_code,
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
    names_u, name_of = np.unique(c_name, return_inverse=True)
    typical = np.zeros(len(names_u), np.int64)
    order = np.argsort(name_of, kind="stable")
    bounds = np.searchsorted(name_of[order], np.arange(len(names_u) + 1))
    for i in range(len(names_u)):  # one median per distinct call name
        typical[i] = int(_median_rint(c_dur[order[bounds[i]:bounds[i + 1]]]))
    # queue depth at each call: ops of its device launched before it (or before the window) less
    # ops started before it
    devices, dev_of_op = np.unique(device[gi], return_inverse=True)
    depth = np.zeros(len(calls), np.int64)
    c_dev_idx = np.searchsorted(devices, c_dev)
    for d in range(len(devices)):
        ops = gi[dev_of_op == d]
        launched = np.sort(first_call_t[ops])
        launched = np.where(launched == np.iinfo(np.int64).max, np.iinfo(np.int64).min, launched)
        launched.sort()
        started = np.sort(ts[ops])
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
