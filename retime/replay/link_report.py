"""What a replay on a topology sent over its links (retime/replay/links.py): each link direction's
use, each transfer with the links it crossed, as the store's replay link tables hold them, and the
warnings a person should read beside the answer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from retime.core.errors import ScenarioError
from retime.replay.scenario import EDGE_CLASSES
from retime.replay.topology import FABRIC, PORT, Topology

if TYPE_CHECKING:
    from retime.replay.placement import LinkModel

COPY, NET, NVLINK = 0, 1, 2  # the transfers' kinds


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
        from retime.core.sqlfiles import load_sql, set_variables
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


def direction_names(topology: Topology) -> list[str]:
    """Per directed link index within a server (link x 2 + UP or DOWN), its direction in words."""
    names = []
    for link in topology.links:
        port = link.endswith((PORT, FABRIC))
        names += ["out" if port else "to host", "in" if port else "to device"]  # UP, DOWN
    return names


def report(graph, model, uses, new, wanted, took, xfer, kind, nbytes, slowed, route_ptr, route, capacity) -> LinkReport:
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
    directions = np.array(direction_names(topo), dtype=object)
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


def uses(topology: Topology, capacity, kind, route_ptr, route, slowed, saturated, carried) -> list[LinkUse]:
    """Each link direction some transfer crossed: what crossed it and how long it held transfers back,
    the most saturated first."""
    links = topology.links
    per_transfer = np.diff(route_ptr)
    kind_of_step = np.repeat(kind, per_transfer)
    copies = np.bincount(route[kind_of_step == COPY], minlength=len(capacity))
    network = np.bincount(route[kind_of_step == NET], minlength=len(capacity))
    fabric = np.bincount(route[kind_of_step == NVLINK], minlength=len(capacity))
    held = np.bincount(route, weights=np.repeat(slowed, per_transfer), minlength=len(capacity)).astype(np.int64)
    directions = direction_names(topology)
    rows = []
    for k in np.flatnonzero(copies + network + fabric).tolist():  # one row per link direction crossed
        server, within = divmod(k, 2 * len(links))
        rows.append(LinkUse(server=server, link=links[within // 2], direction=directions[within], gb_s=float(capacity[k]),
                            bytes=int(carried[k]),
                            copies=int(copies[k]), network=int(network[k]), fabric=int(fabric[k]),
                            saturated_ns=int(round(saturated[k])),
                            slowed=int(held[k])))
    return sorted(rows, key=lambda r: (-r.saturated_ns, -r.bytes, r.server, r.link))
