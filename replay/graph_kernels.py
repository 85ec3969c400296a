"""Numba passes of the replay graph's build over arrays (replay/graph_build.py): each is one
sequential walk that a sort alone cannot do. Pure functions of their arrays."""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _before(k1, k2, k3, a, b):
    """Whether point a orders before point b among points at one instant (graph_points.sql)."""
    if k1[a] != k1[b]:
        return k1[a] < k1[b]
    if k2[a] != k2[b]:
        return k2[a] < k2[b]
    return k3[a] < k3[b]


@njit(cache=True, nogil=True)
def order_ties(order, t, k1, k2, k3):
    """`order` sorts points by time; within each run of equal times, reorder it in place by
    (k1, k2, k3). Runs are short; a long one is merge-sorted."""
    n = order.shape[0]
    i = 0
    buf = np.empty(0, np.int64)
    while i < n:
        j = i + 1
        while j < n and t[order[j]] == t[order[i]]:
            j += 1
        size = j - i
        if size > 1 and size <= 32:
            for a in range(i + 1, j):
                x = order[a]
                b = a - 1
                while b >= i and _before(k1, k2, k3, x, order[b]):
                    order[b + 1] = order[b]
                    b -= 1
                order[b + 1] = x
        elif size > 32:
            if buf.shape[0] < size:
                buf = np.empty(size, np.int64)
            width = 1
            run = order[i:j]
            while width < size:
                for lo in range(0, size, 2 * width):
                    mid = min(lo + width, size)
                    hi = min(lo + 2 * width, size)
                    p, q, o = lo, mid, lo
                    while p < mid and q < hi:
                        if _before(k1, k2, k3, run[q], run[p]):
                            buf[o] = run[q]
                            q += 1
                        else:
                            buf[o] = run[p]
                            p += 1
                        o += 1
                    while p < mid:
                        buf[o] = run[p]
                        p += 1
                        o += 1
                    while q < hi:
                        buf[o] = run[q]
                        q += 1
                        o += 1
                run[:] = buf[:size]
                width *= 2
        i = j


@njit(cache=True, nogil=True)
def running_latest(group, end, point):
    """Over rows sorted by (group, launch time, end): the latest end so far within the group and
    the point of the row that first reached it."""
    n = end.shape[0]
    best = np.empty(n, np.int64)
    best_point = np.empty(n, np.int64)
    for i in range(n):
        if i == 0 or group[i] != group[i - 1] or end[i] > best[i - 1]:
            best[i] = end[i]
            best_point[i] = point[i]
        else:
            best[i] = best[i - 1]
            best_point[i] = best_point[i - 1]
    return best, best_point


@njit(cache=True, nogil=True)
def last_at_or_before(group_start, group_end, key, query_group, query, strict):
    """For each query: the index of the last row of its group (rows group_start..group_end, sorted
    by key) whose key is <= the query's (< when strict), or -1."""
    out = np.full(query.shape[0], -1, np.int64)
    for i in range(query.shape[0]):
        g = query_group[i]
        if g < 0:
            continue
        lo, hi = group_start[g], group_end[g]
        while lo < hi:
            mid = (lo + hi) // 2
            if key[mid] < query[i] or (not strict and key[mid] == query[i]):
                lo = mid + 1
            else:
                hi = mid
        if lo > group_start[g]:
            out[i] = lo - 1
    return out


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
            lo, hi = wait_start[s], wait_end[s]
            while lo < hi:  # A's last wait before q
                mid = (lo + hi) // 2
                if wait_point[mid] < q:
                    lo = mid + 1
                else:
                    hi = mid
            if lo == wait_start[s]:
                continue
            a = lo - 1
            if q_t - wait_t[a] > wake_ns or wait_next_t[a] <= q_t:
                continue
            r = wait_next_point[a]
            r_t = wait_next_t[a]
            lo, hi = end_start[b_slot], end_end[b_slot]
            while lo < hi:  # B's last end before r
                mid = (lo + hi) // 2
                if end_point[mid] < r:
                    lo = mid + 1
                else:
                    hi = mid
            if lo == end_start[b_slot]:
                continue
            b = lo - 1
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
