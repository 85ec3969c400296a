"""Numba passes of the replay graph's build over arrays (retime/replay/graph_build.py): each is one
sequential walk that a sort alone cannot do. Pure functions of their arrays."""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _instant_key(i, n, dur, is_gpu):
    """Where point i (event i % n; its end when i >= n) goes among points at one instant
    (graph_points.sql): ends of events that ran, then starts, then ends of zero-length events; among
    ends GPU before CPU, among starts CPU before GPU; then outer before inner."""
    e = i % n
    if i >= n:
        return (0 if dur[e] > 0 else 2) * 2 + (0 if is_gpu[e] else 1), dur[e]
    return 2 + (1 if is_gpu[e] else 0), -dur[e]


@njit(cache=True, nogil=True)
def _before(a, b, n, dur, is_gpu, ev_id):
    ka, da = _instant_key(a, n, dur, is_gpu)
    kb, db = _instant_key(b, n, dur, is_gpu)
    if ka != kb:
        return ka < kb
    if da != db:
        return da < db
    return ev_id[a % n] < ev_id[b % n]


@njit(cache=True, nogil=True)
def point_order(ts, end_t, by_start, by_end, dur, is_gpu, ev_id):
    """replay_points: the order of the 2n points (i < n: event i's start, else event i-n's end) by
    time and then the instant's order, merged from the events sorted by start (by_start) and by end
    (by_end). Returns the order, each point's time, whether it is an end, its event, and each
    event's start and end point."""
    n = ts.shape[0]
    order = np.empty(2 * n, np.int64)
    p_t = np.empty(2 * n, np.int64)
    a = 0
    b = 0
    for k in range(2 * n):
        if b >= n or (a < n and ts[by_start[a]] <= end_t[by_end[b]]):
            order[k] = by_start[a]
            p_t[k] = ts[by_start[a]]
            a += 1
        else:
            order[k] = by_end[b] + n
            p_t[k] = end_t[by_end[b]]
            b += 1
    i = 0
    buf = np.empty(0, np.int64)
    while i < 2 * n:  # runs of one instant, ordered in full
        j = i + 1
        while j < 2 * n and p_t[j] == p_t[i]:
            j += 1
        size = j - i
        if size > 1 and size <= 32:
            for x in range(i + 1, j):
                v = order[x]
                y = x - 1
                while y >= i and _before(v, order[y], n, dur, is_gpu, ev_id):
                    order[y + 1] = order[y]
                    y -= 1
                order[y + 1] = v
        elif size > 32:
            if buf.shape[0] < size:
                buf = np.empty(size, np.int64)
            run = order[i:j]
            width = 1
            while width < size:
                for lo in range(0, size, 2 * width):
                    mid = min(lo + width, size)
                    hi = min(lo + 2 * width, size)
                    x, y, o = lo, mid, lo
                    while x < mid and y < hi:
                        if _before(run[y], run[x], n, dur, is_gpu, ev_id):
                            buf[o] = run[y]
                            y += 1
                        else:
                            buf[o] = run[x]
                            x += 1
                        o += 1
                    while x < mid:
                        buf[o] = run[x]
                        x += 1
                        o += 1
                    while y < hi:
                        buf[o] = run[y]
                        y += 1
                        o += 1
                run[:] = buf[:size]
                width *= 2
        i = j
    p_end = np.empty(2 * n, np.bool_)
    p_event = order  # each point's event, written over its order
    start_point = np.empty(n, np.int64)
    end_point = np.empty(n, np.int64)
    for k in range(2 * n):
        o = order[k]
        if o >= n:
            p_end[k] = True
            p_event[k] = o - n
            end_point[o - n] = k
        else:
            p_end[k] = False
            start_point[o] = k
    return p_t, p_end, p_event, start_point, end_point


@njit(cache=True, nogil=True)
def running_latest(group, end, point):
    """Over rows sorted by (group, launch time): the latest end so far within the group and its
    point (of ends at one instant, the first point)."""
    n = end.shape[0]
    best = np.empty(n, np.int64)
    best_point = np.empty(n, np.int64)
    for i in range(n):
        if i == 0 or group[i] != group[i - 1] or end[i] > best[i - 1] or (end[i] == best[i - 1] and point[i] < best_point[i - 1]):
            best[i] = end[i]
            best_point[i] = point[i]
        else:
            best[i] = best[i - 1]
            best_point[i] = best_point[i - 1]
    return best, best_point


@njit(cache=True, nogil=True)
def last_at_or_before(group_start, group_end, key, query_group, query):
    """For each query: the index of the last row of its group (rows group_start..group_end, sorted
    by key) whose key is <= the query's, or -1 (also for a query of group -1)."""
    out = np.full(query.shape[0], -1, np.int64)
    for i in range(query.shape[0]):
        g = query_group[i]
        if g >= 0:
            out[i] = _last_below(key, group_start[g], group_end[g], query[i] + 1)
    return out


@njit(cache=True, nogil=True)
def _last_below(points, lo, hi, x):
    """The last row of points[lo:hi] (sorted) below x, or -1."""
    start = lo
    while lo < hi:
        mid = (lo + hi) // 2
        if points[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1 if lo > start else -1


@njit(cache=True, nogil=True)
def handoffs(burst_point, burst_t, burst_slot, wait_slots, wait_start, wait_end, wait_point, wait_t, wait_next_point,
             wait_next_t, end_start, end_end, end_point, end_t, end_next_point, wake_ns):
    """Hand-offs between CPU threads (graph_edges.sql, replay_handoffs): for each burst start q on a
    thread B, the thread A that handed it off last (its waiting point a0 latest in time, the first of two at once), B's last
    point of the burst and A's resume point r. Threads are slots 0..L-1: a slot's waits are rows
    wait_start[s]..wait_end[s] and its ends end_start[s]..end_end[s], each in point order;
    wait_slots lists the slots that wait at all. end_next_point is -1 where a thread's last point.
    Returns rows (a0, q, wake_lag, b_end, r, resume_lag)."""
    k = burst_point.shape[0]
    out = np.empty((k, 6), np.int64)
    count = 0
    for i in range(k):
        q = burst_point[i]
        q_t = burst_t[i]
        b_slot = burst_slot[i]
        found = False
        best_a0_t = 0
        a0 = wake = b_end = r_best = resume = 0
        for s in wait_slots:
            if s == b_slot:
                continue
            a = _last_below(wait_point, wait_start[s], wait_end[s], q)  # A's last wait before q
            if a < 0:
                continue
            if q_t - wait_t[a] > wake_ns or wait_next_t[a] <= q_t:
                continue
            r = wait_next_point[a]
            r_t = wait_next_t[a]
            b = _last_below(end_point, end_start[b_slot], end_end[b_slot], r)  # B's last end before r
            if b < 0:
                continue
            if end_point[b] < q or (end_next_point[b] >= 0 and end_next_point[b] <= r) or r_t - end_t[b] > wake_ns:
                continue
            if not found or wait_t[a] > best_a0_t or (wait_t[a] == best_a0_t and wait_point[a] < a0):
                found = True
                best_a0_t = wait_t[a]
                a0, wake, b_end, r_best, resume = wait_point[a], q_t - wait_t[a], end_point[b], r, r_t - end_t[b]
        if found:
            out[count, 0] = a0
            out[count, 1] = q
            out[count, 2] = wake
            out[count, 3] = b_end
            out[count, 4] = r_best
            out[count, 5] = resume
            count += 1
    return out[:count]


@njit(cache=True, nogil=True)
def group_order(keys, n_keys):
    """The stable order that groups rows by a small key 0..n_keys-1 (a counting sort), and each
    key's first row in that order (n_keys+1 offsets)."""
    n = keys.shape[0]
    offsets = np.zeros(n_keys + 1, np.int64)
    for i in range(n):
        offsets[keys[i] + 1] += 1
    for k in range(n_keys):
        offsets[k + 1] += offsets[k]
    fill = offsets[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        order[fill[keys[i]]] = i
        fill[keys[i]] += 1
    return order, offsets


@njit(cache=True, nogil=True)
def thread_points(p_event, is_gpu, slot_of_event, n_slots):
    """The CPU points grouped by thread (slot 0..n_slots-1), point order within each (a counting
    sort), and each thread's first row (n_slots+1 offsets)."""
    offsets = np.zeros(n_slots + 1, np.int64)
    for k in range(p_event.shape[0]):
        e = p_event[k]
        if not is_gpu[e]:
            offsets[slot_of_event[e] + 1] += 1
    for g in range(n_slots):
        offsets[g + 1] += offsets[g]
    fill = offsets[:-1].copy()
    seq = np.empty(offsets[n_slots], np.int64)
    for k in range(p_event.shape[0]):
        e = p_event[k]
        if not is_gpu[e]:
            g = slot_of_event[e]
            seq[fill[g]] = k
            fill[g] += 1
    return seq, offsets


@njit(cache=True, nogil=True)
def thread_walk(seq, offsets, p_t, p_end, idle_ns):
    """The hand-off candidates along each CPU thread's points (seq, grouped by thread at offsets;
    graph_edges.sql, replay_handoffs): the rows that start a burst after idling, wait inside an
    event before an idle gap, or end a burst before one, each with its thread's slot, and for
    waits and ends the thread's next point (-1: none). Returns (rows, slots, next points) for
    bursts, waits and ends, in row order."""
    n = seq.shape[0]
    kind = np.zeros(n, np.uint8)  # bit 1: burst, 2: waiting, 4: ending
    counts = np.zeros(3, np.int64)
    for g in range(offsets.shape[0] - 1):
        d = 0
        for i in range(offsets[g], offsets[g + 1]):
            p = seq[i]
            d += -1 if p_end[p] else 1
            first = i == offsets[g]
            last = i + 1 == offsets[g + 1]
            if (not p_end[p]) and d == 1 and (first or p_t[p] - p_t[seq[i - 1]] >= idle_ns):
                kind[i] |= 1
                counts[0] += 1
            if d > 0 and (not last) and p_t[seq[i + 1]] - p_t[p] >= idle_ns:
                kind[i] |= 2
                counts[1] += 1
            if d == 0 and (last or p_t[seq[i + 1]] - p_t[p] >= idle_ns):
                kind[i] |= 4
                counts[2] += 1
    rows = [np.empty(counts[c], np.int64) for c in range(3)]
    slots = [np.empty(counts[c], np.int64) for c in range(3)]
    nexts = [np.empty(counts[c], np.int64) for c in range(3)]
    at = np.zeros(3, np.int64)
    for g in range(offsets.shape[0] - 1):
        for i in range(offsets[g], offsets[g + 1]):
            if kind[i] == 0:
                continue
            for c in range(3):
                if kind[i] & (1 << c):
                    k = at[c]
                    rows[c][k] = i
                    slots[c][k] = g
                    nexts[c][k] = seq[i + 1] if i + 1 < offsets[g + 1] else -1
                    at[c] += 1
    return rows[0], slots[0], rows[1], slots[1], nexts[1], rows[2], slots[2], nexts[2]


@njit(cache=True, nogil=True)
def point_columns(p_event, ev_id, lane, is_gpu, name_code, gpu_class, flop_per_byte, roof):
    """Each point's event id, lane, GPU flag, name code, GPU class, intensity and roof (NaN and
    -1 off the GPU)."""
    m = p_event.shape[0]
    out_id = np.empty(m, np.int64)
    out_lane = np.empty(m, np.int64)
    out_gpu = np.empty(m, np.bool_)
    out_name = np.empty(m, np.int32)
    out_class = np.empty(m, np.int8)
    out_fpb = np.empty(m, np.float32)
    out_roof = np.empty(m, np.int8)
    for k in range(m):
        e = p_event[k]
        out_id[k] = ev_id[e]
        out_lane[k] = lane[e]
        out_gpu[k] = is_gpu[e]
        out_name[k] = name_code[e]
        out_class[k] = gpu_class[e]
        out_fpb[k] = flop_per_byte[e] if is_gpu[e] else np.nan
        out_roof[k] = roof[e] if is_gpu[e] else -1
    return out_id, out_lane, out_gpu, out_name, out_class, out_fpb, out_roof


@njit(cache=True, nogil=True)
def _find(sorted_points, p):
    """The first index of p in sorted_points, or -1."""
    lo = _last_below(sorted_points, 0, sorted_points.shape[0], p) + 1
    return lo if lo < sorted_points.shape[0] and sorted_points[lo] == p else -1


@njit(cache=True, nogil=True)
def count_cpu_chain(thread, is_end, staged_points, counts):
    """Add each edge along the CPU threads (place_cpu_chain) to its destination's count (counts[d + 1]):
    one per point after the first of its thread, one per staged copy where a call stages several."""
    seq, offsets = thread
    staged_here = np.zeros(is_end.shape[0], np.bool_)
    for p in staged_points:
        staged_here[p] = True
    for g in range(offsets.shape[0] - 1):
        for i in range(offsets[g] + 1, offsets[g + 1]):
            d = seq[i]
            counts[d + 1] += 1
            if is_end[d] and staged_here[d]:
                st = _find(staged_points, d)
                while st + 1 < staged_points.shape[0] and staged_points[st + 1] == d:
                    counts[d + 1] += 1
                    st += 1


@njit(cache=True, nogil=True)
def place_cpu_chain(thread, points, waits, held, staged, handed_points, is_launcher, classes, fill, out):
    """The edges along each CPU thread (graph_edges.sql, cpu_chain), each written at its
    destination's next slot (fill[d]) of the edge arrays `out` (src, lag, class, bytes, offset):
    each point after the one before it on its thread (thread: seq, grouped by thread at offsets),
    with the host time kept by blocking calls (waits: points, waited, op_end, end), held launches
    (held: points, typical), staged copies (staged: points, the copy's start) and hand-offs
    (handed_points), each found by its point in a sorted array. A call with several staged copies
    gets one edge per copy. `points`: each point's time, whether it ends its event, and its event;
    `classes`: the edge classes cpu, launch_call and fixed. Few points are in any of the sorted
    arrays: a byte per point says which to search."""
    seq, offsets = thread
    p_t, p_end, p_event = points
    wait_points, wait_waited, wait_op_end, wait_end = waits
    bp_points, bp_typical = held
    staged_points, staged_start = staged
    cls_cpu, cls_launch_call, cls_fixed = classes
    out_src, out_lag, out_cls, out_bytes, out_offset = out
    marks = np.zeros(p_t.shape[0], np.uint8)
    for found, bit in ((wait_points, 1), (bp_points, 2), (staged_points, 4), (handed_points, 8)):
        for p in found:
            marks[p] |= bit
    for g in range(offsets.shape[0] - 1):
        for i in range(offsets[g] + 1, offsets[g + 1]):
            s = seq[i - 1]
            d = seq[i]
            st = _find(staged_points, d) if p_end[d] and marks[d] & 4 else -1
            base = p_t[d] - p_t[s]
            own = p_end[d] and p_event[s] == p_event[d]
            w = _find(wait_points, d) if p_end[d] and marks[d] & 1 else -1
            waited = w >= 0 and wait_waited[w]
            b = _find(bp_points, d) if own and marks[d] & 2 else -1
            handed = marks[d] & 8 != 0
            kind = cls_cpu
            if waited or handed:
                kind = cls_fixed
            elif own and is_launcher[p_event[d]]:
                kind = cls_launch_call
            while True:
                value = base
                if waited:
                    value = max(0, base - max(0, wait_op_end[w] - (wait_end[w] - base)))
                elif b >= 0:
                    value = min(base, bp_typical[b])
                elif st >= 0:
                    value = max(0, min(base, staged_start[st] - (p_t[d] - base)))
                elif handed:
                    value = 0
                k = fill[d]
                fill[d] += 1
                out_src[k] = s
                out_lag[k] = value
                out_cls[k] = kind
                out_bytes[k] = -1
                out_offset[k] = 0
                if st >= 0 and st + 1 < staged_points.shape[0] and staged_points[st + 1] == d:
                    st += 1
                else:
                    break


@njit(cache=True, nogil=True)
def _kept(src, dst, backward, e):
    """An edge is kept when it points forward, or when it is a clock-skewed wait (backward)."""
    b = backward[e] if backward.shape[0] > 1 else backward[0]
    return src[e] < dst[e] or (b and src[e] != dst[e])


@njit(cache=True, nogil=True)
def count_destinations(src, dst, backward, counts):
    """Add each kept edge of one part to its destination's count (counts[p + 1])."""
    for e in range(dst.shape[0]):
        if _kept(src, dst, backward, e):
            counts[dst[e] + 1] += 1


@njit(cache=True, nogil=True)
def scatter_edges(src, dst, lag, cls, nbytes, offset, backward, fill, out_src, out_lag, out_cls, out_bytes, out_offset):
    """Write the kept edges of one part at their destination's next free slot (fill). cls, nbytes,
    offset and backward may hold one value for the whole part."""
    for e in range(dst.shape[0]):
        if _kept(src, dst, backward, e):
            k = fill[dst[e]]
            fill[dst[e]] += 1
            out_src[k] = src[e]
            out_lag[k] = lag[e]
            out_cls[k] = cls[e] if cls.shape[0] > 1 else cls[0]
            out_bytes[k] = nbytes[e] if nbytes.shape[0] > 1 else nbytes[0]
            out_offset[k] = offset[e] if offset.shape[0] > 1 else offset[0]


@njit(cache=True, nogil=True)
def shift_right(a):
    """a[i] = a[i - 1] for i >= 1, a[0] = 0 (in place)."""
    for i in range(a.shape[0] - 1, 0, -1):
        a[i] = a[i - 1]
    if a.shape[0]:
        a[0] = 0


@njit(cache=True, nogil=True)
def sort_sources(indptr, shared, src, lag, cls, nbytes, offset):
    """Within each destination's edges, order them by source (in place); `shared` lists the
    destinations of more than one edge, the only ones that can be out of order."""
    for p in shared:
        lo, hi = indptr[p], indptr[p + 1]
        if hi - lo == 2:  # most: a swap, no sort
            if src[lo + 1] < src[lo]:
                src[lo], src[lo + 1] = src[lo + 1], src[lo]
                lag[lo], lag[lo + 1] = lag[lo + 1], lag[lo]
                cls[lo], cls[lo + 1] = cls[lo + 1], cls[lo]
                nbytes[lo], nbytes[lo + 1] = nbytes[lo + 1], nbytes[lo]
                offset[lo], offset[lo + 1] = offset[lo + 1], offset[lo]
            continue
        ordered = True
        for a in range(lo + 1, hi):
            if src[a] < src[a - 1]:
                ordered = False
                break
        if ordered:
            continue
        part = np.argsort(src[lo:hi], kind="mergesort") + lo
        src[lo:hi] = src[part]
        lag[lo:hi] = lag[part]
        cls[lo:hi] = cls[part]
        nbytes[lo:hi] = nbytes[part]
        offset[lo:hi] = offset[part]
