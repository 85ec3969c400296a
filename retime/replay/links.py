"""Transfers sharing a server's links (retime/replay/topology.py) in a replay: copies between GPUs and
host memory, and in a job spread over servers, each rank's collective traffic through its NIC.

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

from dataclasses import dataclass

import numpy as np
import polars as pl

from retime.errors import arg, ScenarioError
from retime.replay import link_passes, passes
from retime.replay.graph import ReplayGraph
from retime.replay.scenario import EDGE_CLASSES
from retime.replay.topology import DOWN, FABRIC, PORT, UP, Topology

COPY_CLASSES = {"h2d": DOWN, "d2h": UP}  # edge class -> direction on a GPU's route to the host
MAX_ROUNDS = 30  # re-time rounds before the transfers' times must have settled
COPY, NET, NVLINK = 0, 1, 2  # the transfers' kinds


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


def warnings(model: "LinkModel", uses: list["LinkUse"]) -> list[str]:
    """What a person should know of a replay on a topology: how many transfers its links held back,
    and that no measured pair has validated it yet."""
    slowed = max((u.slowed for u in uses), default=0)
    held = [f"{u.link} {u.direction}" for u in uses if u.saturated_ns > 0]
    if not slowed:
        return []
    return [f"on topology {model.topology.key}, {slowed} transfers were held back by shared links ({', '.join(held[:4])}); "
            "the sharing model is not yet validated against a measured contention pair"]


@dataclass
class LinkReport:
    """What a replay on a topology sent over its links: each link direction's use, and each transfer
    with the links it crossed (the tables retime/replay/sql/link_demand.sql, link_load.sql and
    link_collisions.sql read)."""
    trace_id: int                 # the replayed trace (a saved replay stores the tables under its own id)
    uses: list["LinkUse"]
    transfers: pl.DataFrame       # as the store's replay_transfers (retime/store/sql/schema.sql)
    transfer_links: pl.DataFrame  # as replay_transfer_links: the links each transfer crossed
    capacity: pl.DataFrame        # as replay_link_capacity: every link direction of the servers used

    @classmethod
    def empty(cls, trace_id: int) -> "LinkReport":
        return cls(trace_id, [], pl.DataFrame(schema=TRANSFER_SCHEMA), pl.DataFrame(schema=CROSSING_SCHEMA),
                   pl.DataFrame(schema=CAPACITY_SCHEMA))

    def demand(self) -> pl.DataFrame:
        """Per link direction used: bytes, transfers, the peak of what they wanted over its bandwidth,
        and how long that was at least 80% and above 100% (link_demand, retime/foundation/links.sql)."""
        return self._answer("demand")

    def load(self, bucket_ns: int) -> pl.DataFrame:
        """Per link direction and time bucket: bytes carried and their share of the link (link_load)."""
        if bucket_ns <= 0:
            raise ScenarioError(f"link load buckets of {bucket_ns} ns: expected a positive bucket")
        return self._answer("load", bucket_ns=int(bucket_ns))

    def collided(self) -> pl.DataFrame:
        """The transfers held back by shared links, most delayed first (link_collisions)."""
        return self._answer("collisions")

    def _answer(self, what: str, **values) -> pl.DataFrame:
        """One of the link macros over these tables, as the named query answers it for a saved replay."""
        import duckdb

        from retime import foundation
        from retime.sqlfiles import load_sql, set_variables
        con = duckdb.connect()
        try:
            for table, frame in (("replay_transfers", self.transfers), ("replay_transfer_links", self.transfer_links),
                                 ("replay_link_capacity", self.capacity)):
                con.register(table, frame.with_columns(trace_id=pl.lit(self.trace_id, pl.Int64)).to_arrow())
            foundation.load(con, "links")
            set_variables(con, replay_id=self.trace_id, **values)
            return con.sql(load_sql("retime.replay", f"link_report_{what}")).pl()
        finally:
            con.close()


# the columns of the store's replay_transfers, replay_transfer_links and replay_link_capacity but trace_id
TRANSFER_SCHEMA = {"transfer": pl.Int64, "rank": pl.Int64, "kind": pl.String, "name": pl.String, "server": pl.Int64,
                   "gpu": pl.Int64, "bytes": pl.Int64, "start_ns": pl.Int64, "wanted_ns": pl.Int64, "took_ns": pl.Int64,
                   "slowed": pl.Boolean}
CROSSING_SCHEMA = {"transfer": pl.Int64, "server": pl.Int64, "link": pl.String, "direction": pl.String}
CAPACITY_SCHEMA = {"server": pl.Int64, "link": pl.String, "direction": pl.String, "gb_s": pl.Float64, "parent": pl.String}


@dataclass
class LinkUse:
    """One direction of one link over a replay: what crossed it and how long it held transfers back."""
    server: int
    link: str
    direction: str            # 'to device' / 'to host' on PCIe and the sockets' link, 'out' / 'in' on a NIC's port
    gb_s: float
    bytes: int
    copies: int               # copies between GPU and host memory that crossed it
    network: int              # ranks' collective transfers between servers that crossed it
    fabric: int               # ranks' collective transfers inside a server (NVLink) that crossed it
    saturated_ns: int         # time it ran full while a transfer on it wanted more
    slowed: int               # transfers on it that got less than they wanted at some time


def place(con, topology: Topology, graph: ReplayGraph, trace_ids: list[int], point_rank: np.ndarray | None = None,
          ranks: list[int | None] | None = None) -> LinkModel:
    """Where each point's GPU sits: its lane's device, on server 0 for one trace. For a job (its
    ranks in trace_ids order, point_rank per point, lanes numbered lane + 1,000,000 x rank index
    as retime/replay/job.py joins them) each rank on server rank // ranks per server, on its GPU there: its
    lanes' device, or its local rank (rank % ranks per server) where ranks of one server name the
    same device (each process saw one GPU)."""
    from retime.sqlfiles import load_sql
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


def _routes(topology: Topology, gpu_routes: list[list[tuple[str, int]]]) -> np.ndarray:
    """Per GPU, its route as directed link indices (link x 2 + direction), rows padded with -1."""
    index = {name: i for i, name in enumerate(topology.links)}
    table = np.full((len(gpu_routes), max(map(len, gpu_routes), default=0)), -1, np.int64)
    for g, route in enumerate(gpu_routes):
        table[g, :len(route)] = [index[link] * 2 + direction for link, direction in route]
    return table


def _network_route(topology: Topology, gpu: str) -> list[tuple[str, int]]:
    """A GPU's traffic to and from other servers: to its NIC and out of the port, in and back."""
    nic = topology.nic_of(gpu)
    return topology.route(gpu, nic) + [(nic + PORT, UP), (nic + PORT, DOWN)] + topology.route(nic, gpu)


def _fabric_route(gpu: str) -> list[tuple[str, int]]:
    """A GPU's traffic to the other GPUs of its server: out of its NVLink port and in."""
    return [(gpu + FABRIC, UP), (gpu + FABRIC, DOWN)]


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
    up = _routes(topo, [[(link, UP) for link in topo.route_to_host(g)] for g in gpus])
    down = np.where(up >= 0, up - UP + DOWN, -1)
    copy_rows = np.where((direction[graph.edge_class[copies]] == DOWN)[:, None], down[copy_device], up[copy_device])
    net_rows = _routes(topo, [_network_route(topo, g) for g in gpus])[model.point_device[dst[network]]] \
        if len(network) else np.zeros((0, 0), np.int64)
    fabric_rows = _routes(topo, [_fabric_route(g) for g in gpus])[model.point_device[dst[fabric]]] \
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


def retimed(graph: ReplayGraph, lag: np.ndarray, model: LinkModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, LinkReport]:
    """(new times, binding edges, lags, what crossed the links) with transfers sharing the topology's links."""
    xfer, kind, nbytes, staged, route_ptr, route, server = _transfers(graph, lag, model)
    new, binding = passes.retime(graph.measured, graph.indptr, graph.src, lag)
    links = model.topology.links
    servers = len(model.ranks_on_server)
    capacity = np.repeat([model.topology.gb_s[name] for name in links], 2).astype(np.float64)
    capacity = np.tile(capacity, servers)  # GB/s = bytes/ns
    if len(xfer) == 0:
        return new, binding, lag, LinkReport.empty(graph.trace_id)
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
    uses = _use(model.topology, capacity, kind, route_ptr, route, slowed, saturated, carried)
    return new, binding, current, _report(graph, model, uses, new, lag[xfer], current[xfer], xfer, kind, nbytes, slowed,
                                          route_ptr, route, capacity)


def _direction_names(topology: Topology) -> list[str]:
    """Per directed link index within a server (link x 2 + UP or DOWN), its direction in words."""
    names = []
    for link in topology.links:
        port = link.endswith((PORT, FABRIC))
        names += ["out" if port else "to host", "in" if port else "to device"]  # UP, DOWN
    return names


def _report(graph, model, uses, new, wanted, took, xfer, kind, nbytes, slowed, route_ptr, route, capacity) -> LinkReport:
    """The transfers of the settled replay, columnar: who, what, when, how long alone and shared."""
    topo = model.topology
    collective = kind != COPY
    src, dst = graph.src[xfer], graph.dst[xfer]
    at = np.where(collective, dst, src)  # the rank's own point: a collective's transfer starts at the group's point
    classes = np.array(EDGE_CLASSES, dtype=object)  # a copy's kind is its class, h2d or d2h
    names = np.array(graph.names, dtype=object)
    transfers = pl.DataFrame({
        "transfer": np.arange(len(xfer), dtype=np.int64),
        "rank": model.ranks[model.point_rank[at]] if len(model.ranks) else np.zeros(len(xfer), np.int64),
        "kind": np.where(kind == NET, "network", np.where(kind == NVLINK, "nvlink",
                                                          classes[graph.edge_class[xfer]])).astype(str),
        "name": names[graph.point_name[dst]].astype(str),
        "server": model.point_server[at], "gpu": model.point_device[at],
        "bytes": np.rint(nbytes).astype(np.int64), "start_ns": new[src].astype(np.int64),
        "wanted_ns": wanted.astype(np.int64), "took_ns": took.astype(np.int64),
        "slowed": slowed.astype(bool)}, schema=TRANSFER_SCHEMA)
    per_server = 2 * len(topo.links)
    server, within = np.divmod(route, per_server)
    directions = np.array(_direction_names(topo), dtype=object)
    links = np.array(topo.links, dtype=object)
    crossings = pl.DataFrame({"transfer": np.repeat(np.arange(len(xfer), dtype=np.int64), np.diff(route_ptr)),
                              "server": server, "link": links[within // 2].astype(str),
                              "direction": directions[within].astype(str)}, schema=CROSSING_SCHEMA)
    servers = len(capacity) // per_server
    above = np.array([topo.above(link) for link in topo.links], dtype=object)
    capacity_table = pl.DataFrame({"server": np.repeat(np.arange(servers, dtype=np.int64), per_server),
                                   "link": np.tile(np.repeat(links, 2), servers).astype(str),
                                   "direction": np.tile(directions, servers).astype(str), "gb_s": capacity,
                                   "parent": np.tile(np.repeat(above, 2), servers).astype(str)},
                                  schema=CAPACITY_SCHEMA)
    return LinkReport(graph.trace_id, uses, transfers, crossings, capacity_table)


def _use(topology: Topology, capacity, kind, route_ptr, route, slowed, saturated, carried) -> list[LinkUse]:
    links = topology.links
    per_transfer = np.diff(route_ptr)
    kind_of_step = np.repeat(kind, per_transfer)
    copies = np.bincount(route[kind_of_step == COPY], minlength=len(capacity))
    network = np.bincount(route[kind_of_step == NET], minlength=len(capacity))
    fabric = np.bincount(route[kind_of_step == NVLINK], minlength=len(capacity))
    held = np.bincount(route, weights=np.repeat(slowed, per_transfer), minlength=len(capacity)).astype(np.int64)
    directions = _direction_names(topology)
    rows = []
    for k in np.flatnonzero(copies + network + fabric).tolist():  # one row per link direction crossed
        server, within = divmod(k, 2 * len(links))
        rows.append(LinkUse(server=server, link=links[within // 2], direction=directions[within], gb_s=float(capacity[k]),
                            bytes=int(carried[k]),
                            copies=int(copies[k]), network=int(network[k]), fabric=int(fabric[k]),
                            saturated_ns=int(round(saturated[k])),
                            slowed=int(held[k])))
    return sorted(rows, key=lambda r: (-r.saturated_ns, -r.bytes, r.server, r.link))
