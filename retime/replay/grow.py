"""A measured job replayed as a data-parallel job of another size: `retime replay TRACE --all-ranks
--ranks N`.

The grown job's rank i copies measured rank i mod R (R: the measured ranks it is grown from, by
rank), so the grown job keeps the measured spread of host and GPU time rather than N clones of one
rank. Copies of a rank do what it does at the times it does it: every collective starts when the
last rank arrives, and a copy arrives with its original. So the grown job's graph is the graph of
its R distinct ranks (retime/replay/job.py), each collective's transfer re-timed for N ranks; it costs what
the measured job costs whatever N is.

A collective keeps its buffer (data parallelism: a gradient keeps its size) and its transfer time
after the last arrival, t, is moved by the ratio of the collective's time on N ranks to its time on
the N0 ranks it ran on, T(N) / T(N0), so what the model cannot know (this job's protocol choice,
its overlap) carries over:

- within one server (n <= the GPUs a server holds): the measured NCCL curve of the trace's part at
  n GPUs (retime/replay/kernel_db.py collective_latency: a count the part was not measured at moves as
  the nearest parts measured at both counts move; a part without curves takes the nearest measured
  part's, scaled by the link ratio);
- across servers (n > K, the server's GPUs): the phase inside each server as above at K GPUs, then
  a ring over the m = ceil(n / K) servers through each GPU's own NIC (one rail per GPU): all-reduce,
  all-gather and reduce-scatter move bus_factor(m) x buffer / K bytes per GPU in steps(m) steps,
  all-to-all moves buffer x (n - K) / n bytes per GPU in m - 1 steps, each step costing the
  network's step latency; an all-reduce takes NCCL's double binary tree instead where that is
  faster (2 x buffer / K bytes per GPU in 2 ceil(log2 m) steps: latency-bound all-reduces over many
  servers). The NIC rate is the topology's (`--topology`: its NIC ports per GPU), else
  the part's between-server rate (retime/replay/presets/network.toml, from aiconfigurator-core); the step
  latency is the `net.latency` knob's where set, else the part's there (10 µs for every part listed:
  aiconfigurator's correction from observations, not a measurement of a named fabric).

A collective whose buffer the trace does not record is given the buffer at which T(N0) equals its
measured t (the curve inverted), and one whose operation is unknown (a send/receive pair) keeps its
time; the answer counts both. Growing with `fixed_global_batch` also shrinks each rank's batch by
N0 / N (the batch knob, retime/replay/batch.py).
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from retime.core.errors import arg, QueryError, ScenarioError
from retime.replay import kernel_db, presets
from retime.replay.topology import FABRIC, PORT

if TYPE_CHECKING:
    from retime.replay import engine, fidelity
    from retime.replay import job as job_graph

OPS = kernel_db.COLLECTIVES  # op code: index
KERNEL_OPS = ((re.compile(r"all_?reduce", re.I), 0), (re.compile(r"all_?gather", re.I), 1),
              (re.compile(r"reduce_?scatter", re.I), 2), (re.compile(r"all_?to_?all", re.I), 3))
SERVER_GPUS = 8   # GPUs a server holds where neither a topology nor --ranks-per-server says (the NCCL curves' node)
SIZE_GRID = np.logspace(8, 34, 209, base=2.0)  # buffers (bytes) over which a curve is inverted: 256 B to 16 GiB


@lru_cache(maxsize=1)
def network() -> dict[str, dict]:
    """retime/replay/presets/network.toml: each part's between-server rate per GPU and step latency."""
    return tomllib.loads(resources.files("retime.replay").joinpath("presets", "network.toml").read_text())


@dataclass(frozen=True)
class Growth:
    """How a job grows: N ranks, K a server, and the network between servers."""
    ranks: int                      # N: the grown job's ranks
    per_server: int                 # K: ranks a server holds
    nic_gb_s: float | None          # per GPU, one direction, between servers (None: not needed, one server)
    step_latency_us: float          # per ring step between servers
    network_source: str             # where the two numbers above come from, in words
    fixed_global_batch: bool = False  # strong scaling: each rank's batch shrinks by N0 / N

    @property
    def servers(self) -> int:
        return math.ceil(self.ranks / self.per_server)


def plan(gpu: str | None, ranks: int, measured: int, topology=None, ranks_per_server: int | None = None,
         net_latency_ns: int = 0, fixed_global_batch: bool = False) -> Growth:
    """The growth to `ranks` ranks of a job of `measured` ranks on part `gpu`: K from
    `ranks_per_server`, else the topology's GPUs, else SERVER_GPUS; the network between servers from
    the topology's NICs, else the part's (network.toml); ScenarioError where the job (before or
    after) crosses servers and neither says."""
    if ranks < 1:
        raise ScenarioError(f"ranks={ranks}: a job needs at least one rank")
    per_server = ranks_per_server or (topology.per_server() if topology is not None else SERVER_GPUS)
    known = network().get(gpu or "", {})
    # a step's latency: net.latency where set, else the part's, else the one every listed part shares
    latency = (net_latency_ns / 1e3 if net_latency_ns > 0 else known.get("step_latency_us")
               or float(np.median([p["step_latency_us"] for p in network().values()])))
    if max(ranks, measured) <= per_server:
        return Growth(ranks, per_server, None, latency, "one server: no network between servers",
                      fixed_global_batch)
    if topology is not None:
        nics = topology.nics()
        rate = sum(topology.gb_s[n + PORT] for n in nics) / max(len(topology.gpus()), 1)
        source = (f"{topology.key}'s NIC ports ({len(nics)} for {len(topology.gpus())} GPUs), step latency {latency:g} µs "
                  + ("(net.latency)" if net_latency_ns > 0 else "(aiconfigurator-core's p2p_latency, retime/replay/presets/network.toml)"))
        return Growth(ranks, per_server, rate, latency, source, fixed_global_batch)
    if not known:
        raise ScenarioError(f"ranks={max(ranks, measured)} crosses servers of {per_server} GPUs, and no network between servers is "
                            f"known for {gpu or 'the trace’s GPU'}: give a topology ({arg('topology')}), whose NICs carry it")
    return Growth(ranks, per_server, float(known["inter_node_gb_s"]), latency, known["source"], fixed_global_batch)


def bus_factor(op: int, n: np.ndarray) -> np.ndarray:
    """Bytes each GPU sends over a ring per byte of buffer: 2(n-1)/n for all-reduce, (n-1)/n else."""
    n = np.asarray(n, np.float64)
    return np.where(op == 0, 2.0, 1.0) * (n - 1) / np.maximum(n, 1)


def steps(op: int, n: np.ndarray) -> np.ndarray:
    """A ring's steps over n members: 2(n-1) for all-reduce, n-1 else."""
    return np.where(op == 0, 2.0, 1.0) * (np.asarray(n, np.float64) - 1)


def collective_us(gpu: str, op: int, n: int, nbytes: np.ndarray, growth: Growth) -> np.ndarray:
    """Modelled time (µs) of an `op` collective over n ranks moving buffers of `nbytes` (module doc)."""
    specs = presets.presets()
    nbytes = np.asarray(nbytes, np.float64)
    inside = min(n, growth.per_server)
    if inside < 2:
        local = np.zeros(len(nbytes))
    elif kernel_db.covers_collectives(gpu, specs):
        local = kernel_db.collective_latency(gpu, OPS[op], inside, nbytes, specs)
    else:  # another vendor: the nearest measured part's curves, scaled by the link ratio (unvalidated)
        local = kernel_db.collective_from_specs(specs[gpu], OPS[op], inside, nbytes, kernel_db.nccl_parts(), specs)
    if n <= growth.per_server:
        return local
    servers, per_server = math.ceil(n / growth.per_server), growth.per_server
    rate = growth.nic_gb_s * 1e3  # bytes per µs
    if op == 3:  # all-to-all: the share of each GPU's buffer bound for other servers
        across = nbytes * (n - per_server) / n / rate + (servers - 1) * growth.step_latency_us
    else:
        across = bus_factor(op, servers) * nbytes / per_server / rate + steps(op, servers) * growth.step_latency_us
        if op == 0:  # all-reduce: NCCL's double binary tree where faster, 2 log2(servers) steps of the buffer's share
            tree = 2.0 * nbytes / per_server / rate + 2 * math.ceil(math.log2(servers)) * growth.step_latency_us
            across = np.minimum(across, tree)
    return local + across


def buffer_for(gpu: str, op: int, n: int, t_us, growth: Growth) -> np.ndarray:
    """The buffers (bytes) at which the model's time over n ranks is each of t_us: the curve inverted
    (below its least time, the smallest buffer; above its largest, the largest scaled by the time)."""
    t_us = np.atleast_1d(np.asarray(t_us, np.float64))
    curve = np.maximum.accumulate(collective_us(gpu, op, n, SIZE_GRID, growth))
    inside = np.exp(np.interp(np.log(np.maximum(t_us, curve[0])), np.log(curve), np.log(SIZE_GRID)))
    return np.where(t_us >= curve[-1], SIZE_GRID[-1] * t_us / curve[-1], inside)


def _median_by(key: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """float64[count]: the median of `values` per key 0..count-1 (every key present)."""
    if count == 0:
        return np.zeros(0)
    order = np.lexsort((values, key))
    key, values = key[order], values[order]
    lo = np.searchsorted(key, np.arange(count))
    hi = np.searchsorted(key, np.arange(count), side="right")
    return (values[lo + (hi - lo - 1) // 2] + values[lo + (hi - lo) // 2]) / 2.0


@dataclass
class Collectives:
    """How a grown job's collectives were re-timed (per collective number)."""
    op: np.ndarray            # int: index into OPS, -1 unknown
    group: np.ndarray         # int: ranks it ran on (N0)
    buffer: np.ndarray        # float: bytes (recorded, else inverted from its time)
    recorded: np.ndarray      # bool: the trace recorded the buffer
    factor: np.ndarray        # float: T(N) / T(N0), 1 where the op is unknown
    network_bytes: np.ndarray  # float: bytes each GPU sends to other servers per collective
    measured_us: np.ndarray   # float: median transfer time after the last arrival, over ranks
    between_servers: np.ndarray  # float: the share of its modelled time on N ranks spent between servers
    scale_up_bytes: np.ndarray   # float: bytes each GPU sends to the GPUs of its server (NVLink) per collective
    ranks: int = 0            # N: the grown job's ranks
    notes: list[str] = field(default_factory=list)


def _collective_ops(job) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per collective number: op code, group size and recorded buffer (NaN unknown), from the
    shapes the graph holds at its start points (else the kernel's name, for the op)."""
    graph, count = job.graph, job.collectives
    op = np.full(count, -1, np.int64)
    group = np.full(count, 0, np.int64)
    buffer = np.full(count, np.nan)
    starts, seq = job.collective_start, job.transfer_seq
    rows = graph.shape_of(starts)
    shaped = np.isfinite(rows[:, 0])
    op[seq[shaped]], group[seq[shaped]], buffer[seq[shaped]] = rows[shaped, 0], rows[shaped, 1], rows[shaped, 2]
    unknown = np.flatnonzero(op < 0)
    if len(unknown):  # by name: one regular expression per distinct kernel name, not per event
        first = np.full(count, -1, np.int64)
        first[seq[::-1]] = starts[::-1]
        names = graph.point_name[first[unknown]]
        for name in np.unique(names):
            code = next((c for pattern, c in KERNEL_OPS if pattern.search(graph.names[name])), -1)
            op[unknown[names == name]] = code
    return op, group, buffer


def retime_collectives(job, gpu: str, growth: Growth, world: int) -> Collectives:
    """Each collective's factor T(N) / T(N0) and the bytes it sends between servers."""
    op, group, buffer = _collective_ops(job)
    if gpu is None and (op >= 0).any():
        raise ScenarioError("the job's GPU is none retime knows (its traces name no GPU a preset matches), so its "
                            f"collectives have no curves: grow it onto a preset with {arg('to', 'GPU')} {arg('source', 'GPU')}")
    group = np.where(group >= 2, group, world)
    measured = _median_by(job.transfer_seq, job.graph.base_lag[job.transfer_edge].astype(np.float64), job.collectives) / 1e3
    recorded = np.isfinite(buffer) & (buffer > 0)
    factor = np.ones(job.collectives)
    network_bytes, between, scale_up = (np.zeros(job.collectives) for _ in range(3))
    # the measured job as it ran: one server where its group fits one of SERVER_GPUS (a job's ranks
    # on one host, as recorded), else servers of the growth's size
    measured_group = int(group.max()) if len(group) else growth.ranks
    before = replace(growth, ranks=measured_group,
                     per_server=measured_group if measured_group <= SERVER_GPUS else growth.per_server)
    inside_ranks = min(growth.ranks, growth.per_server)
    for code, n0 in {(int(o), int(g)) for o, g in zip(op[op >= 0], group[op >= 0])}:
        mine = np.flatnonzero((op == code) & (group == n0))
        unknown = ~recorded[mine]
        buffer[mine[unknown]] = buffer_for(gpu, code, n0, measured[mine[unknown]], before)
        size = buffer[mine]
        then = collective_us(gpu, code, n0, size, before)
        now = collective_us(gpu, code, growth.ranks, size, growth)
        factor[mine] = np.where(then > 0, now / np.where(then > 0, then, 1.0), 1.0)
        scale_up[mine] = size * (inside_ranks - 1) / growth.ranks if code == 3 else bus_factor(code, inside_ranks) * size
        if growth.ranks > growth.per_server:
            inside = collective_us(gpu, code, growth.per_server, size, growth)
            between[mine] = np.where(now > 0, 1.0 - inside / np.where(now > 0, now, 1.0), 0.0)
            network_bytes[mine] = (size * (growth.ranks - growth.per_server) / growth.ranks if code == 3
                                   else bus_factor(code, growth.servers) * size / growth.per_server)
    notes = []
    if (op < 0).any():
        notes.append(f"{int((op < 0).sum())} of {job.collectives} collectives are of an operation the model does not "
                     "know (send/receive pairs, broadcasts) and keep their measured time")
    inverted = (op >= 0) & ~recorded
    if inverted.any():
        notes.append(f"{int(inverted.sum())} collectives record no buffer: each is given the buffer at which its "
                     f"modelled time on {int(group.max())} ranks is its measured one")
    return Collectives(op, group, buffer, recorded, factor, network_bytes, measured, between, scale_up, growth.ranks,
                       notes)


def grown(job, collectives: Collectives):
    """The job graph with each collective's transfer edges (the ranks' time after the last arrival)
    and their bus bytes moved by its factor: the graph of the grown job's distinct ranks."""
    graph = job.graph
    edges, seq = job.transfer_edge, job.transfer_seq
    base_lag = graph.base_lag.copy()
    base_lag[edges] = np.rint(graph.base_lag[edges] * collectives.factor[seq]).astype(np.int64)
    nbytes = graph.bytes.copy()
    op = collectives.op[seq]
    ratio = np.where(op >= 0, bus_factor(op, collectives.ranks) / bus_factor(op, np.maximum(collectives.group[seq], 2)), 1.0)
    known = nbytes[edges] >= 0
    nbytes[edges[known]] = np.rint(nbytes[edges[known]] * ratio[known]).astype(nbytes.dtype)
    return replace(job, graph=replace(graph, base_lag=base_lag, bytes=nbytes))


def copies(measured_ranks: list[int], ranks: int) -> dict[int, list[int]]:
    """The grown job's ranks by the measured rank each copies: rank i copies measured_ranks[i mod R]."""
    return {r: list(range(j, ranks, len(measured_ranks))) for j, r in enumerate(measured_ranks) if j < ranks}


@dataclass(frozen=True)
class JobComparison:
    """A grown job against a measured job of its size (GrownJob.against)."""
    job: str | None                          # the measured job
    measured_ns: int                         # its span: its slowest rank's
    predicted_ns: int                        # the grown job's span
    error_pct: float                         # > 0: predicted slower than measured
    rank_median_abs_error_pct: float         # each grown rank against the same measured rank
    rank_max_abs_error_pct: float
    naive_rank_median_abs_error_pct: float   # every rank at the measured ranks' median span, the baseline

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class GrownJob:
    """A measured job's replay as a job of another size (Store.replay with all_ranks=True and ranks=N)."""
    growth: Growth
    measured_ranks: list[int]                 # the measured ranks it was grown from, by rank
    copies: dict[int, list[int]]              # measured rank -> the grown job's ranks that copy it
    results: list[tuple[int, "engine.ReplayResult"]]  # per measured rank: its copies' replay
    collectives: Collectives
    measured_ns: int                          # the measured ranks' job span (their slowest rank)
    predicted_ns: int                         # the grown job's span (its slowest rank)
    error_bar: "fidelity.ErrorBar"
    notes: list[str]
    saved_job: str | None = None              # save=True: the job the grown ranks were written as
    under_load: list[dict] = field(default_factory=list)  # links(): each GPU's links under the collectives
    against: "JobComparison | None" = None    # compare(): the error against a measured job of the grown size

    def compare(self, target_spans: dict[int, int], target_job: str | None) -> "JobComparison":
        """The grown job against a measured job of its size (`target_spans`: rank -> that rank's
        measured span, as a job replay measures it): the job's span (its slowest rank) and each grown
        rank's, the copy's predicted span against the same rank's measured one, beside the naive
        baseline that puts every rank at the measured ranks' median span. Sets and returns `against`."""
        if sorted(target_spans) != list(range(self.growth.ranks)):
            raise ScenarioError(f"a job grown to {self.growth.ranks} ranks compares with a measured job of ranks "
                                f"0-{self.growth.ranks - 1}; {target_job or 'the target'} has ranks "
                                f"{', '.join(map(str, sorted(target_spans)))}")
        predicted = {rank: r.predicted_ns for rank, r in self.results}
        source = {copy: rank for rank, grown in self.copies.items() for copy in grown}
        median = float(np.median([r.measured_ns for _, r in self.results]))
        rank_err = np.array([100 * (predicted[source[i]] / target_spans[i] - 1) for i in range(self.growth.ranks)])
        naive_err = np.array([100 * (median / target_spans[i] - 1) for i in range(self.growth.ranks)])
        job_span = max(target_spans.values())
        self.against = JobComparison(target_job, int(job_span), self.predicted_ns,
                                     round(100 * (self.predicted_ns / job_span - 1), 2),
                                     round(float(np.median(np.abs(rank_err))), 2), round(float(np.abs(rank_err).max()), 2),
                                     round(float(np.median(np.abs(naive_err))), 2))
        return self.against

    def growth_record(self, rank: int) -> dict:
        """What a saved rank's scenario record says of the growth (replays_list / the traces table)."""
        g = self.growth
        return {"grown": {"ranks": g.ranks, "servers": g.servers, "ranks_per_server": g.per_server,
                          "measured_rank": rank, "copies": self.copies.get(rank, []),
                          "nic_gb_s": g.nic_gb_s, "step_latency_us": g.step_latency_us,
                          "fixed_global_batch": g.fixed_global_batch}}

    @property
    def speedup(self) -> float:
        return self.measured_ns / self.predicted_ns if self.predicted_ns else float("nan")

    @property
    def between_servers_share(self) -> float:
        """The share of the collectives' predicted transfer time spent between servers (on the NICs)."""
        c = self.collectives
        time = c.measured_us * c.factor
        return float((time * c.between_servers).sum() / time.sum()) if time.sum() > 0 else 0.0

    def links(self, gpu: str | None, topology=None) -> list[dict]:
        """Each GPU's links under the grown job's collectives over the replayed run: its scale-up port
        (NVLink: the topology's fabric port, else the part's interconnect) and, across servers, its NIC;
        GB sent, the link's GB/s and the share of the job's predicted span it is busy sending."""
        span_s = self.predicted_ns / 1e9 or 1.0
        rates = []
        port = (next((v for k, v in topology.gb_s.items() if k.endswith(FABRIC)), None) if topology is not None else None)
        port = port or presets.presets().get(gpu or "", {}).get("interconnect_gb_s")
        if port:
            rates.append(("scale-up (NVLink) per GPU", float(self.collectives.scale_up_bytes.sum()), float(port)))
        if self.growth.nic_gb_s is not None:
            rates.append(("NIC per GPU", float(self.collectives.network_bytes.sum()), self.growth.nic_gb_s))
        return [{"link": name, "gb": round(sent / 1e9, 6), "gb_s": rate,
                 "busy_share": round(sent / (rate * 1e9) / span_s, 4)} for name, sent, rate in rates]

    @property
    def network_gb(self) -> float:
        """GB each GPU sends to other servers over the whole replayed run."""
        return float(self.collectives.network_bytes.sum()) / 1e9

    def rank_rows(self) -> list[dict]:
        """A row per measured rank: its copies, span, median step and what bounds it."""
        rows = []
        for rank, r in self.results:
            measured_step, predicted_step = r.median_step() or (None, None)
            rows.append({"rank": rank, "trace_id": r.trace_id, "copies": len(self.copies.get(rank, [])),
                         "measured_ns": r.measured_ns, "predicted_ns": r.predicted_ns,
                         "measured_step_ns": measured_step, "predicted_step_ns": predicted_step, "bound_by": r.bound_by,
                         **({"saved_trace_id": r.saved_trace_id} if self.saved_job else {})})
        return rows

    def rows(self) -> list[dict]:
        """A row per measured rank (its copies, span, median step, what bounds it), then the job's
        (all its ranks; the slowest rank's span and step)."""
        ranks = self.rank_rows()
        steps = {k: [r[k] for r in ranks if r[k] is not None] for k in ("measured_step_ns", "predicted_step_ns")}
        return ranks + [{"rank": None, "trace_id": None, "copies": self.growth.ranks, "measured_ns": self.measured_ns,
                         "predicted_ns": self.predicted_ns, **{k: max(v) if v else None for k, v in steps.items()},
                         "bound_by": "slowest rank"}]

    def to_dict(self) -> dict:
        """The answer as JSON-ready values."""
        g = self.growth
        return {"ranks": g.ranks, "servers": g.servers, "ranks_per_server": g.per_server,
                "measured_ranks": self.measured_ranks,
                "copies": {str(r): v if len(v) <= 16 else f"{len(v)} ranks: {v[0]}, {v[1]}, ..., {v[-1]}"
                           for r, v in self.copies.items()},
                "network": {"gb_s_per_gpu": g.nic_gb_s, "step_latency_us": g.step_latency_us, "source": g.network_source,
                            "gb_sent_per_gpu": round(self.network_gb, 6),
                            "collective_time_between_servers": round(self.between_servers_share, 4)},
                "fixed_global_batch": g.fixed_global_batch,
                "measured_ns": self.measured_ns, "predicted_ns": self.predicted_ns, "speedup": round(self.speedup, 4),
                "ranks_rows": self.rank_rows(),
                "collectives": {"count": len(self.collectives.factor),
                                "median_factor": float(np.median(self.collectives.factor)) if len(self.collectives.factor) else None},
                "links": self.under_load,
                "error_bar": self.error_bar.as_dict(), "notes": self.notes, "saved_job": self.saved_job,
                "against": self.against.as_dict() if self.against is not None else None}


def error_bar(growth: Growth, measured: int) -> "fidelity.ErrorBar":
    """A grown job's bar: unvalidated (no measured job of another size in the shared set), with the
    collective-level validation beside (each GPU count of a part held out) where it applies."""
    from retime.replay import fidelity
    if growth.ranks == measured and not growth.fixed_global_batch:
        return fidelity.ErrorBar(None, "the grown job has the measured ranks' count: only its copies' spread changed, "
                                       "which no measured job validates")
    counts = fidelity.kernel_table().get("nccl.counts")
    inside = (f"; collectives within a server: 80% of held-out GPU counts' measured latencies within "
              f"±{counts['p80_abs_error_pct']:.0f}% (NVLink parts)" if counts else "")
    across = "; across servers the ring over NICs is not validated by any measurement" if growth.ranks > growth.per_server else ""
    return fidelity.ErrorBar(None, f"no measured job of {growth.ranks} ranks validates growing a job of {measured}{inside}{across}")


@dataclass
class MeasuredJob:
    """The measured ranks a job is grown from, as one job graph."""
    job: str
    graph: "job_graph.JobGraph"
    world: int                 # the ranks the measured job ran on (its collectives' N0 where unrecorded)
    gpu: str | None            # the preset of its GPU


def measured_job(con, trace_id: int, copy_ranks: list[int] | None, store_path=None, progress=None) -> MeasuredJob:
    """TRACE's job, or the ranks of it in `copy_ranks`, as one graph (every rank's collectives
    joined, a single rank's too); QueryError where TRACE is no rank of a job or a rank is not in it."""
    from retime.replay import job as job_graph
    from retime.core.sqlfiles import load_sql
    from retime.store import jobs
    job, measured = jobs.ranks_of(con, trace_id)
    if job is None or any(rank is None for _, rank in measured):
        raise QueryError(f"trace {trace_id} is no rank of a job: ingest its ranks as a job (a directory, or "
                         f"{arg('job', 'NAME')}) to grow it")
    by_rank = dict((rank, t) for t, rank in measured)
    wanted = list(copy_ranks) if copy_ranks else sorted(by_rank)
    unknown = [r for r in wanted if r not in by_rank]
    if unknown:
        raise QueryError(f"job {job} has no rank {', '.join(map(str, unknown))} (ranks: {min(by_rank)}-{max(by_rank)})")
    if len(measured) > 1:
        jobs.refuse_if_not_one_run(con, job, "growing the job")
    selected = [(by_rank[r], r) for r in sorted(set(wanted))]
    graph = job_graph.build(con, job, selected, store_path, progress, single=True)
    recorded = con.execute(load_sql("retime.reads", "traces_world"), {"ids": [t for t, _ in selected]}).fetchall()
    gpu = presets.detect(presets.trace_gpu_names(con, selected[0][0]))
    return MeasuredJob(job, graph, max(len(measured), int(recorded[0][0] or 0)), gpu)


@dataclass
class Prepared:
    """A growth ready to replay: the grown job's graph and the scenario it runs under."""
    measured: MeasuredJob
    growth: Growth
    scenario: object           # the Scenario (its batch shrunk for a fixed global batch)
    collectives: Collectives
    grown: "job_graph.JobGraph"
    gpu: str | None = None     # the part the grown job runs on
    topology: object = None    # the server it is put on (a Topology), None without one

    def answer(self, results: list) -> GrownJob:
        """The GrownJob of this growth's replayed ranks (job.replay's results, by measured rank). A
        replay that moved no time (the job grown to itself) keeps its bar: none, nothing to be wrong about."""
        from retime.replay import fidelity
        identity = bool(results) and results[0].error_bar is fidelity.NO_EFFECT
        bar = fidelity.NO_EFFECT if identity else error_bar(self.growth, self.measured.world)
        notes = list(self.collectives.notes)
        if self.measured.graph.collectives == 0:
            notes.append("the ranks meet at no GPU collective: each copy runs as its measured rank does")
        for result in results:
            result.error_bar = bar
        ranks = self.measured.graph.ranks
        answer = GrownJob(self.growth, list(ranks), copies(list(ranks), self.growth.ranks), list(zip(ranks, results)),
                          self.collectives, max(r.measured_ns for r in results), max(r.predicted_ns for r in results),
                          bar, notes)
        answer.under_load = answer.links(self.gpu, self.topology)
        report = results[0].link_report if results else None
        if report is not None:
            held = sum(1 for use in results[0].links if use.slowed)
            r, k = len(ranks), self.growth.per_server
            notes.append(f"on {self.topology.key}: the {r} distinct ranks fill "
                         f"{math.ceil(r / k)} server(s) of {k} and their copies and collectives share its links "
                         f"({held} link directions held a transfer back)"
                         + ("" if r % k == 0 or r > self.growth.ranks else
                            f"; with {r} ranks for servers of {k}, the copies that would share a server with them are "
                            "not on its links, so contention there is understated"))
        return answer


def prepare(con, measured: MeasuredJob, scenario, ranks: int, topology=None, ranks_per_server: int | None = None,
            fixed_global_batch: bool = False) -> Prepared:
    """The measured job grown to `ranks` ranks under `scenario` (its GPU: the retarget's where it
    has one): the growth's plan, each collective's factor and the grown graph."""
    gpu = scenario.kernel_model.target if scenario.kernel_model is not None else measured.gpu
    growth = plan(gpu, ranks, measured.world, topology,
                  ranks_per_server or (topology.ranks_per_server if topology is not None else None),
                  int(scenario.link_latency_ns.get("comm", 0)), fixed_global_batch)
    if fixed_global_batch and ranks != measured.world:
        scenario = replace(scenario, batch=(scenario.batch or 1.0) * measured.world / ranks,
                           batch_gpu=scenario.batch_gpu or gpu)
    collectives = retime_collectives(measured.graph, gpu, growth, measured.world)
    return Prepared(measured, growth, scenario, collectives, grown(measured.graph, collectives), gpu, topology)


RANKS_AXIS, NIC_AXIS = "ranks", "link.nic"


def split_axes(items: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """A sweep grid's growth axes (`ranks=8,64`; with it, `link.nic=400Gb/s,800Gb/s`: the NIC
    between servers) apart from the rest."""
    axes, rest = {}, []
    for item in items:
        key = item.partition("=")[0].strip()
        if key in (RANKS_AXIS, NIC_AXIS):
            axes[key] = [v.strip() for v in item.partition("=")[2].split(",") if v.strip()]
        else:
            rest.append(item)
    if NIC_AXIS in axes and RANKS_AXIS not in axes:
        rest.append(f"{NIC_AXIS}={','.join(axes.pop(NIC_AXIS))}")  # a topology's link axis, as without growth
    if RANKS_AXIS in axes:
        try:
            axes[RANKS_AXIS] = [str(int(v)) for v in axes[RANKS_AXIS]]
        except ValueError:
            raise ScenarioError(f"ranks={','.join(axes[RANKS_AXIS])}: ranks are whole numbers (ranks=8,64,512)") from None
    return axes, rest


def sweep_grown(con, measured: MeasuredJob, axes: dict[str, list[str]], grid: dict[str, list[str]], base,
                topology=None, progress=None):
    """A sweep whose points grow the job (split_axes' axes) and vary the other knobs of `grid`: per
    growth (ranks, and NIC rate with a topology), the grown graph swept over the grid in one batch."""
    import polars as pl
    from retime.replay import sweep
    nics = axes.get(NIC_AXIS, [None])
    if nics != [None] and topology is None:
        raise ScenarioError(f"{NIC_AXIS}: the NIC between servers is a topology's link: give a topology ({arg('topology')})")
    tables = []
    for ranks in axes[RANKS_AXIS]:
        for nic in nics:
            server = topology.with_links({"nic": nic}) if nic is not None else topology
            case = prepare(con, measured, base, int(ranks), server)
            part = sweep.sweep(case.grown.graph, grid, case.scenario, progress=progress)
            bar = error_bar(case.growth, measured.world)
            columns = {RANKS_AXIS: ranks, **({NIC_AXIS: nic} if nic is not None else {})}
            tables.append(part.scenarios.with_columns(expected_error_pct=pl.lit(bar.pct, pl.Float64),
                                                      **{k: pl.lit(v) for k, v in columns.items()})
                          .select(list(columns) + part.scenarios.columns))
    table = pl.concat(tables)
    knobs = [k for k in (RANKS_AXIS, NIC_AXIS) if k in axes] + list(grid)
    return sweep.SweepResult(measured.graph.trace_ids[0], part.measured_ns, part.measured_step_ns, table,
                             sweep.sensitivity(table, knobs, part.measured_ns))
