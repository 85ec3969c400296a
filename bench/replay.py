"""Replay speed: graph building, the numba kernel's throughput, end-to-end replay time, and a
1,000-scenario sweep.

Builds traces of ~1 M and ~10 M events by repeating a real A100 Kineto trace inside the store
(bench/replicate_trace.sql), then times, on one DuckDB thread: building the replay graph from
arrays (what a replay does; also on 2 DuckDB threads, as a store opened on this machine's 2 cores
has them) and by its SQL definition (build_graph_sql), each in a process of its own that reports
its peak memory, after a warm-up build of the source trace (numba's cache
loaded, the macros defined); one kernel pass (best of 3, after a warm-up compile); and a whole
`Store.replay` call; then a sweep of 10 x 10 x 10 scenarios of the ~1 M-event trace (graph built
once, kernel batches on every core).

    python bench/replay.py
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import fresh_store_path, peak_kb, replicate  # bench/common.py
from retime.replay import engine, passes, scenario
from retime.replay.graph import build_graph, build_graph_sql

import retime

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "traces" / "hta" / "trace_diff_control.json.gz"
SIZES = (1_000_000, 10_000_000)


def main() -> None:
    if not SOURCE.exists():
        raise SystemExit(f"needs the real trace {SOURCE}")
    db = fresh_store_path("replay")
    with retime.open(db) as store:
        [source] = store.ingest(SOURCE)
        for n, size in enumerate(SIZES):
            replicate(store, source.trace_id, 100 + n, math.ceil(size / source.events), f"replay_bench_{n}")

    print(f"| {'events':>11} | {'points':>11} | {'edges':>11} | {'build s':>7} | {'+MB':>8} | {'2 thr s':>7} "
          f"| {'SQL build s':>11} | {'SQL +MB':>8} | {'ratio':>5} | {'kernel s':>8} | {'points/s':>12} "
          f"| {'replay call s':>13} | {'cached call s':>13} |")
    print(f"|{'-' * 13}|{'-' * 13}|{'-' * 13}|{'-' * 9}|{'-' * 10}|{'-' * 9}|{'-' * 13}|{'-' * 10}|{'-' * 7}|{'-' * 10}"
          f"|{'-' * 14}|{'-' * 15}|{'-' * 15}|")
    with retime.open(db, read_only=True, threads=1) as store:
        for n in range(len(SIZES)):
            trace_id = 100 + n
            events = store.sql("SELECT event_count FROM traces WHERE trace_id = $t", params={"t": trace_id})["event_count"][0]
            build_s, build_mb = _build_in_process(db, trace_id, "arrays", source.trace_id)
            threads_s, _ = _build_in_process(db, trace_id, "arrays", source.trace_id, threads=2)
            sql_s, sql_mb = _build_in_process(db, trace_id, "sql", source.trace_id)
            graph = build_graph(store.con, trace_id)
            lag = engine.edge_lags(graph, scenario.parse(["pcie.h2d=2x"]))
            passes.retime(graph.measured[:10], np.zeros(11, np.int64), graph.src[:0], lag[:0])  # compile / load cache
            best = min(_timed(lambda: passes.retime(graph.measured, graph.indptr, graph.src, lag)) for _ in range(3))
            t = time.perf_counter()
            store.replay(trace_id, ["pcie.h2d=2x"])  # builds the graph and writes it to the cache
            call_s = time.perf_counter() - t
            t = time.perf_counter()
            store.replay(trace_id, ["pcie.h2d=4x"])  # reads the graph back
            cached_s = time.perf_counter() - t
            points = len(graph.measured)
            print(f"| {events:>11,} | {points:>11,} | {len(graph.src):>11,} | {build_s:>7.2f} | {build_mb:>8,.0f} "
                  f"| {threads_s:>7.2f} | {sql_s:>11.2f} | {sql_mb:>8,.0f} | {sql_s / build_s:>4.1f}x | {best:>8.3f} | {points / best:>12,.0f} "
                  f"| {call_s:>13.2f} | {cached_s:>13.2f} |")
        sweep_bench(store, 100)


def sweep_bench(store, trace_id: int) -> None:
    grid = [f"pcie.h2d={','.join(f'{v}x' for v in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8))}",
            f"gpu.flops={','.join(f'{v}x' for v in (1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5))}",
            f"cpu.speed={','.join(f'{v}x' for v in (1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.75, 2, 2.5, 3))}"]
    store.sweep(trace_id, ["cpu.speed=1x,2x"])  # compile / load the kernel cache
    shutil.rmtree(f"{store.path}.replay-cache", ignore_errors=True)  # so the first sweep builds the graph
    t = time.perf_counter()
    result = store.sweep(trace_id, grid)
    total_s = time.perf_counter() - t
    t = time.perf_counter()
    store.sweep(trace_id, grid)
    cached_s = time.perf_counter() - t
    events = store.sql("SELECT event_count FROM traces WHERE trace_id = $t", params={"t": trace_id})["event_count"][0]
    print(f"\nsweep: {result.scenarios.height:,} scenarios of a {events:,}-event trace in {total_s:.1f} s with its graph "
          f"built, {cached_s:.1f} s with the graph cached ({os.cpu_count()} cores); knobs by effect: "
          + ", ".join(f"{r['knob']} {r['spread_pct']}%" for r in result.sensitivity.to_dicts()))


def _build_in_process(db: Path, trace_id: int, method: str, warm_id: int, threads: int = 1) -> tuple[float, float]:
    """Seconds and peak MB of one graph build in a fresh process on `threads` DuckDB threads (see
    _build_and_report)."""
    out = subprocess.run([sys.executable, __file__, "--build", method, str(db), str(trace_id), str(warm_id), str(threads)],
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[-2]), float(out[-1])


def _build_and_report(method: str, db: str, trace_id: int, warm_id: int, threads: int) -> None:
    """Build a graph after a warm-up build of a small trace; print seconds and how far the build
    raised the process's peak memory (MB)."""
    build = build_graph if method == "arrays" else build_graph_sql
    with retime.open(db, read_only=True, threads=threads) as store:
        build(store.con, warm_id)
        before = peak_kb()
        t = time.perf_counter()
        build(store.con, trace_id)
        seconds = time.perf_counter() - t
    print(seconds, (peak_kb() - before) / 1024)


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        _build_and_report(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    else:
        main()
