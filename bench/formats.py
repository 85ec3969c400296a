"""Ingest time of the formats beside Kineto and Nsight: the real rocprofv3 JSON, the three JAX
XPlane files and the PyTorch execution trace pair of ../shared/traces, each into a fresh store on
one DuckDB thread, best of 3, in this process after a warm-up ingest (numba's cache loaded), with
the decode alone beside it: orjson for the JSON files (what any Python reader of them pays first),
the numba decoder alone for XPlane. Prints one table.

    python bench/formats.py
"""
from __future__ import annotations

import gzip
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

import retime
from retime.ingest import xplane_decode

SHARED = Path(__file__).resolve().parents[2] / "shared" / "traces"
FILES = [("rocprofv3", "rocprof/rocprofv3_mi350_train_908_results.json.gz"),
         ("XPlane", "xplane/jax08_conv_mi300_tw003.xplane.pb"),
         ("XPlane", "xplane/jax_legacy_conv_mi300.xplane.pb"),
         ("XPlane", "xplane/jax_te_fused_attn_934987a2fc2f.xplane.pb")]
ET_PAIR = ("hta/execution_trace_simple_add/kineto_trace.json.gz", "hta/execution_trace_simple_add/pytorch_et.json.gz")


def best(run, times: int = 3) -> float:
    out = []
    for _ in range(times):
        t = time.perf_counter()
        run()
        out.append(time.perf_counter() - t)
    return min(out)


def ingest_seconds(paths: list[Path]) -> tuple[float, int]:
    """Best of 3: the time to ingest the last of `paths` into a fresh store holding the ones before
    it, and its event count."""
    times, events = [], 0
    for _ in range(3):
        with tempfile.TemporaryDirectory() as d, retime.open(Path(d) / "s.duckdb", threads=1) as store:
            for p in paths[:-1]:
                store.ingest(p)
            t = time.perf_counter()
            [r] = store.ingest(paths[-1])
            times.append(time.perf_counter() - t)
            events = r.events
    return min(times), events


def decode_xplane(buf: np.ndarray) -> int:
    """Every line's events of every plane, decoded (xplane_decode); the events decoded."""
    events = 0
    number, wire, _, start, end, _ = xplane_decode.fields(buf, 0, len(buf))
    for p_lo, p_hi in zip(start[number == 1], end[number == 1]):
        pn, pw, _, ps, pe, _ = xplane_decode.fields(buf, int(p_lo), int(p_hi))
        for l_lo, l_hi in zip(ps[(pn == 3) & (pw == xplane_decode.LENGTH)], pe[(pn == 3) & (pw == xplane_decode.LENGTH)]):
            events += len(xplane_decode.line_events(buf, int(l_lo), int(l_hi), -1)[0])
    return events


def decode_seconds(path: Path) -> float:
    data = path.read_bytes()
    if path.name.endswith(".pb"):
        buf = np.frombuffer(data, np.uint8)
        return best(lambda: decode_xplane(buf))
    return best(lambda: orjson.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data))


def main() -> None:
    if not SHARED.is_dir():
        raise SystemExit(f"needs {SHARED}")
    ingest_seconds([SHARED / FILES[1][1]])  # warm-up: numba's cache, the macros
    print("| format | file | MB on disk | events | retime ingest ms | decode alone ms (which) |")
    print("|---|---|---|---|---|---|")
    for fmt, name in FILES:
        path = SHARED / name
        seconds, events = ingest_seconds([path])
        which = "numba decode of every line" if fmt == "XPlane" else "gunzip + orjson"
        print(f"| {fmt} | {path.name} | {path.stat().st_size / 1e6:.2f} | {events:,} | {seconds * 1e3:.0f} | "
              f"{decode_seconds(path) * 1e3:.1f} ({which}) |")
    kineto, et = (SHARED / p for p in ET_PAIR)
    seconds, _ = ingest_seconds([kineto, et])
    print(f"| PyTorch ET (linked) | {et.name} | {et.stat().st_size / 1e6:.3f} | 0 (its operators go into the Kineto trace's args) | "
          f"{seconds * 1e3:.0f} | {decode_seconds(et) * 1e3:.1f} (gunzip + orjson) |")


if __name__ == "__main__":
    main()
