"""One replay graph for a whole job: every rank's graph side by side, joined at their collectives.

A collective starts moving data only when the last rank of its group has arrived, and every rank
leaves it once the transfer is done. So each matched collective gets a virtual point, the
transfer's start: every rank's collective start points to it (lag 0), and it points to every rank's
collective end with that rank's measured time after the last arrival (class comm: `net` rescales
it; with an absolute `net` bandwidth and known sizes it is bus bytes / bandwidth + `net.latency`).
The waiting a rank did inside its collective for slower ranks is not carried over: it follows from
the other ranks' new times. Ranks' clocks are taken as aligned (as torch.profiler writes them on
one host, or NTP-synchronized hosts).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import numpy as np

from retime.core.errors import QueryError
from retime import foundation
from retime.store import jobs
from retime.core.progress import Progress
from retime.replay.link_report import warnings as link_warnings
from retime.replay.compare import Comparison
from retime.replay import cache, engine, fidelity, passes, reach, spans
from retime.replay import save as save_replay
from retime.replay import graph as replay_graph
from retime.replay.scenario import EDGE_CLASSES
from retime.core.sqlfiles import load_sql, set_variables
from retime.store import transaction

PACKAGE = "retime.replay"


@dataclass
class JobGraph:
    """A job's ranks as one replay graph, and which rank each point belongs to."""
    graph: replay_graph.ReplayGraph   # all ranks' points and edges, plus one virtual point per collective
    ranks: list[int]
    trace_ids: list[int]
    point_rank: np.ndarray      # int64[n]: index into ranks, -1 for the virtual points
    collectives: int            # collectives synchronized across ranks
    unmatched: int              # collectives left per rank (ranks issued different numbers)
    transfer_edge: np.ndarray = None   # int64: each rank's collective end edge from its transfer point (its lag: the
    transfer_seq: np.ndarray = None    # rank's time after the last arrival), and that collective's number
    collective_start: np.ndarray = None  # int64: each rank's collective start point, in the order of transfer_edge


def of_ranks(con: duckdb.DuckDBPyConnection, job: str | None, ranks: list[tuple[int, int | None]],
             store_path: str | None = None, progress: Progress | None = None) -> JobGraph | None:
    """The job as one replay graph, or None where it is not two or more ranked traces (its ranks are
    then replayed one by one)."""
    if job is not None and len(ranks) > 1:
        jobs.refuse_if_not_one_run(con, job, "the job replay")
    if job is None or len(ranks) < 2 or any(rank is None for _, rank in ranks):
        return None
    return build(con, job, ranks, store_path, progress)


@dataclass
class JobReplay:
    """A job's replay (Store.replay with all_ranks=True): (rank, ReplayResult) per rank, by rank, as a sequence of
    pairs; the job's span (its slowest rank's); with `against`, each rank's error against the same
    rank of a measured job; with save, the job the replay was written as."""
    ranks: list[tuple[int | None, engine.ReplayResult]]
    saved_job: str | None = None
    against: "dict[int | None, Comparison] | None" = None  # rank -> Store.against's answer for that rank

    def __iter__(self):
        return iter(self.ranks)

    def __len__(self) -> int:
        return len(self.ranks)

    def __getitem__(self, i):
        return self.ranks[i]

    @property
    def results(self) -> list[engine.ReplayResult]:
        return [r for _, r in self.ranks]

    @property
    def job(self) -> dict[str, float | int | None]:
        """The job's span, measured and predicted: its slowest rank's."""
        return slowest(self.results)

    def rows(self) -> list[dict]:
        """A row per rank (span, speedup, what bounds it, its error against the measured job where
        compared), then the job's row (its slowest rank)."""
        rows = []
        for rank, r in self.ranks:
            row = {"trace_id": r.trace_id, "rank": rank, "measured_span_ns": r.measured_ns,
                   "predicted_span_ns": r.predicted_ns, "speedup": round(r.speedup, 4), "bound_by": r.bound_by}
            if self.saved_job is not None:
                row["saved_trace_id"] = r.saved_trace_id
            if self.against is not None:
                check = self.against[rank]
                row.update(against_trace_id=check.target_trace_id, against_measured_ns=check.measured_ns,
                           against_predicted_ns=check.predicted_ns, error_pct=check.error_pct)
            rows.append(row)
        job = self.job
        return rows + [{"trace_id": None, "rank": None, "measured_span_ns": job["measured_ns"],
                        "predicted_span_ns": job["predicted_ns"], "speedup": job["speedup"], "bound_by": "slowest rank"}]

    def to_dict(self, bucket_ns: int | None = None) -> dict:
        """The answer as JSON-ready values (what `retime replay --all-ranks --format json` prints)."""
        first = self.results[0]
        *ranks, total = self.rows()
        return {"scenario": first.scenario, "ranks": ranks, "total": total,
                **({"saved_job": self.saved_job} if self.saved_job is not None else {}),
                "error_bar": first.error_bar.as_dict() if first.error_bar else None, **first.links_doc(bucket_ns)}


def slowest(results: list[engine.ReplayResult]) -> dict[str, float | int | None]:
    """The job's span, measured and predicted: its slowest rank's (each rank's span runs from the
    job's first event, on one clock), and the speedup of that."""
    measured = max(r.measured_ns for r in results)
    predicted = max(r.predicted_ns for r in results)
    return {"measured_ns": measured, "predicted_ns": predicted,
            "speedup": round(measured / predicted, 4) if predicted else None}


def build(con: duckdb.DuckDBPyConnection, job: str, ranked: list[tuple[int, int]],
          store_path: str | None = None, progress: Progress | None = None, single: bool = False) -> JobGraph:
    """ranked: (trace_id, rank) of every rank trace of the job, in rank order. Rank graphs come from the
    graph cache beside store_path where there is one; `progress` hears each rank graph's build.
    `single`: one rank's collectives get their transfer points too (a job grown from one rank)."""
    graphs = rank_graphs(con, [trace_id for trace_id, _ in ranked], store_path, progress)
    foundation.load(con, "comm")  # collective_bus_bytes, for job_collectives.sql
    set_variables(con, job=job)
    colls = con.execute(load_sql(PACKAGE, "job_collectives")).fetchnumpy()
    rank_index = {rank: i for i, (_, rank) in enumerate(ranked)}
    every_arrival = None  # with some of the job's ranks (a job grown from them): the last arrival over all ranks
    if len(rank_index) < len(np.unique(colls["rank"])):
        all_seq = colls["seq"].astype(np.int64)
        every = int(np.bincount(np.unique(colls["rank"], return_inverse=True)[1]).min())
        every_arrival = np.full(every, np.iinfo(np.int64).min, np.int64)
        inside = all_seq < every
        np.maximum.at(every_arrival, all_seq[inside], colls["ts_ns"].astype(np.int64)[inside])
        mine = np.isin(colls["rank"], list(rank_index))
        colls = {name: column[mine] for name, column in colls.items()}
    coll_rank = np.searchsorted(np.array([r for _, r in ranked]), colls["rank"]).astype(np.int64)  # ranked is by rank
    per_rank = np.bincount(coll_rank, minlength=len(ranked)) if len(coll_rank) else np.zeros(len(ranked), np.int64)
    matched = int(per_rank.min()) if len(ranked) > 1 or single else 0
    keep = colls["seq"].astype(np.int64) < matched
    coll_rank, coll_event = coll_rank[keep], colls["event_id"].astype(np.int64)[keep]
    coll_seq = colls["seq"].astype(np.int64)[keep]
    bus = colls["bus_bytes"][keep]
    bus_bytes = np.where(np.ma.getmaskarray(bus), -1, np.ma.getdata(bus)).astype(np.int64) if len(bus) else bus.astype(np.int64)

    # the ranks' points side by side, on one clock
    sizes = np.array([len(g.measured) for g in graphs], np.int64)
    first = np.concatenate([[0], np.cumsum(sizes)])
    origin = min((g.origin_ns for g in graphs if len(g.measured)), default=0)
    measured = np.concatenate([g.measured + (g.origin_ns - origin) for g in graphs])
    name_offset = np.concatenate([[0], np.cumsum([len(g.names) for g in graphs])])

    # each collective's start and end point in the merged numbering
    start_pt = np.empty(len(coll_event), np.int64)
    end_pt = np.empty(len(coll_event), np.int64)
    for i, g in enumerate(graphs):  # per rank, vectorized over its points
        mine = coll_rank == i
        if not mine.any():
            continue
        starts, ends = spans.points_of_events(g, coll_event[mine])
        start_pt[mine], end_pt[mine] = starts + first[i], ends + first[i]

    # edges of all ranks, without the synchronized collectives' own duration edges
    src = np.concatenate([g.src + first[i] for i, g in enumerate(graphs)])
    dst = np.concatenate([g.dst + first[i] for i, g in enumerate(graphs)])
    base_lag = np.concatenate([g.base_lag for g in graphs])
    edge_class = np.concatenate([g.edge_class for g in graphs])
    nbytes = np.concatenate([g.bytes for g in graphs])
    offset = np.concatenate([g.offset for g in graphs])
    comm = EDGE_CLASSES.index("comm")
    own = (edge_class == comm) & np.isin(dst, end_pt) & np.isin(src, start_pt)
    src, dst, base_lag, edge_class, nbytes, offset = (a[~own] for a in (src, dst, base_lag, edge_class, nbytes, offset))

    # one virtual point per collective: the transfer starts when the last rank arrives
    n_real = len(measured)
    transfer = n_real + coll_seq
    arrival = np.full(matched, np.iinfo(np.int64).min, np.int64)
    np.maximum.at(arrival, coll_seq, measured[start_pt])
    # a rank's time after the last arrival excludes its wait for ranks left out (they are not in the job)
    waited_for = arrival.copy()
    if every_arrival is not None:
        known = np.arange(matched) < len(every_arrival)
        waited_for[known] = np.maximum(arrival[known], every_arrival[:matched][known] - origin)
    first_transfer_edge = len(src) + len(start_pt)  # the edges below: arrivals, then transfers
    src = np.concatenate([src, start_pt, transfer])
    dst = np.concatenate([dst, transfer, end_pt])
    base_lag = np.concatenate([base_lag, np.zeros(len(start_pt), np.int64),
                               np.maximum(measured[end_pt] - waited_for[coll_seq], 0)])
    edge_class = np.concatenate([edge_class, np.full(len(start_pt), EDGE_CLASSES.index("fixed")),
                                 np.full(len(end_pt), comm)])
    nbytes = np.concatenate([nbytes, np.full(len(start_pt), -1), bus_bytes])
    offset = np.concatenate([offset, np.zeros(2 * len(start_pt), np.int64)])
    measured = np.concatenate([measured, arrival])

    # number the points so that every edge points forward (measured order where it can be kept)
    n = len(measured)
    by_time = np.lexsort((np.arange(n), measured))
    rank_of = np.empty(n, np.int64)
    rank_of[by_time] = np.arange(n)
    order_src, order_dst = rank_of[src], rank_of[dst]
    csr, indptr = replay_graph.by_destination(order_src, order_dst, n)
    topo = passes.topological_order(n, indptr, order_src[csr])
    if len(topo) != n:
        raise QueryError(f"job {job}: its ranks' collectives do not line up (the n-th collective of each rank "
                         "cannot be the same one); replay the ranks one by one")
    position = np.empty(n, np.int64)
    position[topo] = np.arange(n)
    new_of_old = position[rank_of]  # old point -> final number
    final_src, final_dst = new_of_old[src], new_of_old[dst]
    csr, indptr = replay_graph.by_destination(final_src, final_dst, n)
    edge_at = np.empty(len(csr), np.int64)
    edge_at[csr] = np.arange(len(csr))  # an edge's place in the final (by destination) order

    def arrange(values: np.ndarray, fill) -> np.ndarray:
        out = np.full(n, fill, values.dtype)
        out[new_of_old[:len(values)]] = values
        return out

    shape_offset = np.cumsum([0] + [len(g.kernel_shapes) for g in graphs])
    point_rank = arrange(np.repeat(np.arange(len(graphs)), sizes), -1)
    graph = replay_graph.ReplayGraph(
        trace_id=ranked[0][0], origin_ns=origin, measured=arrange(measured, 0),
        indptr=indptr, src=final_src[csr], base_lag=base_lag[csr], edge_class=edge_class[csr],
        bytes=nbytes[csr], offset=offset[csr],
        # event ids are per trace: a rank's ids are kept apart by its index in the high bits
        point_event=arrange(np.concatenate([g.point_event + (i << 40) for i, g in enumerate(graphs)]), -1),
        point_is_end=arrange(np.concatenate([g.point_is_end for g in graphs]), True),
        point_lane=arrange(np.concatenate([g.point_lane + 1_000_000 * i for i, g in enumerate(graphs)]), -1),
        point_is_gpu=arrange(np.concatenate([g.point_is_gpu for g in graphs]), True),
        point_name=arrange(np.concatenate([g.point_name + name_offset[i] for i, g in enumerate(graphs)]).astype(np.int32),
                           np.int32(0)),
        names=[name for g in graphs for name in g.names] or [""],
        point_gpu_class=arrange(np.concatenate([g.point_gpu_class for g in graphs]), np.int8(-1)),
        point_flop_per_byte=arrange(np.concatenate([g.point_flop_per_byte for g in graphs]), np.float32(np.nan)),
        point_roof=arrange(np.concatenate([g.point_roof for g in graphs]), np.int8(-1)),
        # each rank's shape indices moved past the shapes of the ranks before it
        point_shape=arrange(np.concatenate([np.where(g.point_shape >= 0, g.point_shape + shape_offset[i], -1).astype(np.int32)
                                           for i, g in enumerate(graphs)]), np.int32(-1)),
        kernel_shapes=np.concatenate([g.kernel_shapes for g in graphs]).reshape(-1, 3),
    )
    return JobGraph(graph=graph, ranks=[r for _, r in ranked], trace_ids=[t for t, _ in ranked],
                    point_rank=point_rank, collectives=matched, unmatched=int((per_rank - matched).sum()),
                    transfer_edge=edge_at[first_transfer_edge + np.arange(len(end_pt))], transfer_seq=coll_seq,
                    collective_start=new_of_old[start_pt])


def rank_graphs(con: duckdb.DuckDBPyConnection, trace_ids: list[int], store_path: str | None = None,
                progress: Progress | None = None) -> list[replay_graph.ReplayGraph]:
    """Each rank trace's replay graph, built (or read from the cache) once per distinct rank: a rank
    whose events, lanes and dependencies are another's shifted in time (rank_fingerprints.sql: the
    same job's ranks written from one program, a job grown from files) shares that rank's arrays,
    its graph moved by the difference of their starts."""
    if len(trace_ids) < 2:
        return [cache.graph(con, t, store_path, progress) for t in trace_ids]
    rows = con.execute(load_sql(PACKAGE, "rank_fingerprints"), {"ids": trace_ids}).fetchall()
    key = {t: (fingerprint, start) for t, start, fingerprint in rows}
    first: dict[int, tuple[int, replay_graph.ReplayGraph]] = {}
    out = []
    for t in trace_ids:
        fingerprint, start = key.get(t, (None, 0))
        if fingerprint is not None and fingerprint in first:
            start_of, g = first[fingerprint]
            out.append(replace(g, trace_id=t, origin_ns=g.origin_ns + (start - start_of)))
            continue
        g = cache.graph(con, t, store_path, progress)
        if fingerprint is not None:
            first[fingerprint] = (start, g)
        out.append(g)
    return out


def replay(job: JobGraph, scenario, window: str | None = None, links=None, timing: tuple | None = None
           ) -> list[engine.ReplayResult]:
    """One ReplayResult per rank (its own points' span and steps; the critical path that bounds it);
    `links` (retime/replay/links.py) puts the ranks on a topology's servers; `timing`: retimed_on_links'
    answer when the caller has it already (to save it too)."""
    new, binding, lag, report = timing if timing is not None else engine.retimed_on_links(job.graph, scenario, links)
    label = engine.label_with(scenario, links)
    windows = engine.step_windows(job.graph, window)  # once: the job's names are every rank's
    by_rank = np.argsort(job.point_rank, kind="stable")  # each rank's points, found once
    bounds = np.searchsorted(job.point_rank[by_rank], np.arange(len(job.trace_ids) + 1))
    results = [engine.summarize(job.graph, trace_id, label, new, binding, lag, by_rank[bounds[i]:bounds[i + 1]],
                                window=window, windows=windows)
               for i, trace_id in enumerate(job.trace_ids)]
    error_bar = fidelity.quoted(scenario, new, job.graph.measured, report, reach.idle_knob_names(job.graph, scenario),
                                reach.runs_on_host(job.graph))
    for result in results:
        result.error_bar = error_bar
        if report is not None:
            result.links, result.link_report = report.uses, report
            result.warnings += link_warnings(links, report.uses)
    return results


def save(con: duckdb.DuckDBPyConnection, job: JobGraph, scenario, ids: list[int], name: str, links=None,
         timing: tuple | None = None, extra: list[dict] | None = None, error_bar=None) -> None:
    """Write the job's replay as a job of its own, `name`: each rank's replay a trace (ids, by rank)
    with its events at their new times on the job's clock, the predicted critical path that ends at
    the rank's last point (its edges inside the rank), and, on a topology, the rank's transfers. One
    transaction. `extra`: per rank, what joins its scenario record (a grown job's growth);
    `error_bar`: the bar recorded instead of the scenario's."""
    new, binding, _, report = timing if timing is not None else engine.retimed_on_links(job.graph, scenario, links)
    with transaction(con):
        for i, (trace_id, new_id) in enumerate(zip(job.trace_ids, ids)):
            mine = job.point_rank == i
            points = np.flatnonzero(mine)
            last = int(points[np.argmax(new[points])]) if len(points) else -1
            save_replay.write_replay(con, job.graph, scenario, links, new, binding, _rank_report(report, job.ranks[i]),
                                     trace_id, new_id, last, mask=mine, event_base=i << 40, job=name,
                                     extra=extra[i] if extra else None, error_bar=error_bar)


def _rank_report(report, rank: int):
    """A job replay's link report cut to one rank's transfers (None without a topology)."""
    if report is None:
        return None
    import polars as pl
    transfers = report.transfers.filter(pl.col("rank") == rank)
    crossings = report.transfer_links.join(transfers.select("transfer"), on="transfer", how="semi")
    return replace(report, transfers=transfers, transfer_links=crossings)
