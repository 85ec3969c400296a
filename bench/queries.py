"""Time every named query at scale, and compare answers with Holistic Trace Analysis.

Builds a store holding (a) one trace of >= 10 M events, made by repeating a real A100 Kineto trace
inside DuckDB, and (b) an 8-rank job of >= 10 M events from the real DLRM ranks, then runs each query
once on them and prints its time. Where HTA is installed (pip install -e '.[bench]'), also prints
the temporal breakdown of the real 8-rank job next to HTA's, with its run time.

    python bench/queries.py [--events 10000000]
"""
from __future__ import annotations

import argparse
import logging
import math
import time
from pathlib import Path

from common import OUT, fresh_store_path, replicate  # bench/common.py
from retime.queries import runner

import retime

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "traces"
SINGLE = SHARED / "hta" / "trace_diff_control.json.gz"
JOB = SHARED / "param" / "dlrm_8rank"


def build(db: Path, events: int) -> tuple[int, str, int, int]:
    with retime.open(db) as store:
        [single] = store.ingest(SINGLE)
        ranks = store.ingest(JOB)
        copies = math.ceil(events / single.events)
        replicate(store, single.trace_id, 1000, copies, "big_single")
        job_events = sum(r.events for r in ranks)
        job_copies = math.ceil(events / job_events)
        for n, r in enumerate(ranks):
            replicate(store, r.trace_id, 2000 + n, job_copies, "big_job")
        big = store.sql("SELECT count(*) FILTER (WHERE trace_id = 1000) AS single, "
                        "count(*) FILTER (WHERE trace_id >= 2000) AS job FROM events").to_dicts()[0]
        return 1000, "big_job", big["single"], big["job"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    args = parser.parse_args()
    if not SINGLE.exists():
        raise SystemExit(f"needs the real traces in {SHARED}")
    db = fresh_store_path("queries")
    started = time.perf_counter()
    trace_id, job, single_events, job_events = build(db, args.events)
    print(f"store built in {time.perf_counter() - started:.1f} s: trace {trace_id} with {single_events:,} events "
          f"(from {SINGLE.name}), job {job} with {job_events:,} events over 8 ranks (from {JOB.name})\n")

    print(f"| {'query':<26} | {'on':<28} | {'rows':>6} | {'seconds':>8} |")
    print(f"|{'-' * 28}|{'-' * 30}|{'-' * 8}|{'-' * 10}|")
    total = 0.0
    with retime.open(db, read_only=True) as store:
        for name, query in runner.catalogue().items():
            # job-wide queries get the job; trace_diff compares the big trace with itself (same work, for timing)
            params = {"job": job} if any(p.name == "job" for p in query.params) else {"trace_id": trace_id}
            if any(p.name == "other_id" for p in query.params):
                params["other_id"] = trace_id
            on = f"job ({job_events:,} events)" if "job" in params else f"trace ({single_events:,} events)"
            t = time.perf_counter()
            df = store.query(name, **params)
            seconds = time.perf_counter() - t
            total += seconds
            print(f"| {name:<26} | {on:<28} | {df.height:>6} | {seconds:8.2f} |")
    print(f"| {'all queries':<26} | {'':<28} | {'':>6} | {total:8.2f} |")
    compare_with_hta()


def compare_with_hta() -> None:
    try:
        from hta.trace_analysis import TraceAnalysis
    except ImportError:
        print("\nHTA not installed (pip install -e '.[bench]'): no comparison")
        return
    logging.disable(logging.WARNING)
    t = time.perf_counter()
    hta = TraceAnalysis(trace_dir=str(JOB)).get_temporal_breakdown(visualize=False)
    hta_seconds = time.perf_counter() - t
    db = OUT / "hta_compare.duckdb"
    db.unlink(missing_ok=True)
    with retime.open(db) as store:
        t = time.perf_counter()
        results = store.ingest(JOB)
        ours = {r.rank: store.query("temporal_breakdown", r.trace_id).to_dicts()[0] for r in results}
        ours_seconds = time.perf_counter() - t
    print(f"\ntemporal breakdown of {JOB.name} (µs): retime vs HTA; HTA's non-compute = retime's communication + memory")
    print("| rank | idle retime | idle HTA | compute retime | compute HTA | non-compute retime | non-compute HTA | equal |")
    print("|------|-------------|----------|----------------|-------------|--------------------|-----------------|-------|")
    for _, row in hta.iterrows():
        o = ours[int(row["rank"])]
        mine = (o["idle_ns"] / 1000, o["compute_ns"] / 1000, (o["communication_ns"] + o["memory_ns"]) / 1000)
        theirs = (row["idle_time(us)"], row["compute_time(us)"], row["non_compute_time(us)"])
        print(f"| {int(row['rank']):>4} | {mine[0]:>11,.0f} | {theirs[0]:>8,.0f} | {mine[1]:>14,.0f} | {theirs[1]:>11,.0f} "
              f"| {mine[2]:>18,.0f} | {theirs[2]:>15,.0f} | {'yes' if mine == tuple(theirs) else 'NO':>5} |")
    print(f"\ntime for the 8-rank job: retime ingest + query {ours_seconds:.2f} s, HTA load + breakdown {hta_seconds:.2f} s")


if __name__ == "__main__":
    main()
