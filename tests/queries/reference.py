"""Independent answers computed from the trace JSON with plain Python, for checking the queries."""
from __future__ import annotations

from collections import defaultdict

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
