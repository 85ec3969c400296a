"""Independent answers computed from the trace JSON with plain Python, for checking the queries."""
from __future__ import annotations

from collections import defaultdict

from tests.conftest import load_json
from tests.ingest.reference_counts import _ns

GPU_CATS = {"kernel": "kernel", "Kernel": "kernel", "gpu_memcpy": "memcpy", "Memcpy": "memcpy",
            "gpu_memset": "memset", "Memset": "memset"}


def gpu_ops(doc, base_ns: int = 0) -> list[dict]:
    """GPU ops as dicts with device, stream, start, end (ns), name, resource and correlation."""
    ops = []
    for e in doc["traceEvents"]:
        kind = GPU_CATS.get(e.get("cat"))
        if e.get("ph") != "X" or kind is None:
            continue
        start, dur = _ns(e.get("ts")), _ns(e.get("dur"))
        if start is None or dur is None or dur < 0:
            continue
        name = e.get("name", "")
        collective = kind == "kernel" and ("nccl" in name.lower() or "rccl" in name.lower())
        resource = "communication" if collective else ("memory" if kind in ("memcpy", "memset") else "compute")
        ops.append({"device": int(e["pid"]), "stream": int(str(e["tid"]).split()[-1]), "start": base_ns + start,
                    "end": base_ns + start + dur, "dur": dur, "name": name, "resource": resource, "kind": kind,
                    "correlation": (e.get("args") or {}).get("correlation"), "bytes": (e.get("args") or {}).get("bytes")})
    return ops


def ingested(store, path):
    """Ingest a real trace and read it back independently: (trace id, the JSON, its GPU ops)."""
    [result] = store.ingest(path)
    doc = load_json(path)
    return result.trace_id, doc, gpu_ops(doc, doc.get("baseTimeNanoseconds", 0))


def launched_ops(doc) -> list[tuple[int, int, int]]:
    """(launch call start, op start, op end) in ns of every GPU op whose runtime/driver call is in the
    trace (paired by correlation id)."""
    base = doc.get("baseTimeNanoseconds", 0)
    calls = {e["args"]["correlation"]: base + _ns(e["ts"]) for e in doc["traceEvents"]
             if e.get("cat") in ("cuda_runtime", "cuda_driver") and "correlation" in (e.get("args") or {})}
    return [(calls[e["args"]["correlation"]], base + _ns(e["ts"]), base + _ns(e["ts"]) + _ns(e["dur"]))
            for e in doc["traceEvents"]
            if e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset") and e["args"].get("correlation") in calls]


def union_length(intervals) -> int:
    total, current_start, current_end = 0, None, None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    return total


def by_device(ops, resources) -> dict[int, int]:
    grouped = defaultdict(list)
    for op in ops:
        if op["resource"] in resources:
            grouped[op["device"]].append((op["start"], op["end"]))
    return {device: union_length(spans) for device, spans in grouped.items()}


def launch_stacks(doc) -> dict[int, list[dict]]:
    """For each GPU op (by correlation id) whose launch call is in the trace: the host slices open on
    the call's thread when it started, outermost first (name, cat, start, end, args), as the
    trace's own timestamps nest them. One correlation id can carry several GPU ops (CUDA graphs)."""
    base = doc.get("baseTimeNanoseconds", 0)
    slices = defaultdict(list)
    calls = {}
    for e in doc["traceEvents"]:
        if e.get("ph") != "X" or e.get("cat") in GPU_CATS or not _ns(e.get("dur")):
            continue
        start = base + _ns(e["ts"])
        record = {"name": e.get("name"), "cat": e.get("cat"), "start": start, "end": start + _ns(e["dur"]),
                  "args": e.get("args") or {}}
        slices[(e["pid"], e["tid"])].append(record)
        if e.get("cat") in ("cuda_runtime", "cuda_driver") and "correlation" in record["args"]:
            calls[record["args"]["correlation"]] = ((e["pid"], e["tid"]), record)
    stacks = {}
    for correlation, (thread, call) in calls.items():
        open_ = [s for s in slices[thread] if s is not call and s["start"] <= call["start"] <= s["end"]
                 and (s["start"], -(s["end"] - s["start"])) < (call["start"], -(call["end"] - call["start"]))]
        stacks[correlation] = sorted(open_, key=lambda s: (s["start"], -(s["end"] - s["start"])))
    return stacks
