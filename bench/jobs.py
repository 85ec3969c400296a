"""Whole jobs in parallel: `retime ingest JOB_DIR --jobs N`, 1 worker against 2.

Builds two jobs from real rank traces, each rank file rewritten with its own rank and world size
(so that every file is distinct): 64 ranks from the 8 ranks of the real DLRM job
(../shared/traces/param/dlrm_8rank, ~3,400 events each), and 16 ranks of a real A100 trace
(hta/trace_diff_control, ~109,000 events each). Times each ingest into a fresh store, in its own
process.

    python bench/jobs.py
"""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

from common import OUT, fresh_store_path  # bench/common.py

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "traces"


def build_job(folder: Path, sources: list[Path], ranks: int) -> int:
    """Write `ranks` rank files into folder from sources (round robin); returns the events written."""
    folder.mkdir(parents=True, exist_ok=True)
    events = 0
    for rank in range(ranks):
        target = folder / f"rank{rank:03d}.pt.trace.json.gz"
        doc = json.loads(gzip.decompress(sources[rank % len(sources)].read_bytes()))
        doc.setdefault("distributedInfo", {}).update(rank=rank, world_size=ranks, backend="nccl")
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


def main() -> None:
    if not SHARED.is_dir():
        raise SystemExit(f"needs the real traces in {SHARED}")
    jobs = {
        "dlrm_64rank": (sorted((SHARED / "param" / "dlrm_8rank").glob("*.json.gz")), 64),
        "a100_16rank": ([SHARED / "hta" / "trace_diff_control.json.gz"], 16),
    }
    print(f"| {'job':<12} | {'files':>5} | {'events':>10} | {'1 worker s':>10} | {'2 workers s':>11} | {'speed-up':>8} |")
    print(f"|{'-' * 14}|{'-' * 7}|{'-' * 12}|{'-' * 12}|{'-' * 13}|{'-' * 10}|")
    for name, (sources, ranks) in jobs.items():
        folder = OUT / "jobs" / name
        events = build_job(folder, sources, ranks)
        one, two = timed_ingest(folder, 1), timed_ingest(folder, 2)
        print(f"| {name:<12} | {ranks:>5} | {events:>10,} | {one:>10.1f} | {two:>11.1f} | {one / two:>7.2f}x |")


if __name__ == "__main__":
    main()
