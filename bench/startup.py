"""How long the `retime` command takes before and around its work: median wall time of each command
over repeated runs in fresh processes, on a store of the shipped sample traces; then a newcomer's
first commands (the README's: ingest a sample trace, replay it) on a fresh install, each run with an
empty numba cache (NUMBA_CACHE_DIR a new folder: every compiled kernel compiled again) beside the
same command with the cache warm.

    python bench/startup.py
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import fresh_store_path  # bench/common.py

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7


def main() -> None:
    retime = shutil.which("retime") or str(Path(sys.executable).with_name("retime"))
    db = str(fresh_store_path("startup"))
    subprocess.run([retime, "ingest", str(ROOT / "sample_traces"), "--db", db], check=True, capture_output=True)
    commands = [["--help"], ["--version"], ["query", "list"], ["traces", "--db", db],
                ["query", "temporal_breakdown", "1", "--db", db],
                ["query", "temporal_breakdown", "3", "--all-ranks", "--db", db]]  # 3: rank 0 of ddp_gloo_2rank
    print(f"| {'command':<52} | {'median s':>8} | {'min s':>6} |")
    print(f"|{'-' * 54}|{'-' * 10}|{'-' * 8}|")
    for args in commands:
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            subprocess.run([retime, *args], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        label = "retime " + " ".join("S" if a == db else a for a in args)
        print(f"| {label:<52} | {statistics.median(times):>8.3f} | {min(times):>6.3f} |")
    first_commands(retime)


def first_commands(retime: str, runs: int = 3) -> None:
    """The first ingest and replay of a trace into a new store: cold (an empty numba cache) and warm."""
    sample = ROOT / "sample_traces" / "gpu_h100" / "h2d_pageable.pt.trace.json.gz"
    steps = [("ingest", ["ingest", str(sample)]), ("replay", ["replay", "1", "--set", "pcie.h2d=53GB/s"])]
    rows = {name: {"cold": [], "warm": []} for name, _ in steps}
    warm_cache = tempfile.mkdtemp(prefix="numba-warm-")
    for state in ("prime",) + ("cold", "warm") * runs:  # prime: fills the warm cache, not counted
        cache = tempfile.mkdtemp(prefix="numba-cold-") if state == "cold" else warm_cache
        db = fresh_store_path("first")
        for name, args in steps:
            start = time.perf_counter()
            subprocess.run([retime, *args, "--db", str(db)], check=True, capture_output=True,
                           env={**os.environ, "NUMBA_CACHE_DIR": cache})
            if state != "prime":
                rows[name][state].append(time.perf_counter() - start)
        if state == "cold":
            shutil.rmtree(cache, ignore_errors=True)
    print(f"\nA first command on a fresh install ({sample.name}, a new store each time; median of {runs})\n")
    print(f"| {'command':<20} | {'cold: empty numba cache':>24} | {'warm':>8} | {'cold - warm':>11} |")
    print(f"|{'-' * 22}|{'-' * 26}|{'-' * 10}|{'-' * 13}|")
    for name, _ in steps:
        cold, warm = statistics.median(rows[name]["cold"]), statistics.median(rows[name]["warm"])
        print(f"| {'retime ' + name:<20} | {cold:>22.2f} s | {warm:>6.2f} s | {cold - warm:>9.2f} s |")
    shutil.rmtree(warm_cache, ignore_errors=True)


if __name__ == "__main__":
    main()
