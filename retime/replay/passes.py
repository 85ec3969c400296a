"""numba passes of the replayer: pure functions over arrays, no Python objects inside.

Nodes are time points (event starts and ends) numbered in measured-time order, which is a
topological order of the dependency graph, so one forward pass re-times everything.
"""
from __future__ import annotations

import heapq

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def retime(measured, indptr, src, lag):
    """New time of every point: the latest of (new time of a predecessor + the edge's lag).

    measured: int64[n] measured times (ns, relative); indptr: int64[n+1] CSR over incoming edges;
    src: int64[m] predecessor of each edge; lag: int64[m] lag of each edge under the scenario.
    A point without predecessors keeps its measured time. Returns (new times, binding edge per
    point or -1): the binding edge is the one that set the point's time, for the critical path.
    """
    n = measured.shape[0]
    new = np.empty(n, np.int64)
    binding = np.full(n, -1, np.int64)
    for p in range(n):
        lo = indptr[p]
        hi = indptr[p + 1]
        if lo == hi:
            new[p] = measured[p]
            continue
        best = new[src[lo]] + lag[lo]
        arg = lo
        for k in range(lo + 1, hi):
            value = new[src[k]] + lag[k]
            if value > best:
                best = value
                arg = k
        new[p] = best
        binding[p] = arg
    return new, binding


@njit(cache=True, nogil=True)
def edge_lag(base_lag, nbytes, factor, offset, multiplier, bandwidth, link_latency, launch_ns, is_launch):
    """The one definition of an edge's lag under a scenario: the measured lag times the class's
    multiplier, or, where the class has an absolute bandwidth (> 0) and the edge's bytes are known
    (>= 0), bytes / bandwidth + the link latency; a launch edge takes launch_ns where it is set
    (>= 0); then the per-name factor, rounded to ns, plus the edge's fixed offset."""
    if bandwidth > 0.0 and nbytes >= 0:
        lag = nbytes / bandwidth + link_latency
    else:
        lag = base_lag * multiplier
    if is_launch and launch_ns >= 0.0:
        lag = launch_ns
    return np.int64(np.rint(lag * factor)) + offset


@njit(cache=True, nogil=True)
def edge_lags(base_lag, edge_class, nbytes, offset, factor, multiplier, bandwidth, link_latency, launch_ns,
              launch_class):
    """edge_lag of every edge for one scenario (multiplier, bandwidth, link_latency: float64[classes])."""
    m = base_lag.shape[0]
    lag = np.empty(m, np.int64)
    for e in range(m):
        c = edge_class[e]
        lag[e] = edge_lag(base_lag[e], nbytes[e], factor[e], offset[e], multiplier[c], bandwidth[c],
                          link_latency[c], launch_ns, c == launch_class)
    return lag


@njit(cache=True, nogil=True)
def retime_many(measured, indptr, src, base_lag, edge_class, nbytes, offset, factor,
                multiplier, bandwidth, link_latency, launch_ns, launch_class, watch):
    """retime for k scenarios in one pass over the graph, each edge's lag by edge_lag with
    scenario j's row of multiplier, bandwidth and link_latency and its launch_ns[j].

    multiplier, bandwidth, link_latency: float64[k, classes]; launch_ns: float64[k]; factor: float64[m];
    watch: int64[w] points whose new times are returned. Returns (span int64[k]: latest minus
    earliest new time, watched int64[k, w]).
    """
    n = measured.shape[0]
    k = multiplier.shape[0]
    new = np.empty((n, k), np.int64)
    first = np.full(k, np.iinfo(np.int64).max, np.int64)
    last = np.full(k, np.iinfo(np.int64).min, np.int64)
    for p in range(n):
        lo = indptr[p]
        hi = indptr[p + 1]
        if lo == hi:
            for j in range(k):
                new[p, j] = measured[p]
        else:
            for j in range(k):
                new[p, j] = np.iinfo(np.int64).min
            for e in range(lo, hi):
                c = edge_class[e]
                s = src[e]
                for j in range(k):
                    value = new[s, j] + edge_lag(base_lag[e], nbytes[e], factor[e], offset[e], multiplier[j, c],
                                                 bandwidth[j, c], link_latency[j, c], launch_ns[j], c == launch_class)
                    if value > new[p, j]:
                        new[p, j] = value
        for j in range(k):
            if new[p, j] < first[j]:
                first[j] = new[p, j]
            if new[p, j] > last[j]:
                last[j] = new[p, j]
    watched = np.empty((k, watch.shape[0]), np.int64)
    for j in range(k):
        for w in range(watch.shape[0]):
            watched[j, w] = new[watch[w], j]
    return last - first, watched


@njit(cache=True, nogil=True)
def points_back(indptr, src):
    """Whether any edge (CSR over destinations) comes from a later point than its destination."""
    for d in range(indptr.shape[0] - 1):
        for k in range(indptr[d], indptr[d + 1]):
            if src[k] > d:
                return True
    return False


@njit(cache=True, nogil=True)
def topological_order(n, indptr, src):
    """An order of n points in which every edge (src -> its destination, CSR over destinations)
    points forward, or an empty array if the edges form a cycle (Kahn's algorithm, smallest
    index first among the ready points so that the measured order is kept where it can be)."""
    m = src.shape[0]
    outdeg = np.zeros(n + 1, np.int64)
    for k in range(m):
        outdeg[src[k] + 1] += 1
    out_ptr = np.cumsum(outdeg)
    out_dst = np.empty(m, np.int64)
    fill = out_ptr[:-1].copy()
    indeg = np.zeros(n, np.int64)
    for d in range(n):
        for k in range(indptr[d], indptr[d + 1]):
            out_dst[fill[src[k]]] = d
            fill[src[k]] += 1
            indeg[d] += 1
    order = np.empty(n, np.int64)
    heap = [np.int64(x) for x in range(0)]
    for p in range(n):
        if indeg[p] == 0:
            heapq.heappush(heap, np.int64(p))
    count = 0
    while len(heap) > 0:
        p = heapq.heappop(heap)
        order[count] = p
        count += 1
        for k in range(out_ptr[p], out_ptr[p + 1]):
            d = out_dst[k]
            indeg[d] -= 1
            if indeg[d] == 0:
                heapq.heappush(heap, d)
    if count < n:
        return np.empty(0, np.int64)
    return order


@njit(cache=True, nogil=True)
def critical_path_edges(binding, src, last_point):
    """The critical path: the binding edges from the start of the run to last_point, in time order,
    as (edge index, destination point) arrays; -1 or a point with no binding edge gives none."""
    count = 0
    p = last_point
    while p >= 0 and binding[p] >= 0:
        count += 1
        p = src[binding[p]]
    edges = np.empty(count, np.int64)
    dst = np.empty(count, np.int64)
    p = last_point
    i = count - 1
    while p >= 0 and binding[p] >= 0:
        edges[i] = binding[p]
        dst[i] = p
        i -= 1
        p = src[binding[p]]
    return edges, dst
