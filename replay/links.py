"""Copies between GPUs and host memory sharing a server's links (replay/topology.py) in a replay.

Each copy wants the rate it would have alone on its links: its bytes over its duration under the
scenario. Where copies overlap on a link whose bandwidth is less than what they want together, they
share it max-min fairly (replay/link_kernels.py) and last longer; their new durations re-time the
graph, which moves the copies, until the times settle. A copy never held back keeps its duration
exactly, so where no link is over-subscribed the replay is the topology-free one."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retime.errors import ScenarioError
from retime.replay import kernels, link_kernels
from retime.replay.graph import ReplayGraph
from retime.replay.scenario import EDGE_CLASSES
from retime.replay.topology import Topology

COPY_CLASSES = {"h2d": 1, "d2h": 0}  # edge class -> direction on a GPU's route to the host (1: down, toward the GPU)
MAX_ROUNDS = 30  # re-time rounds before the copies' times must have settled


@dataclass
class LinkModel:
    """A topology and where each point's GPU sits in it: point_device (the CUDA device index of a
    GPU point's lane, -1 elsewhere) on server point_server (a job's ranks fill servers in turn)."""
    topology: Topology
    point_device: np.ndarray
    point_server: np.ndarray

    @property
    def label(self) -> str:
        return " ".join([f"topology={self.topology.key}", *self.topology.changes])


def warnings(model: "LinkModel", uses: list["LinkUse"]) -> list[str]:
    """What a person should know of a replay on a topology: how many copies its links held back,
    and that no measured pair has validated it yet."""
    slowed = max((u.slowed_copies for u in uses), default=0)
    held = [f"{u.link} {u.direction}" for u in uses if u.saturated_ns > 0]
    if not slowed:
        return []
    return [f"on topology {model.topology.key}, {slowed} copies were held back by shared links ({', '.join(held[:4])}); "
            "the sharing model is not yet validated against a measured contention pair"]


@dataclass
class LinkUse:
    """One direction of one link over a replay: what crossed it and how long it held copies back."""
    server: int
    link: str
    direction: str            # 'to device' (host-to-device copies) or 'to host'
    gb_s: float
    bytes: int
    copies: int
    saturated_ns: int         # time it ran full while a copy on it wanted more
    slowed_copies: int


def place(con, topology: Topology, graph: ReplayGraph, trace_ids: list[int], point_rank: np.ndarray | None = None,
          ranks: list[int | None] | None = None) -> LinkModel:
    """Where each point's GPU sits: its lane's device, on server 0 for one trace; for a job (its
    ranks in trace_ids order, point_rank per point, lanes numbered lane + 1,000,000 x rank index
    as replay/job.py joins them) each rank on server rank // GPUs per server."""
    from retime.sqlfiles import load_sql
    per_server = len(topology.gpus())
    point_rank = np.zeros(len(graph.measured), np.int64) if point_rank is None else point_rank
    device = np.full(len(graph.measured), -1, np.int64)
    server = np.zeros(len(graph.measured), np.int64)
    offset = 1_000_000 if len(trace_ids) > 1 else 0
    keys, values = [], []
    for i, trace_id in enumerate(trace_ids):
        rows = con.execute(load_sql("retime.replay", "lane_devices"), {"trace_id": trace_id}).fetchall()
        keys += [lane + offset * i for lane, _ in rows]
        values += [dev for _, dev in rows]
    rank_of = np.array([r if r is not None else i for i, r in enumerate(ranks or [None] * len(trace_ids))], np.int64)
    placed = point_rank >= 0
    server[placed] = rank_of[point_rank[placed]] // max(per_server, 1)
    if keys:
        keys_a, values_a = np.array(keys, np.int64), np.array(values, np.int64)
        order = np.argsort(keys_a)
        keys_a, values_a = keys_a[order], values_a[order]
        at = np.minimum(np.searchsorted(keys_a, graph.point_lane), len(keys_a) - 1)
        hit = graph.point_is_gpu & (keys_a[at] == graph.point_lane)
        device[hit] = values_a[at[hit]]
    return LinkModel(topology, device, server)


def _transfers(graph: ReplayGraph, lag: np.ndarray, model: LinkModel):
    """The copies' duration edges, the staged calls' edges that follow them, and each copy's route
    as directed-link indices (CSR)."""
    codes = {EDGE_CLASSES.index(c): d for c, d in COPY_CLASSES.items()}
    copy = np.isin(graph.edge_class, list(codes))
    dst = graph.dst
    duration = copy & graph.point_is_gpu[graph.src] & graph.point_is_gpu[dst] & (graph.bytes > 0) & (lag > 0)
    xfer = np.flatnonzero(duration)
    staged = np.flatnonzero(copy & graph.point_is_gpu[graph.src] & ~graph.point_is_gpu[dst])
    topo = model.topology
    links = topo.links
    index = {name: i for i, name in enumerate(links)}
    devices = model.point_device[graph.src[xfer]]
    gpus = topo.gpus()
    for device in np.unique(devices).tolist():
        if device < 0 or device >= len(gpus):
            raise ScenarioError(f"a copy ran on GPU {device}, which topology {topo.key} does not have "
                                f"({len(gpus)} GPUs a server)")
    # each GPU's route to its socket as a row of link indices (rows padded with -1), then each
    # copy's row, shifted to its server's links and direction
    routes = [[index[name] for name in topo.route_to_host(f"gpu{g}")] for g in range(len(gpus))]
    table = np.full((len(gpus), max(map(len, routes), default=0)), -1, np.int64)
    for g, route in enumerate(routes):
        table[g, :len(route)] = route
    direction_of_class = np.zeros(len(EDGE_CLASSES), np.int64)
    direction_of_class[list(codes)] = list(codes.values())
    direction = direction_of_class[graph.edge_class[xfer]]
    rows = table[devices]
    per_copy = (model.point_server[graph.src[xfer]][:, None] * len(links) + rows) * 2 + direction[:, None]
    kept = rows >= 0
    ptr = np.zeros(len(xfer) + 1, np.int64)
    np.cumsum(kept.sum(axis=1), out=ptr[1:])
    return xfer, staged, ptr, per_copy[kept]


def retimed(graph: ReplayGraph, lag: np.ndarray, model: LinkModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[LinkUse]]:
    """(new times, binding edges, lags, link use) with copies sharing the topology's links."""
    xfer, staged, route_ptr, route = _transfers(graph, lag, model)
    new, binding = kernels.retime(graph.measured, graph.indptr, graph.src, lag)
    links = model.topology.links
    servers = int(model.point_server.max()) + 1 if len(model.point_server) else 1
    capacity = np.repeat([model.topology.gb_s[name] for name in links], 2).astype(np.float64)
    capacity = np.tile(capacity, servers)  # GB/s = bytes/ns
    if len(xfer) == 0:
        return new, binding, lag, []
    demand = lag[xfer].astype(np.float64)
    nbytes = graph.bytes[xfer].astype(np.float64)
    order = np.argsort(graph.src[xfer], kind="stable")  # staged calls find their copy by its start point
    start_sorted = graph.src[xfer][order]
    current = lag
    for _ in range(MAX_ROUNDS):
        duration, slowed, saturated, carried = link_kernels.share_links(
            new[graph.src[xfer]].astype(np.float64), demand, nbytes, route_ptr, route, capacity)
        shared = lag.copy()
        shared[xfer] = np.where(slowed, np.rint(duration).astype(np.int64), lag[xfer])
        if len(staged):
            at = order[np.minimum(np.searchsorted(start_sorted, graph.src[staged]), len(order) - 1)]
            own = graph.src[xfer][at] == graph.src[staged]
            shared[staged[own]] = lag[staged[own]] + (shared[xfer][at[own]] - lag[xfer][at[own]])
        if np.array_equal(shared, current):
            break
        current = shared
        new, binding = kernels.retime(graph.measured, graph.indptr, graph.src, current)
    return new, binding, current, _use(links, capacity, route_ptr, route, slowed, saturated, carried)


def _use(links, capacity, route_ptr, route, slowed, saturated, carried) -> list[LinkUse]:
    per_copy = np.diff(route_ptr)
    counts = np.bincount(route, minlength=len(capacity))
    held = np.bincount(route, weights=np.repeat(slowed, per_copy), minlength=len(capacity)).astype(np.int64)
    rows = []
    for k in np.flatnonzero(counts).tolist():  # one row per link direction crossed
        server, rest = divmod(k, 2 * len(links))
        link, direction = divmod(rest, 2)
        rows.append(LinkUse(server=server, link=links[link], direction="to device" if direction else "to host",
                            gb_s=float(capacity[k]), bytes=int(carried[k]), copies=int(counts[k]),
                            saturated_ns=int(round(saturated[k])), slowed_copies=int(held[k])))
    return sorted(rows, key=lambda r: (-r.saturated_ns, -r.bytes, r.server, r.link))
