"""Transfers sharing a server's links (retime/replay/topology.py) in a replay: copies between GPUs and
host memory, and in a job spread over servers, each rank's collective traffic through its NIC. Where
each point's GPU sits is retime/replay/placement.py's; what crossed the links, link_report.py's.

Each transfer wants the rate it would have alone on its links: its bytes over its duration under the
scenario. Where transfers overlap on a link whose bandwidth is less than what they want together,
they share it max-min fairly (retime/replay/link_passes.py) and last longer; their new durations re-time
the graph, which moves the transfers, until the times settle. A transfer never held back keeps its
duration exactly, so where no link is over-subscribed the replay is the topology-free one.

A collective between servers: of what each rank moves under the ring algorithm (its bus bytes,
retime/foundation/comm.sql), the bytes that leave a server go through the NICs of the group's ranks
on it, spread evenly (a ring per NIC, NCCL's rail layout): each rank's NIC carries its bus bytes over
the number of the job's ranks on its server, out and in at once, GPUDirect (GPU -> switch -> NIC,
through the root ports where the NIC hangs elsewhere).

Inside a server with an NVLink switch (`nvlink_gb_s`), the rest of each rank's bus bytes goes from
its GPU into the switch and back, through its GPU's port both ways: all of them on one server (the
ring never leaves it), (k - 1) / k of them with k of the job's ranks on each server of a spread job
(each ring enters and leaves a server once, through one NIC, and takes k - 1 NVLink hops there). A
collective's duration is then the longest of its transfers' (its NVLink part, its network part).
A single trace's collective kernels that record their sizes cross its GPU's port with all their bus
bytes (its peers taken to be on its server), so concurrent collectives of one GPU share it."""
from __future__ import annotations

import numpy as np

from retime.core.errors import ScenarioError
from retime.replay import link_passes, link_report, passes
from retime.replay.graph import ReplayGraph
from retime.replay.link_report import COPY, NET, NVLINK
from retime.replay.placement import LinkModel, fabric_route, network_route, routes
from retime.replay.scenario import EDGE_CLASSES
from retime.replay.topology import DOWN, UP

COPY_CLASSES = {"h2d": DOWN, "d2h": UP}  # edge class -> direction on a GPU's route to the host
MAX_ROUNDS = 30  # re-time rounds before the transfers' times must have settled


def _transfers(graph: ReplayGraph, lag: np.ndarray, model: LinkModel):
    """The transfers' duration edges (copies, then network, then NVLink: a collective's edge can be
    both of the last two), their kinds, bytes and routes as directed-link indices (CSR), the staged
    calls' edges that follow the copies, and each transfer's server."""
    topo = model.topology
    gpus = topo.gpus()
    src, dst = graph.src, graph.dst
    codes = {EDGE_CLASSES.index(c): d for c, d in COPY_CLASSES.items()}
    copy = np.isin(graph.edge_class, list(codes))
    copies = np.flatnonzero(copy & graph.point_is_gpu[src] & graph.point_is_gpu[dst] & (graph.bytes > 0) & (lag > 0))
    staged = np.flatnonzero(copy & graph.point_is_gpu[src] & ~graph.point_is_gpu[dst])
    spread = len(model.ranks_on_server) > 1
    moving = (graph.edge_class == EDGE_CLASSES.index("comm")) & (model.point_device[dst] >= 0) & (graph.bytes > 0) \
        & (lag > 0)
    collective = np.flatnonzero(moving & (model.point_rank[src] < 0))  # a job's: from its group's transfer point
    network = collective if spread else np.zeros(0, np.int64)
    if not topo.has_fabric():
        fabric = np.zeros(0, np.int64)
    elif len(model.ranks) > 1:  # a job: its collectives where the server holds more than one of its ranks
        fabric = collective[model.ranks_on_server[model.point_server[dst[collective]]] > 1]
    else:  # one trace: its collective kernels, its peers taken to be on its server
        fabric = np.flatnonzero(moving & graph.point_is_gpu[src])
    copy_device = model.point_device[src[copies]]
    for device in np.unique(np.concatenate([copy_device, model.point_device[dst[collective]],
                                            model.point_device[dst[fabric]]])).tolist():
        if device < 0 or device >= len(gpus):
            raise ScenarioError(f"a transfer ran on GPU {device}, which topology {topo.key} does not have "
                                f"({len(gpus)} GPUs a server)")
    direction = np.zeros(len(EDGE_CLASSES), np.int64)
    direction[list(codes)] = list(codes.values())
    up = routes(topo, [[(link, UP) for link in topo.route_to_host(g)] for g in gpus])
    down = np.where(up >= 0, up - UP + DOWN, -1)
    copy_rows = np.where((direction[graph.edge_class[copies]] == DOWN)[:, None], down[copy_device], up[copy_device])
    net_rows = routes(topo, [network_route(topo, g) for g in gpus])[model.point_device[dst[network]]] \
        if len(network) else np.zeros((0, 0), np.int64)
    fabric_rows = routes(topo, [fabric_route(g) for g in gpus])[model.point_device[dst[fabric]]] \
        if len(fabric) else np.zeros((0, 0), np.int64)
    width = max(copy_rows.shape[1], net_rows.shape[1], fabric_rows.shape[1])
    rows = np.full((len(copies) + len(network) + len(fabric), width), -1, np.int64)
    for first, part in ((0, copy_rows), (len(copies), net_rows), (len(copies) + len(network), fabric_rows)):
        rows[first:first + len(part), :part.shape[1]] = part
    edges = np.concatenate([copies, network, fabric])
    server = np.concatenate([model.point_server[src[copies]], model.point_server[dst[network]],
                             model.point_server[dst[fabric]]])
    per_server = 2 * len(topo.links)
    kept = rows >= 0
    ptr = np.zeros(len(edges) + 1, np.int64)
    np.cumsum(kept.sum(axis=1), out=ptr[1:])
    route = (server[:, None] * per_server + rows)[kept]
    kind = np.repeat(np.array([COPY, NET, NVLINK], np.int8), [len(copies), len(network), len(fabric)])
    nbytes = graph.bytes[edges].astype(np.float64)
    k = model.ranks_on_server[server].astype(np.float64)
    nbytes[kind == NET] /= k[kind == NET]  # each rank's NIC: its share of what leaves the server
    if spread:  # the rest of the ring's hops stay inside the server; on one server, all of them
        nbytes[kind == NVLINK] *= (k[kind == NVLINK] - 1) / k[kind == NVLINK]
    return edges, kind, nbytes, staged, ptr, route, server


def retimed(graph: ReplayGraph, lag: np.ndarray, model: LinkModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, "link_report.LinkReport"]:
    """(new times, binding edges, lags, what crossed the links) with transfers sharing the topology's links."""
    xfer, kind, nbytes, staged, route_ptr, route, server = _transfers(graph, lag, model)
    new, binding = passes.retime(graph.measured, graph.indptr, graph.src, lag)
    links = model.topology.links
    servers = len(model.ranks_on_server)
    capacity = np.repeat([model.topology.gb_s[name] for name in links], 2).astype(np.float64)
    capacity = np.tile(capacity, servers)  # GB/s = bytes/ns
    if len(xfer) == 0:
        return new, binding, lag, link_report.LinkReport.empty(graph.trace_id)
    demand = lag[xfer].astype(np.float64)
    copies = xfer[kind == COPY]
    order = np.argsort(graph.src[copies], kind="stable")  # staged calls find their copy by its start point
    start_sorted = graph.src[copies][order]
    current = lag
    for _ in range(MAX_ROUNDS):
        duration, slowed, saturated, carried = link_passes.share_links(
            new[graph.src[xfer]].astype(np.float64), demand, nbytes, route_ptr, route, capacity, server)
        shared = lag.copy()  # an edge with two transfers (a collective's network and NVLink parts): the longer
        np.maximum.at(shared, xfer, np.where(slowed, np.rint(duration).astype(np.int64), lag[xfer]))
        if len(staged) and len(copies):
            at = order[np.minimum(np.searchsorted(start_sorted, graph.src[staged]), len(order) - 1)]
            own = graph.src[copies][at] == graph.src[staged]
            shared[staged[own]] = lag[staged[own]] + (shared[copies][at[own]] - lag[copies][at[own]])
        if np.array_equal(shared, current):
            break
        current = shared
        new, binding = passes.retime(graph.measured, graph.indptr, graph.src, current)
    used = link_report.uses(model.topology, capacity, kind, route_ptr, route, slowed, saturated, carried)
    return new, binding, current, link_report.report(graph, model, used, new, lag[xfer], current[xfer], xfer, kind, nbytes, slowed,
                                          route_ptr, route, capacity)
