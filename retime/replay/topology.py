"""Servers as trees of shared links (retime/replay/presets/topologies.toml): which links a transfer crosses
(a copy between a GPU and host memory, a GPU's network traffic through its NIC, its collective
traffic inside the server through its port into an NVLink switch), each link's bandwidth per
direction, and the what-ifs on them (a node moved under another parent, a link, the PCIe generation,
the NICs or the NVLink ports made faster, fewer ranks to a server)."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

from retime.core.errors import arg, ScenarioError
from retime.replay.scenario import BYTES_PER_NS, VALUE

PCIE_PREFIXES = ("gpu", "nic", "sw", "nvme")  # links that are PCIe, which `pcie.gen` rescales (a preset may say others)
PARENT_PREFIXES = ("sw", "cpu")  # what a node can hang under
PORT = ".port"  # a NIC's network port, a link of its own: "nic0.port"
FABRIC = ".nvlink"  # a GPU's port into the server's NVLink switch fabric, a link of its own: "gpu0.nvlink"
PORT_FAMILIES = (("nic", PORT, "NIC"), ("nvlink", FABRIC, "NVLink"))  # --link NAME=... sets all of a family
NETWORK, SWITCH_FABRIC = "network", "nvswitch"  # what a NIC's port and a GPU's NVLink port join them to
UP, DOWN = 0, 1  # a link's directions: toward its parent (to the host), toward its child (to the device)
RATE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(x|GB/s|Gb/s|Gbit/s|TB/s|Tb/s)\s*$")  # bits and bytes apart


@lru_cache(maxsize=1)
def presets() -> dict[str, dict]:
    """Every topology preset by key, as retime/replay/presets/topologies.toml writes it."""
    return tomllib.loads(resources.files("retime.replay").joinpath("presets", "topologies.toml").read_text())


@dataclass(frozen=True)
class Topology:
    """One server: each node's parent ('' for a CPU socket) and each link's GB/s per direction."""
    key: str
    name: str
    source: str
    parent: dict[str, str]
    gb_s: dict[str, float]                 # link (named by its child node, or NIC + ".port") -> GB/s per direction
    changes: tuple[str, ...] = field(default=())  # the what-ifs applied, in words
    ranks_per_server: int | None = None    # a job's ranks fill servers this many at a time (None: one per GPU)
    placement: tuple[tuple[int, int | None, int], ...] = ()  # (rank, server or None: its own, GPU index) overrides

    @property
    def links(self) -> list[str]:
        """Every link, by the node below it, in the preset's order, then the NICs' network ports, then
        the GPUs' NVLink ports where the server has a switched fabric."""
        return ([node for node, parent in self.parent.items() if parent] + [n + PORT for n in self.nics()]
                + [g + FABRIC for g in self.gpus() if g + FABRIC in self.gb_s])

    def above(self, link: str) -> str:
        """What a link joins its node to: its parent, the network (a NIC's port) or the NVLink switch."""
        return NETWORK if link.endswith(PORT) else SWITCH_FABRIC if link.endswith(FABRIC) else self.parent[link]

    def has_fabric(self) -> bool:
        """Whether the GPUs reach each other through an NVLink switch (a port each, `nvlink_gb_s`)."""
        return any(link.endswith(FABRIC) for link in self.gb_s)

    def gpus(self) -> list[str]:
        return [node for node in self.parent if node.startswith("gpu")]

    def nics(self) -> list[str]:
        return [node for node in self.parent if node.startswith("nic")]

    def per_server(self) -> int:
        """How many of a job's ranks share one server."""
        return self.ranks_per_server or len(self.gpus())

    def _check(self, node: str) -> None:
        if node not in self.parent:
            raise ScenarioError(f"topology {self.key} has no node {node!r}; nodes: {', '.join(self.parent)}")

    def route_to_host(self, node: str) -> list[str]:
        """The links from `node` up to its CPU socket (where host memory is)."""
        self._check(node)
        route = []
        while self.parent[node] and not node.startswith("cpu"):
            route.append(node)
            node = self.parent[node]
        return route

    def route(self, a: str, b: str) -> list[tuple[str, int]]:
        """The links from node `a` to node `b` with the direction each is crossed in: up from `a` to
        the lowest node above both, then down to `b` (across the sockets' link where they differ)."""
        self._check(a)
        self._check(b)
        above_a = [a]
        while self.parent[above_a[-1]]:
            above_a.append(self.parent[above_a[-1]])
        down = []
        node = b
        while node not in above_a:
            down.append(node)
            if not self.parent[node]:
                raise ScenarioError(f"topology {self.key}: {a} and {b} are in trees no link joins")
            node = self.parent[node]
        up = above_a[:above_a.index(node)]
        return [(link, UP) for link in up] + [(link, DOWN) for link in reversed(down)]

    def nic_of(self, gpu: str) -> str:
        """The NIC a GPU's network traffic leaves through: its own rail (gpuN -> nicN) where the
        server has one NIC per GPU, else the NIC fewest links away (the first of a tie)."""
        self._check(gpu)
        nics = self.nics()
        if not nics:
            raise ScenarioError(f"topology {self.key} has no NIC for network traffic")
        rail = "nic" + gpu[len("gpu"):]
        if len(nics) >= len(self.gpus()) and rail in self.parent:
            return rail
        return min(nics, key=lambda nic: len(self.route(gpu, nic)))

    def with_ranks_per_server(self, ranks: int | None) -> "Topology":
        """The server holding `ranks` of a job's ranks (fewer than its GPUs: a job spread wider)."""
        if ranks is None:
            return self
        if not 1 <= ranks <= len(self.gpus()):
            raise ScenarioError(f"ranks per server {ranks}: topology {self.key} has {len(self.gpus())} GPUs a server")
        return replace(self, ranks_per_server=ranks, changes=self.changes + (f"{ranks} ranks a server",))

    def placed(self, places: dict[str, str]) -> "Topology":
        """The server with ranks of a job put on chosen GPUs: `{"3": "gpu5"}` (on the server it fills
        anyway) or `{"3": "1/gpu5"}` (server 1's GPU 5); the other ranks stay where they were."""
        placement = list(self.placement)
        for rank_text, where in places.items():
            rank = rank_text.removeprefix("rank")
            server_text, _, gpu = where.rpartition("/")
            if not rank.isdigit() or (server_text and not server_text.isdigit()):
                raise ScenarioError(f"{arg('place', f'{rank_text}={where}')}: expected RANK=gpuN or RANK=SERVER/gpuN "
                                    f"({arg('place', '3=gpu5')}, {arg('place', '3=1/gpu5')})")
            if gpu not in self.gpus():
                raise ScenarioError(f"{arg('place', f'{rank_text}={where}')}: topology {self.key} has no {gpu!r}; "
                                    f"GPUs: {', '.join(self.gpus())}")
            placement.append((int(rank), int(server_text) if server_text else None, self.gpus().index(gpu)))
        words = tuple(f"rank {r} on {'' if s is None else f'server {s} '}{self.gpus()[g]}"
                      for r, s, g in placement[len(self.placement):])
        return replace(self, placement=tuple(placement), changes=self.changes + words)

    def moved(self, moves: dict[str, str]) -> "Topology":
        """The server with nodes hung under other parents (`{"gpu1": "sw1"}`)."""
        parent = dict(self.parent)
        for node, to in moves.items():
            for name in (node, to):
                if name not in parent:
                    raise ScenarioError(f"{arg('move', f'{node}={to}')}: topology {self.key} has no node {name!r}")
            if not parent[node] or node.startswith("cpu"):
                raise ScenarioError(f"{arg('move', f'{node}={to}')}: {node} is a CPU socket, which stays where it is")
            if not to.startswith(PARENT_PREFIXES):
                raise ScenarioError(f"{arg('move', f'{node}={to}')}: a node hangs under a switch or a CPU socket "
                                    f"({', '.join(n for n in parent if n.startswith(PARENT_PREFIXES))})")
            up = to
            while up:
                if up == node:
                    raise ScenarioError(f"{arg('move', f'{node}={to}')}: {to} hangs below {node}")
                up = parent[up]
            parent[node] = to
        return replace(self, parent=parent, changes=self.changes + tuple(f"{n} under {t}" for n, t in moves.items()))

    def with_links(self, settings: dict[str, str]) -> "Topology":
        """The server with links made faster or slower: `{"sw0": "2x"}`, `{"gpu3": "32GB/s"}`, or
        `{"pcie.gen": "6"}` (every PCIe link at 2x per generation over the preset's)."""
        gb_s = dict(self.gb_s)
        for link, raw in settings.items():
            if link == "pcie.gen":
                try:
                    gen = int(raw)
                except ValueError:
                    raise ScenarioError(f"pcie.gen={raw}: expected a PCIe generation like 6") from None
                base = int(presets()[self.key].get("pcie_gen", 5))
                pcie = tuple(presets()[self.key].get("pcie_prefixes", PCIE_PREFIXES))
                for name in gb_s:
                    if name.startswith(pcie) and not name.endswith((PORT, FABRIC)):
                        gb_s[name] *= 2.0 ** (gen - base)
                continue
            family = next(((all_name, suffix, what) for all_name, suffix, what in PORT_FAMILIES
                           if link == all_name or link.endswith(suffix)), None)
            if family is not None:  # a NIC's network port or a GPU's NVLink port: rates in bits or bytes
                all_name, suffix, what = family
                every = [n for n in self.links if n.endswith(suffix)]
                ports = every if link == all_name else [link]
                if not ports or ports[0] not in gb_s:
                    raise ScenarioError(f"{arg('link', f'{link}={raw}')}: topology {self.key} has no {what} port {link!r}; "
                                        f"ports: {', '.join(every) or 'none'}")
                for port in ports:
                    gb_s[port] = _port_rate(link, raw, gb_s[port])
                continue
            if link not in gb_s:
                raise ScenarioError(f"{arg('link', f'{link}={raw}')}: topology {self.key} has no link {link!r}; "
                                    f"links: {', '.join(self.links)}, pcie.gen, nic, or nvlink")
            m = VALUE.match(str(raw))
            unit = (m[2] or "x").lower() if m else ""
            if not m or float(m[1]) <= 0 or (unit != "x" and unit not in BYTES_PER_NS):
                raise ScenarioError(f"{arg('link', f'{link}={raw}')}: expected a positive factor like 2x or a bandwidth like 32GB/s")
            gb_s[link] = gb_s[link] * float(m[1]) if unit == "x" else float(m[1]) * BYTES_PER_NS[unit]
        return replace(self, gb_s=gb_s, changes=self.changes + tuple(f"{k}={v}" for k, v in settings.items()))

    def show(self) -> str:
        """The tree in text: each node under its parent, with its link's bandwidth."""
        lines = [f"{self.key}: {self.name}"] + [f"  ({c})" for c in self.changes]

        def walk(node: str, depth: int) -> None:
            link = f"  [{self.gb_s[node]:g} GB/s each way to {self.parent[node]}]" if self.parent[node] else ""
            if node + PORT in self.gb_s:
                link += f"  [network port {self.gb_s[node + PORT] * 8:g} Gb/s each way]"
            if node + FABRIC in self.gb_s:
                link += f"  [NVLink port {self.gb_s[node + FABRIC]:g} GB/s each way to the switch fabric]"
            lines.append(f"{'  ' * depth}{node}{link}")
            for child in sorted((n for n, p in self.parent.items() if p == node), key=lambda n: n.startswith("cpu")):
                walk(child, depth + 1)

        for root in (n for n, p in self.parent.items() if not p):
            walk(root, 1)
        return "\n".join(lines)


def load(key: str) -> Topology:
    """The preset `key` (dgx-h100, ...) as a Topology."""
    table = presets()
    if key not in table:
        raise ScenarioError(f"unknown topology {key!r}; presets: {', '.join(table)}")
    doc = table[key]
    parent = dict(doc["parent"])
    gb_s = {}
    for node, up in parent.items():
        if up:
            prefix = next((p for p in sorted(doc["gb_s"], key=len, reverse=True) if node.startswith(p)), None)
            if prefix is None:
                raise ScenarioError(f"topology {key}: no gb_s for the link of {node}")
            gb_s[node] = float(doc["gb_s"][prefix])
    for node in parent:
        if node.startswith("nic"):
            if "nic_port_gb_s" not in doc:
                raise ScenarioError(f"topology {key}: no nic_port_gb_s for the network port of {node}")
            gb_s[node + PORT] = float(doc["nic_port_gb_s"])
    if "nvlink_gb_s" in doc:  # a switched fabric: every GPU has one port into it
        for node in parent:
            if node.startswith("gpu"):
                gb_s[node + FABRIC] = float(doc["nvlink_gb_s"])
    return Topology(key=key, name=doc["name"], source=doc["source"], parent=parent, gb_s=gb_s)


def _port_rate(link: str, raw: str, now: float) -> float:
    """A NIC port's GB/s from `2x`, `800Gb/s` (bits) or `100GB/s` (bytes)."""
    m = RATE.match(str(raw))
    if not m or float(m[1]) <= 0:
        raise ScenarioError(f"{arg('link', f'{link}={raw}')}: expected a positive factor like 2x or a rate like 800Gb/s "
                            "(Gb/s in bits, GB/s in bytes)")
    number, unit = float(m[1]), m[2]
    return {"x": now * number, "GB/s": number, "Gb/s": number / 8, "Gbit/s": number / 8,
            "TB/s": number * 1e3, "Tb/s": number * 1e3 / 8}[unit]


def split_pairs(items: list[str] | tuple[str, ...], flag: str) -> dict[str, str]:
    """`A=B` strings as a dict, each checked."""
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ScenarioError(f"{flag} {item!r}: expected NAME=VALUE")
        pairs[name.strip()] = value.strip()
    return pairs
