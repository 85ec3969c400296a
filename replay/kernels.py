"""numba kernels of the replayer: pure functions over arrays, no Python objects inside.

Nodes are time points (event starts and ends) numbered in measured-time order, which is a
topological order of the dependency graph, so one forward pass re-times everything.
"""
from __future__ import annotations

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
def critical_path_time(binding, src, lag, edge_class, n_classes, last_point):
    """Walk back from last_point along binding edges; time on the path per edge class (ns)."""
    per_class = np.zeros(n_classes, np.int64)
    p = last_point
    while p >= 0 and binding[p] >= 0:
        k = binding[p]
        per_class[edge_class[k]] += lag[k]
        p = src[k]
    return per_class
