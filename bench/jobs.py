"""Whole jobs: `retime ingest JOB_DIR --jobs N`, 1 worker against 2; and one large job end to end.

Builds two jobs from real rank traces, each rank file rewritten with its own rank and world size
(so that every file is distinct): 64 ranks from the 8 ranks of the real DLRM job
(../shared/traces/param/dlrm_8rank, ~3,400 events each), and 16 ranks of a real A100 trace
(hta/trace_diff_control, ~109,000 events each). Times each ingest into a fresh store, in its own
process.

With --ranks N: one job of N ranks from the real DLRM ranks, each rank's clock shifted by its
node's offset (8 ranks a node, as the DLRM job's 8 GPUs; the offset drawn uniformly from
+-SKEW_US, as NTP-synchronised hosts disagree by up to a few hundred microseconds), then, each
step in its own process with its time and peak memory: ingest (2 workers), export to the Parquet
lake, straggler_ranks, collective_skew, a replay of the whole job as one graph (ranks joined at
their collectives, cpu.speed=2x: the DLRM job is host-bound, and its collectives carry no sizes
for net= to scale), and Spark SQL (local mode) over the lake.

    python bench/jobs.py
    python bench/jobs.py --ranks 1024
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import OUT, fresh_store_path, peak_kb  # bench/common.py

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "traces"
DLRM = SHARED / "param" / "dlrm_8rank"
SKEW_US = 200        # the largest clock offset between two nodes' hosts, +-
RANKS_PER_NODE = 8


def build_job(folder: Path, sources: list[Path], ranks: int, skew_us: int = 0) -> int:
    """Write `ranks` rank files into folder from sources (round robin); returns the events written.
    skew_us: each node's clock (RANKS_PER_NODE ranks) shifted by an offset drawn from +-skew_us, as
    the trace's clock base (baseTimeNanoseconds, added to every timestamp at ingest)."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {f"rank{rank:04d}.pt.trace.json.gz" for rank in range(ranks)}
    for stale in folder.iterdir():  # files of an earlier layout would be ingested with the job
        if stale.name not in wanted:
            stale.unlink()
    offsets = random.Random(7)
    node_offset_ns = [round(offsets.uniform(-skew_us, skew_us) * 1000) for _ in range(ranks // RANKS_PER_NODE + 1)]
    events = 0
    for rank in range(ranks):
        target = folder / f"rank{rank:04d}.pt.trace.json.gz"
        doc = json.loads(gzip.decompress(sources[rank % len(sources)].read_bytes()))
        doc.setdefault("distributedInfo", {}).update(rank=rank, world_size=ranks, backend="nccl")
        if skew_us:
            doc["baseTimeNanoseconds"] = doc.get("baseTimeNanoseconds", 0) + node_offset_ns[rank // RANKS_PER_NODE]
        events += len(doc["traceEvents"])
        if not target.exists():
            target.write_bytes(gzip.compress(json.dumps(doc).encode(), compresslevel=1))
    return events


def timed_ingest(folder: Path, jobs: int) -> float:
    db = fresh_store_path(f"jobs_{folder.name}_{jobs}")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "retime.cli", "ingest", str(folder), "--db", str(db), "--jobs", str(jobs),
                    "--format", "csv"], check=True, capture_output=True)
    return time.perf_counter() - started


def compare_workers() -> None:
    jobs = {
        "dlrm_64rank": (sorted(DLRM.glob("*.json.gz")), 64),
        "a100_16rank": ([SHARED / "hta" / "trace_diff_control.json.gz"], 16),
    }
    print(f"| {'job':<12} | {'files':>5} | {'events':>10} | {'1 worker s':>10} | {'2 workers s':>11} | {'speed-up':>8} |")
    print(f"|{'-' * 14}|{'-' * 7}|{'-' * 12}|{'-' * 12}|{'-' * 13}|{'-' * 10}|")
    for name, (sources, ranks) in jobs.items():
        folder = OUT / "jobs" / name
        events = build_job(folder, sources, ranks)
        one, two = timed_ingest(folder, 1), timed_ingest(folder, 2)
        print(f"| {name:<12} | {ranks:>5} | {events:>10,} | {one:>10.1f} | {two:>11.1f} | {one / two:>7.2f}x |")


STEPS = ("ingest", "export-lake", "straggler_ranks", "collective_skew", "job replay", "topology replay",
         "spark sql")


def step(name: str, db: Path, lake: Path, folder: Path) -> str:
    """One step of the large-job run, in this (child) process; returns what it found, in words."""
    import retime
    if name == "ingest":
        subprocess.run([sys.executable, "-m", "retime.cli", "ingest", str(folder), "--db", str(db), "--jobs", "2",
                        "--format", "csv"], check=True, capture_output=True)
        with retime.open(db, read_only=True) as store:
            row = store.sql("SELECT count(*) AS traces, sum(event_count) AS events, count(DISTINCT job) AS jobs FROM traces").row(0)
        return f"{row[0]:,} traces, {row[1]:,} events, {row[2]} job"
    if name == "export-lake":
        with retime.open(db, read_only=True) as store:
            rows = store.export_lake(lake)
        return f"{sum(rows.values()):,} rows"
    if name in ("straggler_ranks", "collective_skew"):
        with retime.open(db, read_only=True) as store:
            job = store.sql("SELECT any_value(job) AS job FROM traces")["job"][0]
            df = store.query(name, job=job)
        return f"{df.height:,} rows"
    if name == "job replay":
        with retime.open(db) as store:
            first = store.sql("SELECT min(trace_id) AS t FROM traces")["t"][0]
            ranks = store.replay(first, {"cpu.speed": "2x"}, all_ranks=True)
        measured = max(r.measured_ns for _, r in ranks)
        predicted = max(r.predicted_ns for _, r in ranks)
        return f"{len(ranks):,} ranks joined, slowest rank {measured / 1e6:.2f} -> {predicted / 1e6:.2f} ms at cpu.speed=2x"
    if name == "topology replay":  # the rank graphs cached by the job replay; 4 ranks a DGX H100
        from retime.replay import topology
        with retime.open(db, read_only=True) as store:
            first = store.sql("SELECT min(trace_id) AS t FROM traces")["t"][0]
            ranks = store.replay(first, {}, topology=topology.load("dgx-h100").with_ranks_per_server(4), all_ranks=True)
        kinds = ranks[0][1].link_report.transfers.group_by("kind").len().sort("kind").rows()
        predicted = max(r.predicted_ns for _, r in ranks)
        return (f"slowest rank {predicted / 1e6:.2f} ms on dgx-h100, 4 ranks a server; transfers "
                + ", ".join(f"{n:,} {kind}" for kind, n in kinds))
    if name == "spark sql":
        from pyspark.sql import SparkSession
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        spark = (SparkSession.builder.master("local[2]").appName("retime-jobs").config("spark.ui.enabled", "false")
                 .config("spark.sql.shuffle.partitions", "4").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        for table in ("traces", "lanes", "events", "deps", "counters"):
            spark.read.parquet(str(lake / table)).createOrReplaceTempView(table)
        per_rank = spark.sql("SELECT trace_id, count(*) AS gpu_ops, sum(dur_ns) AS gpu_ns FROM events "
                             "WHERE kind IN ('kernel', 'collective', 'memcpy', 'memset') GROUP BY trace_id").collect()
        sql = (ROOT / "docs" / "spark" / "memcpy_bandwidth.sql").read_text()
        copies = spark.sql(sql.format(trace_id=per_rank[0]["trace_id"], link_peak_gbps=16, hbm_peak_gbps=900)).collect()
        gateway = spark.sparkContext._gateway
        spark.stop()
        gateway.shutdown()
        gateway.proc.stdin.close()  # the JVM exits when its stdin closes; waited for, so its peak RSS is counted
        gateway.proc.wait(timeout=120)
        return f"GPU time of {len(per_rank):,} ranks, memcpy_bandwidth of one ({len(copies)} rows)"
    raise ValueError(name)


def measured(name: str, db: Path, lake: Path, folder: Path) -> dict:
    """Run one step in a child process: its wall time, peak RSS (the largest of it and the processes it
    started: ingest workers, Spark's JVM) and result."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--worker", name, "--db", str(db), "--lake", str(lake),
                             "--folder", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"step {name} failed:\n{err[-2000:]}")
    return {"step": name, "seconds": seconds, **json.loads(out.strip().splitlines()[-1])}


def large_job(ranks: int) -> None:
    if not DLRM.is_dir():
        raise SystemExit(f"needs the real DLRM ranks in {DLRM}")
    folder = OUT / "jobs" / f"dlrm_{ranks}rank"
    started = time.perf_counter()
    events = build_job(folder, sorted(DLRM.glob("*.json.gz")), ranks, skew_us=SKEW_US)
    print(f"job of {ranks:,} ranks ({events:,} events in the files) from {DLRM.name}, node clocks within "
          f"+-{SKEW_US} us, built in {time.perf_counter() - started:.1f} s\n")
    db = fresh_store_path(f"jobs_{ranks}rank")
    lake = OUT / f"jobs_{ranks}rank_lake"
    shutil.rmtree(lake, ignore_errors=True)
    print(f"| {'step':<16} | {'seconds':>8} | {'peak RSS MB':>11} | result")
    print(f"|{'-' * 18}|{'-' * 10}|{'-' * 13}|{'-' * 50}")
    for name in STEPS:
        r = measured(name, db, lake, folder)
        print(f"| {name:<16} | {r['seconds']:8.1f} | {r['rss_mb']:11,.0f} | {r['result']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, help="one job of this many ranks, end to end")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--lake", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        import resource
        result = step(args.worker, Path(args.db), Path(args.lake), Path(args.folder))
        rss = max(peak_kb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        print(json.dumps({"rss_mb": rss / 1024, "result": result}))
        return
    if not SHARED.is_dir():
        raise SystemExit(f"needs the real traces in {SHARED}")
    if args.ranks:
        large_job(args.ranks)
    else:
        compare_workers()


if __name__ == "__main__":
    main()
