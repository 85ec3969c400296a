"""How long the `retime` command takes before and around its work: median wall time of each command
over repeated runs in fresh processes, on a store of the shipped sample traces.

    python bench/startup.py
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
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


if __name__ == "__main__":
    main()
