"""Where a replay's GPUs sit on a topology (retime/replay/topology.py): each point's server and GPU,
a job's ranks spread over servers (ranks per server, --place), and each GPU's routes through the
server's links, to the host, to its NIC and out, and into its NVLink switch (retime/replay/links.py
shares those links among the transfers)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retime.core.errors import arg, ScenarioError
from retime.replay.graph import ReplayGraph
from retime.replay.topology import DOWN, FABRIC, PORT, UP, Topology


@dataclass
class LinkModel:
    """A topology and where each point's GPU sits in it: point_device (the GPU index of a GPU
    point's lane on its server, -1 elsewhere) on server point_server; point_rank, a job's rank index
    per point (-1 for a job's collective transfer points), and ranks_on_server, how many of the
    job's ranks each server holds; ranks, each rank index's rank."""
    topology: Topology
    point_device: np.ndarray
    point_server: np.ndarray
    point_rank: np.ndarray
    ranks_on_server: np.ndarray
    ranks: np.ndarray

    @property
    def label(self) -> str:
        return " ".join([f"topology={self.topology.key}", *self.topology.changes])


def place(con, topology: Topology, graph: ReplayGraph, trace_ids: list[int], point_rank: np.ndarray | None = None,
          ranks: list[int | None] | None = None) -> LinkModel:
    """Where each point's GPU sits: its lane's device, on server 0 for one trace. For a job (its
    ranks in trace_ids order, point_rank per point, lanes numbered lane + 1,000,000 x rank index
    as retime/replay/job.py joins them) each rank on server rank // ranks per server, on its GPU there: its
    lanes' device, or its local rank (rank % ranks per server) where ranks of one server name the
    same device (each process saw one GPU)."""
    from retime.core.sqlfiles import load_sql
    per_server = max(topology.per_server(), 1)
    n_points = len(graph.measured)
    point_rank = np.zeros(n_points, np.int64) if point_rank is None else point_rank
    offset = 1_000_000 if len(trace_ids) > 1 else 0
    lanes = con.execute(load_sql("retime.replay", "lane_devices"), {"trace_ids": list(trace_ids)}).fetchnumpy()
    by_id = np.argsort(np.asarray(trace_ids, np.int64))
    lane_rank = by_id[np.searchsorted(np.asarray(trace_ids, np.int64)[by_id], lanes["trace_id"].astype(np.int64))]
    rank_of = np.array([r if r is not None else i for i, r in enumerate(ranks or [None] * len(trace_ids))], np.int64)
    server_of_rank = rank_of // per_server
    lane_device = gpus_of_lanes(lanes["device"].astype(np.int64), lane_rank, rank_of, per_server,
                                len(topology.gpus()))
    if topology.placement:
        if len(trace_ids) < 2:
            raise ScenarioError(f"{arg('place')} puts ranks of a job on GPUs: replay the job ({arg('all_ranks', 'True')})")
        server_of_rank, lane_device = _placed(topology, rank_of, server_of_rank, lane_rank, lane_device)
    placed = point_rank >= 0
    server = np.zeros(n_points, np.int64)
    server[placed] = server_of_rank[point_rank[placed]]
    device = np.full(n_points, -1, np.int64)
    if len(lane_rank):  # each GPU point's lane, as the (job) graph numbers lanes, to its device
        keys = lanes["lane_id"].astype(np.int64) + offset * lane_rank
        order = np.argsort(keys)
        keys, values = keys[order], lane_device[order]
        at = np.minimum(np.searchsorted(keys, graph.point_lane), len(keys) - 1)
        hit = graph.point_is_gpu & (keys[at] == graph.point_lane)
        device[hit] = values[at[hit]]
    ranks_on_server = np.bincount(server_of_rank, minlength=1) if len(server_of_rank) else np.ones(1, np.int64)
    return LinkModel(topology, device, server, np.where(placed, point_rank, -1), ranks_on_server, rank_of)


def _placed(topology: Topology, rank_of: np.ndarray, server_of_rank: np.ndarray, lane_rank: np.ndarray,
            lane_device: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each rank's server and each GPU lane's GPU with the topology's placements applied; two ranks
    on one GPU of one server is refused, naming them."""
    server_of_rank, lane_device = server_of_rank.copy(), lane_device.copy()
    for rank, server, gpu in topology.placement:
        index = np.flatnonzero(rank_of == rank)
        if not len(index):
            raise ScenarioError(f"{arg('place', f'{rank}=...')}: the job has no rank {rank} "
                                f"(ranks {', '.join(map(str, rank_of.tolist()))})")
        if server is not None:
            server_of_rank[index] = server
        lane_device[lane_rank == index[0]] = gpu
    shared = _shared_gpu(server_of_rank[lane_rank], lane_device, lane_rank)
    if shared is not None:
        server, gpu, first, second = shared
        raise ScenarioError(f"ranks {rank_of[first]} and {rank_of[second]} would both be on server {server}'s "
                            f"{topology.gpus()[gpu]}: {arg('place')} the other one too")
    return server_of_rank, lane_device


def _shared_gpu(server: np.ndarray, device: np.ndarray, lane_rank: np.ndarray) -> tuple[int, int, int, int] | None:
    """(server, GPU, one rank index, another) for the first GPU that lanes of two ranks sit on, or None."""
    seats = np.unique(np.stack([server, device, lane_rank]), axis=1)  # (server, GPU, rank) sorted
    twice = np.flatnonzero((seats[0, 1:] == seats[0, :-1]) & (seats[1, 1:] == seats[1, :-1]))
    if not len(twice):
        return None
    i = int(twice[0])
    return int(seats[0, i]), int(seats[1, i]), int(seats[2, i]), int(seats[2, i + 1])


def gpus_of_lanes(lane_device: np.ndarray, lane_rank: np.ndarray, rank_of: np.ndarray, per_server: int,
                  gpus_per_server: int | None = None) -> np.ndarray:
    """Each GPU lane's GPU on its server: the device its trace names, unless two ranks of one server
    name the same device (each process saw only its own GPU, as device 0) or a device the server
    does not have (a job recorded on servers of more GPUs than `gpus_per_server`): then every
    rank's local rank (rank % ranks per server)."""
    if len(rank_of) < 2 or not len(lane_rank):
        return lane_device
    local = rank_of[lane_rank] % per_server
    if gpus_per_server is not None and (lane_device >= gpus_per_server).any():
        return local
    if _shared_gpu(rank_of[lane_rank] // per_server, lane_device, lane_rank) is not None:
        return local
    return lane_device


def routes(topology: Topology, gpu_routes: list[list[tuple[str, int]]]) -> np.ndarray:
    """Per GPU, its route as directed link indices (link x 2 + direction), rows padded with -1."""
    index = {name: i for i, name in enumerate(topology.links)}
    table = np.full((len(gpu_routes), max(map(len, gpu_routes), default=0)), -1, np.int64)
    for g, route in enumerate(gpu_routes):
        table[g, :len(route)] = [index[link] * 2 + direction for link, direction in route]
    return table


def network_route(topology: Topology, gpu: str) -> list[tuple[str, int]]:
    """A GPU's traffic to and from other servers: to its NIC and out of the port, in and back."""
    nic = topology.nic_of(gpu)
    return topology.route(gpu, nic) + [(nic + PORT, UP), (nic + PORT, DOWN)] + topology.route(nic, gpu)


def fabric_route(gpu: str) -> list[tuple[str, int]]:
    """A GPU's traffic to the other GPUs of its server: out of its NVLink port and in."""
    return [(gpu + FABRIC, UP), (gpu + FABRIC, DOWN)]
