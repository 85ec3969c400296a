"""Numba: transfers sharing links, as fluid flows. Each transfer wants its own rate (its bytes over
its duration with no one else on its links); while transfers overlap, every link's bandwidth is
shared max-min fairly among those crossing it, and each transfer ends when its bytes are through."""
from __future__ import annotations

import numpy as np
from numba import njit

_EPS = 1e-9


@njit(cache=True, nogil=True)
def _bound(i, want, route_ptr, route, left, users):
    """The most transfer i can get now: its own rate, or an equal share of a link on its route."""
    bound = want[i]
    for k in range(route_ptr[i], route_ptr[i + 1]):
        share = left[route[k]] / users[route[k]]
        if share < bound:
            bound = share
    return bound


@njit(cache=True, nogil=True)
def _allocate(active, n_active, want, route_ptr, route, capacity, left, users, rate, frozen):
    """Max-min fair rates of the active transfers (progressive filling), each at most its own."""
    for j in range(n_active):
        i = active[j]
        rate[i] = 0.0
        frozen[i] = False
        for k in range(route_ptr[i], route_ptr[i + 1]):
            left[route[k]] = capacity[route[k]]
            users[route[k]] = 0
    for j in range(n_active):
        i = active[j]
        for k in range(route_ptr[i], route_ptr[i + 1]):
            users[route[k]] += 1
    remaining = n_active
    while remaining > 0:
        # best: the lowest bound, which freezes; level: the lowest share of a link in use. Shares
        # only grow as transfers freeze, so every transfer wanting no more than level gets its own
        # rate now, all in one pass (without it, transfers that share nothing freeze one per pass)
        best = np.inf
        level = np.inf
        for j in range(n_active):
            i = active[j]
            if frozen[i]:
                continue
            bound = want[i]
            for k in range(route_ptr[i], route_ptr[i + 1]):
                share = left[route[k]] / users[route[k]]
                if share < bound:
                    bound = share
                if share < level:
                    level = share
            if bound < best:
                best = bound
        for j in range(n_active):
            i = active[j]
            if frozen[i]:
                continue
            bound = _bound(i, want, route_ptr, route, left, users)
            if bound <= best * (1.0 + _EPS) or want[i] <= level:
                frozen[i] = True
                rate[i] = bound
                remaining -= 1
                for k in range(route_ptr[i], route_ptr[i + 1]):
                    left[route[k]] -= bound
                    users[route[k]] -= 1
                    if users[route[k]] == 0:
                        users[route[k]] = 1  # no one left on the link: its share no longer binds anyone


@njit(cache=True, nogil=True)
def share_links(start, demand_ns, nbytes, route_ptr, route, capacity, group):
    """Durations of transfers that share links. start, demand_ns (each one's duration alone) and
    nbytes per transfer; its links are route[route_ptr[i]:route_ptr[i + 1]] (directed link
    indices); capacity in bytes/ns per directed link. Transfers of different `group`s (servers)
    share no link, so each group runs on a timeline of its own: a link's sharing is worked out
    among the few transfers that can meet on it. A transfer never slowed keeps its demand_ns
    exactly. Returns (durations, slowed, per link: ns it ran full while someone wanted more, bytes
    it carried)."""
    t_count = start.shape[0]
    n_links = capacity.shape[0]
    duration = demand_ns.copy()
    slowed = np.zeros(t_count, np.bool_)
    saturated_ns = np.zeros(n_links)
    carried = np.zeros(n_links)
    if t_count == 0:
        return duration, slowed, saturated_ns, carried
    order = np.argsort(start, kind="mergesort")
    order = order[np.argsort(group[order], kind="mergesort")]  # by group, then by start
    want = np.empty(t_count)
    remaining = nbytes.copy()
    for i in range(t_count):
        want[i] = nbytes[i] / demand_ns[i]
        for k in range(route_ptr[i], route_ptr[i + 1]):
            carried[route[k]] += nbytes[i]
    active = np.empty(t_count, np.int64)
    n_active = 0
    rate = np.zeros(t_count)
    frozen = np.zeros(t_count, np.bool_)
    left = np.zeros(n_links)
    users = np.zeros(n_links, np.int64)
    load = np.zeros(n_links)
    held = np.zeros(n_links, np.bool_)
    nxt = 0
    now = start[order[0]]
    current = group[order[0]]
    while nxt < t_count or n_active > 0:
        while nxt < t_count and group[order[nxt]] == current and start[order[nxt]] <= now:
            active[n_active] = order[nxt]
            n_active += 1
            nxt += 1
        if n_active == 0:  # the group is done, or idle until its next start: on to that
            now = start[order[nxt]]
            current = group[order[nxt]]
            continue
        _allocate(active, n_active, want, route_ptr, route, capacity, left, users, rate, frozen)
        step = np.inf
        for j in range(n_active):
            i = active[j]
            if remaining[i] / rate[i] < step:
                step = remaining[i] / rate[i]
        if nxt < t_count and group[order[nxt]] == current and start[order[nxt]] - now < step:
            step = start[order[nxt]] - now
        for j in range(n_active):  # which links ran full with a copy on them held back
            i = active[j]
            for k in range(route_ptr[i], route_ptr[i + 1]):
                load[route[k]] = 0.0
                held[route[k]] = False
        for j in range(n_active):
            i = active[j]
            below = rate[i] < want[i] * (1.0 - _EPS)
            slowed[i] |= below
            for k in range(route_ptr[i], route_ptr[i + 1]):
                load[route[k]] += rate[i]
                held[route[k]] |= below
        for j in range(n_active):
            i = active[j]
            for k in range(route_ptr[i], route_ptr[i + 1]):
                if held[route[k]] and load[route[k]] >= capacity[route[k]] * (1.0 - _EPS):
                    saturated_ns[route[k]] += step
                    held[route[k]] = False  # counted once
        now += step
        j = 0
        while j < n_active:
            i = active[j]
            remaining[i] -= rate[i] * step
            if remaining[i] <= nbytes[i] * _EPS:
                if slowed[i]:
                    duration[i] = now - start[i]
                active[j] = active[n_active - 1]
                n_active -= 1
            else:
                j += 1
    return duration, slowed, saturated_ns, carried
