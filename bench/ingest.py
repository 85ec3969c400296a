"""Ingest throughput and peak memory: retime vs Holistic Trace Analysis vs a raw orjson parse and a
msgspec typed decode (the decode limit of Python: events as structs, args left raw).

Builds a Kineto JSON of the requested size by replicating a real trace's events with shifted
times (each copy starts where the previous one ended), then parses it with each tool in its own
process, so that each peak RSS is that tool's alone. Prints one table.

    python bench/ingest.py                       # 1 GB from a real A100 trace (or the shipped sample)
    python bench/ingest.py --size-gb 0.25 --peers orjson
    python bench/ingest.py --size-gb 8 --peers "" --gzip   # larger than memory allows peers: retime alone, plain and .gz
HTA and msgspec are optional (pip install -e '.[bench]'); each is skipped with a note when absent.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SOURCES = [ROOT.parent / "shared" / "traces" / "hta" / "trace_diff_control.json.gz",
           ROOT / "sample_traces" / "cpu_mlp_train_step.pt.trace.json.gz"]


def build_trace(source: Path, target: Path, size_bytes: int) -> int:
    """Write `target`: the source's metadata around copies of its events until size_bytes."""
    doc = orjson.loads(gzip.decompress(source.read_bytes()) if source.suffix == ".gz" else source.read_bytes())
    events = [e for e in doc.pop("traceEvents") if e.get("ph") != "M"]
    stamps = [e["ts"] for e in events if isinstance(e.get("ts"), (int, float))]
    span = max(stamps) - min(stamps) + 1000
    # ids that link events (correlation, External id, flow ids) must stay unique across copies
    id_step = 1 + max([int(e["id"]) for e in events if isinstance(e.get("id"), int)] +
                      [int(v) for e in events for k, v in (e.get("args") or {}).items()
                       if k in ("correlation", "External id") and isinstance(v, int)] + [0])
    count = 0
    with open(target, "wb") as out:
        out.write(b'{\n  "schemaVersion": 1,\n  "traceEvents": [\n')
        copy = 0
        first = True
        while out.tell() < size_bytes:
            shift = copy * span
            for e in events:
                shifted = _shifted(e, shift, copy * id_step)
                if not first:
                    out.write(b",\n")
                first = False
                out.write(orjson.dumps(shifted, option=orjson.OPT_INDENT_2))
                count += 1
            copy += 1
        # the rest of the document (deviceProperties, baseTimeNanoseconds, ...) follows, as Kineto writes it
        out.write(b"\n  ],\n" + orjson.dumps(doc, option=orjson.OPT_INDENT_2)[1:].lstrip())
    return count


NSYS_SOURCE = ROOT.parent / "shared" / "traces" / "nsys" / "h100_2gpu_1s.sqlite"
NSYS_TABLES = ("CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_MEMCPY", "CUPTI_ACTIVITY_KIND_MEMSET",
               "CUPTI_ACTIVITY_KIND_RUNTIME", "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION", "NVTX_EVENTS")


def build_nsys(source: Path, target: Path, size_bytes: int) -> int:
    """A copy of a real export whose activity rows repeat, shifted in time and correlation id,
    until the file reaches size_bytes. Returns the activity rows it holds."""
    import sqlite3
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    db = sqlite3.connect(target)
    tables = [t for t in NSYS_TABLES if db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (t,)).fetchone()]
    span = db.execute(" UNION ALL ".join(f'SELECT max("end") - min(start) FROM {t}' for t in tables)).fetchall()
    span = max(v[0] or 0 for v in span) + 1_000_000
    corr = max(db.execute(f"SELECT max(correlationId) FROM {t}").fetchone()[0] or 0
               for t in tables if t != "NVTX_EVENTS") + 1
    originals = {t: db.execute(f"SELECT max(rowid) FROM {t}").fetchone()[0] for t in tables}
    copy = 0
    while target.stat().st_size < size_bytes:
        copy += 1
        for t in tables:
            cols = [r[1] for r in db.execute(f"PRAGMA table_info({t})")]
            shifted = [f'"{c}" + {copy * span}' if c in ("start", "end") else
                       f'"{c}" + {copy * corr}' if c == "correlationId" else f'"{c}"' for c in cols]
            db.execute(f"INSERT INTO {t} SELECT {', '.join(shifted)} FROM {t} WHERE rowid <= {originals[t]}")
        db.commit()
    rows = sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
    db.close()
    return rows


def _shifted(event: dict, shift: float, id_shift: int) -> dict:
    out = dict(event)
    if isinstance(out.get("ts"), (int, float)):
        out["ts"] = out["ts"] + shift
    if isinstance(out.get("id"), int):
        out["id"] = out["id"] + id_shift
    args = out.get("args")
    if isinstance(args, dict) and ("correlation" in args or "External id" in args):
        out["args"] = {k: (v + id_shift if k in ("correlation", "External id") and isinstance(v, int) else v)
                       for k, v in args.items()}
    return out


def worker(tool: str, path: str, threads: int) -> dict:
    """Runs in a child process; reports its own time and peak RSS."""
    started = time.perf_counter()
    if tool in ("retime", "retime-duckdb-reader"):
        import retime
        from retime.ingest import chrome
        chrome.COLUMNAR = tool == "retime"  # the other: every events array through DuckDB's JSON reader
        chrome.COLUMNAR_FROM_BYTES = 0      # the reader named, at every size
        with tempfile.TemporaryDirectory() as tmp, retime.open(Path(tmp) / "bench.duckdb", threads=threads) as store:
            [result] = store.ingest(path)
            if result.status != "ingested":
                raise SystemExit(result.error)
            events = result.events  # all traces of the file (an nsys report may hold several ranks)
    elif tool == "orjson":
        with open(path, "rb") as fh:
            events = len(orjson.loads(fh.read())["traceEvents"])
    elif tool == "msgspec":  # the decode limit: events as typed structs, args left as raw JSON bytes
        events = len(decode_msgspec(Path(path).read_bytes()))
    elif tool == "hta":
        import logging
        logging.disable(logging.WARNING)
        from hta.common.trace_parser import parse_trace_dataframe
        from hta.configs.parser_config import ParserConfig
        _, df, _ = parse_trace_dataframe(path, ParserConfig())
        events = len(df)
    else:
        raise SystemExit(f"unknown tool {tool}")
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"tool": tool, "seconds": seconds, "events": events, "rss_mb": rss_mb}


def decode_msgspec(data: bytes) -> list:
    """The trace's events decoded by msgspec into structs of the fields an ingest reads (name, cat,
    ph, ts, dur, pid, tid, id), args kept as raw JSON: what decoding alone costs in Python."""
    import msgspec
    optional = lambda kind: kind | None  # noqa: E731
    event = msgspec.defstruct("Event", [("ph", str, ""), ("name", optional(str), None), ("cat", optional(str), None),
                                        ("ts", optional(float | str), None), ("dur", optional(float | str), None),
                                        ("pid", optional(int | str), None), ("tid", optional(int | str), None),
                                        ("id", optional(int | str), None), ("args", msgspec.Raw, msgspec.Raw(b"null"))])
    trace = msgspec.defstruct("Trace", [("traceEvents", list[event])])
    return msgspec.json.decode(data, type=trace).traceEvents


def run_tool(tool: str, path: Path, threads: int) -> dict | None:
    proc = subprocess.run([sys.executable, __file__, "--worker", tool, "--file", str(path), "--threads", str(threads)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  {tool}: failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def available(module: str) -> bool:
    """Whether an optional peer is installed."""
    import importlib.util
    return importlib.util.find_spec(module) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--peers", default="orjson,msgspec,hta", help="comma list from: orjson, msgspec, hta")
    parser.add_argument("--threads", type=int, default=1, help="DuckDB threads for the single-core row (default 1)")
    parser.add_argument("--nsys", action="store_true", help="benchmark Nsight Systems SQLite ingest instead")
    parser.add_argument("--gzip", action="store_true", help="also ingest a gzipped copy of the built trace")
    parser.add_argument("--duckdb-reader", action="store_true",
                        help="also ingest with every events array read by DuckDB's JSON reader (chrome_read.sql)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.file, args.threads)))
        return

    if args.nsys:
        bench_nsys(args.size_gb, args.threads)
        return
    source = next(p for p in SOURCES if p.exists())
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"kineto_{args.size_gb:g}gb_v2.json"
    if not target.exists():
        print(f"building {target.name} from {source.name} ...", file=sys.stderr)
        build_trace(source, target, int(args.size_gb * 1e9))
    size_mb = target.stat().st_size / 1e6

    runs = [("retime", args.threads, f"retime ({args.threads} thread{'s' if args.threads > 1 else ''})", target),
            ("retime", os.cpu_count() or 1, f"retime ({os.cpu_count()} threads)", target)]
    if args.gzip:
        packed = target.with_name(target.name + ".gz")
        if not packed.exists():
            print(f"gzipping {target.name} (level 1) ...", file=sys.stderr)
            with open(target, "rb") as src, gzip.open(packed, "wb", compresslevel=1) as dst:
                while chunk := src.read(64 << 20):
                    dst.write(chunk)
        runs += [("retime", args.threads, f"retime ({args.threads} thread{'s' if args.threads > 1 else ''}), .gz", packed),
                 ("retime", os.cpu_count() or 1, f"retime ({os.cpu_count()} threads), .gz", packed)]
    if args.duckdb_reader:
        runs += [("retime-duckdb-reader", args.threads, f"retime, DuckDB reader ({args.threads} thr.)", target),
                 ("retime-duckdb-reader", os.cpu_count() or 1, f"retime, DuckDB reader ({os.cpu_count()} thr.)", target)]
    peers = [p for p in args.peers.split(",") if p]
    if "orjson" in peers:
        runs.append(("orjson", 1, "orjson.loads (parse only)", target))
    if "msgspec" in peers:
        if available("msgspec"):
            runs.append(("msgspec", 1, "msgspec typed decode", target))
        else:
            print("  msgspec: not installed (pip install -e '.[bench]'); skipped", file=sys.stderr)
    if "hta" in peers:
        if available("hta"):
            runs.append(("hta", 1, "HTA parse_trace_dataframe", target))
        else:
            print("  hta: not installed (pip install -e '.[bench]'); skipped", file=sys.stderr)

    rows = []
    for tool, threads, label, path in runs:
        print(f"  running {label} ...", file=sys.stderr)
        result = run_tool(tool, path, threads)
        if result:
            rows.append((label, result))
    hta_row = next((r for label, r in rows if r["tool"] == "hta"), None)

    print(f"\ningest of {target.name}: {size_mb:,.0f} MB of Kineto JSON, replicated from real trace {source.name}\n")
    header = (f"| {'tool':<30} | {'seconds':>8} | {'MB/s':>7} | {'events/s':>11} | {'peak RSS MB':>11} "
              f"| {'speed vs HTA':>12} | {'RSS vs HTA':>10} |")
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for label, r in rows:
        speed = f"{hta_row['seconds'] / r['seconds']:.1f}x" if hta_row else "n/a"
        rss = f"{r['rss_mb'] / hta_row['rss_mb']:.2f}" if hta_row else "n/a"
        # MB/s of the JSON itself, also for the .gz rows (which read fewer bytes from disk)
        print(f"| {label:<30} | {r['seconds']:8.2f} | {size_mb / r['seconds']:7.1f} | {r['events'] / r['seconds']:11,.0f} "
              f"| {r['rss_mb']:11,.0f} | {speed:>12} | {rss:>10} |")


def bench_nsys(size_gb: float, threads: int) -> None:
    """Nsight Systems ingest: no peer reads these exports into a queryable form here, so retime alone."""
    if not NSYS_SOURCE.exists():
        raise SystemExit(f"needs the real export {NSYS_SOURCE}")
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"nsys_{size_gb:g}gb.sqlite"
    if not target.exists():
        print(f"building {target.name} from {NSYS_SOURCE.name} ...", file=sys.stderr)
        build_nsys(NSYS_SOURCE, target, int(size_gb * 1e9))
    size_mb = target.stat().st_size / 1e6
    print(f"\ningest of {target.name}: {size_mb:,.0f} MB Nsight Systems export, rows replicated from {NSYS_SOURCE.name}\n")
    print(f"| {'tool':<22} | {'seconds':>8} | {'MB/s':>7} | {'events/s':>11} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 24}|{'-' * 10}|{'-' * 9}|{'-' * 13}|{'-' * 13}|")
    for n in (threads, os.cpu_count() or 1):
        r = run_tool("retime", target, n)
        if r:
            label = f"retime ({n} thread{'s' if n > 1 else ''})"
            print(f"| {label:<22} | {r['seconds']:8.2f} | {size_mb / r['seconds']:7.1f} | {r['events'] / r['seconds']:11,.0f} "
                  f"| {r['rss_mb']:11,.0f} |")


if __name__ == "__main__":
    main()
