"""Servers as trees of shared links (replay/presets/topologies.toml): which links a copy between a
GPU and host memory crosses, each link's bandwidth per direction, and the what-ifs on them (a node
moved under another parent, a link or the PCIe generation made faster)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

from retime.errors import ScenarioError
from retime.replay.scenario import BYTES_PER_NS, VALUE

PCIE_PREFIXES = ("gpu", "nic", "sw", "nvme")  # links that are PCIe, which `pcie.gen` rescales
PARENT_PREFIXES = ("sw", "cpu")  # what a node can hang under


@lru_cache(maxsize=1)
def presets() -> dict[str, dict]:
    """Every topology preset by key, as replay/presets/topologies.toml writes it."""
    return tomllib.loads(resources.files("retime.replay").joinpath("presets", "topologies.toml").read_text())


@dataclass(frozen=True)
class Topology:
    """One server: each node's parent ('' for a CPU socket) and each link's GB/s per direction."""
    key: str
    name: str
    source: str
    parent: dict[str, str]
    gb_s: dict[str, float]                 # link (named by its child node) -> GB/s per direction
    changes: tuple[str, ...] = field(default=())  # the what-ifs applied, in words

    @property
    def links(self) -> list[str]:
        """Every link, by the node below it, in the preset's order."""
        return [node for node, parent in self.parent.items() if parent]

    def gpus(self) -> list[str]:
        return [node for node in self.parent if node.startswith("gpu")]

    def route_to_host(self, node: str) -> list[str]:
        """The links from `node` up to its CPU socket (where host memory is)."""
        if node not in self.parent:
            raise ScenarioError(f"topology {self.key} has no node {node!r}; nodes: {', '.join(self.parent)}")
        route = []
        while self.parent[node]:
            route.append(node)
            node = self.parent[node]
        return route

    def moved(self, moves: dict[str, str]) -> "Topology":
        """The server with nodes hung under other parents (`{"gpu1": "sw1"}`)."""
        parent = dict(self.parent)
        for node, to in moves.items():
            for name in (node, to):
                if name not in parent:
                    raise ScenarioError(f"--move {node}={to}: topology {self.key} has no node {name!r}")
            if not parent[node]:
                raise ScenarioError(f"--move {node}={to}: {node} is a CPU socket, the root of its tree")
            if not to.startswith(PARENT_PREFIXES):
                raise ScenarioError(f"--move {node}={to}: a node hangs under a switch or a CPU socket "
                                    f"({', '.join(n for n in parent if n.startswith(PARENT_PREFIXES))})")
            up = to
            while up:
                if up == node:
                    raise ScenarioError(f"--move {node}={to}: {to} hangs below {node}")
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
                for name in gb_s:
                    if name.startswith(PCIE_PREFIXES):
                        gb_s[name] *= 2.0 ** (gen - base)
                continue
            if link not in gb_s:
                raise ScenarioError(f"--link {link}={raw}: topology {self.key} has no link {link!r}; "
                                    f"links: {', '.join(self.links)}, or pcie.gen")
            m = VALUE.match(str(raw))
            unit = (m[2] or "x").lower() if m else ""
            if not m or float(m[1]) <= 0 or (unit != "x" and unit not in BYTES_PER_NS):
                raise ScenarioError(f"--link {link}={raw}: expected a positive factor like 2x or a bandwidth like 32GB/s")
            gb_s[link] = gb_s[link] * float(m[1]) if unit == "x" else float(m[1]) * BYTES_PER_NS[unit]
        return replace(self, gb_s=gb_s, changes=self.changes + tuple(f"{k}={v}" for k, v in settings.items()))

    def show(self) -> str:
        """The tree in text: each node under its parent, with its link's bandwidth."""
        lines = [f"{self.key}: {self.name}"] + [f"  ({c})" for c in self.changes]

        def walk(node: str, depth: int) -> None:
            link = f"  [{self.gb_s[node]:g} GB/s each way to {self.parent[node]}]" if self.parent[node] else ""
            lines.append(f"{'  ' * depth}{node}{link}")
            for child in (n for n, p in self.parent.items() if p == node):
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
    return Topology(key=key, name=doc["name"], source=doc["source"], parent=parent, gb_s=gb_s)


def split_pairs(items: list[str] | tuple[str, ...], flag: str) -> dict[str, str]:
    """`A=B` strings as a dict, each checked."""
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ScenarioError(f"{flag} {item!r}: expected NAME=VALUE")
        pairs[name.strip()] = value.strip()
    return pairs
