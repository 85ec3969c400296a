"""A process killed mid-ingest (real SIGKILL) leaves the store openable and consistent; re-running
the same command finishes the work."""
from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time

import orjson

import retime
from tests.conftest import SAMPLE_TRACES, table_counts


def big_trace(path, copies: int = 400) -> None:
    """The shipped MLP sample repeated in time (events only shifted), large enough to take seconds."""
    doc = orjson.loads(gzip.decompress((SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz").read_bytes()))
    events = [e for e in doc["traceEvents"] if isinstance(e.get("ts"), (int, float))]
    span = max(e["ts"] for e in events) - min(e["ts"] for e in events) + 1000
    doc["traceEvents"] = [dict(e, ts=e["ts"] + k * span) for k in range(copies) for e in events]
    path.write_bytes(orjson.dumps(doc))


def test_sigkill_during_ingest_leaves_a_consistent_store(tmp_path):
    trace, db = tmp_path / "big.json", tmp_path / "k.duckdb"
    big_trace(trace, copies=1200)
    started = time.perf_counter()  # how long an uninterrupted ingest of this file takes here
    with retime.open(tmp_path / "timing.duckdb") as timing:
        [whole] = timing.ingest(trace)
        whole_counts = table_counts(timing)
    ingest_seconds = time.perf_counter() - started
    with retime.open(db) as store:
        store.ingest(SAMPLE_TRACES / "cpu_convnet_inference.pt.trace.json.gz")
        before = table_counts(store)
    proc = subprocess.Popen([sys.executable, "-m", "retime.cli", "ingest", str(trace), "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5 + ingest_seconds / 2)  # interpreter start, then half-way through the ingest
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    with retime.open(db) as store:  # opens, replays its WAL, and holds all or nothing of the killed file
        after = table_counts(store)
        assert after in (before, {k: before[k] + v for k, v in whole_counts.items()})
        per_trace = store.sql("SELECT t.trace_id, t.event_count, count(e.event_id) AS n FROM traces t "
                              "LEFT JOIN events e USING (trace_id) GROUP BY ALL").to_dicts()
        assert all(row["event_count"] == row["n"] for row in per_trace)
        [again] = store.ingest(trace)  # re-running the command finishes the work
        assert again.status in ("ingested", "already")
        assert table_counts(store)["events"] == before["events"] + whole.events

