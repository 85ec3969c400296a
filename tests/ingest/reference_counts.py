"""An independent reading of a Chrome trace's events, straight from the JSON with plain Python.

It shares no code with retime's reader: B/E pairs are matched with an explicit stack per thread,
durations summed in integer nanoseconds from the decimal text, so the store can be checked
against it.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

INSTANT_PHASES = {"i", "I", "R", "n"}


def _ns(value) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int((Decimal(str(value)) * 1000).to_integral_value(rounding=ROUND_HALF_UP))  # as DuckDB's round()
    except Exception:
        return None


def reference_counts(doc) -> dict[str, int]:
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    x_count = x_dur = 0
    instants = 0
    b_count = b_closed = b_dur = 0
    per_thread = defaultdict(list)
    for position, e in enumerate(events):
        if not isinstance(e, dict):
            continue
        ph, ts = e.get("ph"), _ns(e.get("ts"))
        if ts is None:
            continue
        if ph == "X":
            dur = _ns(e.get("dur"))
            if dur is not None and dur >= 0:
                x_count += 1
                x_dur += dur
        elif ph in INSTANT_PHASES:
            instants += 1
        elif ph in ("B", "E"):
            key = (str(e.get("pid", "")), str(e.get("tid", "")))
            per_thread[key].append((ts, position, ph))
    for points in per_thread.values():
        stack = []
        for ts, _, ph in sorted(points):
            if ph == "B":
                b_count += 1
                stack.append(ts)
            elif stack:
                b_closed += 1
                b_dur += ts - stack.pop()
    return {"x_count": x_count, "x_dur_ns": x_dur, "b_count": b_count, "b_closed": b_closed,
            "b_dur_ns": b_dur, "instants": instants}
