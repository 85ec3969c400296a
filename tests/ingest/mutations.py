"""Mutations of real traces for fuzzing the ingester, and the checks every mutated file must pass.

Each mutation takes the decoded trace (a dict with traceEvents), a random generator, and returns the
bytes of a damaged file: missing, duplicated or mistyped keys, huge numbers, NaN and negative
durations, unknown phases, unmatched B/E, non-UTF-8 bytes in names, broken gzip, cuts at random
offsets. The checks: ingest returns (never raises), a failure is one line naming the file and
leaves the store as it was, and a success writes a whole trace (its row counts what it stored).
Used by tests/ingest/test_fuzz.py (a bounded slice) and bench/fuzz.py (a long run).
"""
from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import retime
from tests.conftest import table_counts

KEYS = ("ph", "ts", "dur", "pid", "tid", "name", "args", "cat", "id")
WRONG = ("soon", [1, 2], {"a": 1}, True, None, "", -1, 3.5)
HUGE = (2**70, -(2**63) - 1, 1e300, -1e300, 2**64, 9223372036854775807)


def _encode(doc: dict) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


def _events(doc: dict, rng: random.Random, k: int = 3) -> list[dict]:
    events = [e for e in doc.get("traceEvents", []) if isinstance(e, dict)]
    return rng.sample(events, min(k, len(events))) if events else []


def delete_key(doc, rng):
    for e in _events(doc, rng):
        e.pop(rng.choice(KEYS), None)
    return _encode(doc)


def wrong_type(doc, rng):
    for e in _events(doc, rng):
        e[rng.choice(KEYS)] = rng.choice(WRONG)
    return _encode(doc)


def huge_number(doc, rng):
    for e in _events(doc, rng):
        e[rng.choice(("ts", "dur", "pid", "tid", "id"))] = rng.choice(HUGE)
    return _encode(doc)


def nan_or_negative_duration(doc, rng):
    for e in _events(doc, rng):
        e["dur"] = rng.choice((float("nan"), float("inf"), -1, -123456789, -0.5))
    return _encode(doc)


def unknown_phase(doc, rng):
    for e in _events(doc, rng):
        e["ph"] = rng.choice(("Q", "xx", "", "é", "0"))
    return _encode(doc)


def unmatched_begin_end(doc, rng):
    events = doc.setdefault("traceEvents", [])
    for _ in range(rng.randint(1, 4)):
        events.insert(rng.randint(0, len(events)), {"ph": rng.choice("BE"), "name": "unmatched", "pid": 1,
                                                    "tid": rng.randint(1, 3), "ts": rng.randint(0, 10**9)})
    return _encode(doc)


def duplicate_key(doc, rng):
    text = _encode(doc)
    # repeat a key inside one event: JSON parsers keep the last, or complain
    for key in rng.sample([b'"ph": ', b'"ts": ', b'"dur": ', b'"name": '], 2):
        at = text.find(key, rng.randint(0, max(0, len(text) - 1)))
        if at > 0:
            text = text[:at] + key + rng.choice([b'"X", ', b'12, ', b'null, ', b'"twice", ']) + text[at:]
    return text


def non_utf8_bytes(doc, rng):
    text = _encode(doc)
    for _ in range(rng.randint(1, 5)):
        at = text.find(b'"name": "', rng.randint(0, max(0, len(text) - 1)))
        if at > 0:
            at += len(b'"name": "')
            text = text[:at] + rng.choice([b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\x80abc"]) + text[at:]
    return text


def truncated(doc, rng):
    text = _encode(doc)
    return text[:rng.randint(0, len(text))]


def broken_gzip(doc, rng):
    packed = bytearray(gzip.compress(_encode(doc)))
    if rng.random() < 0.5:
        return bytes(packed[:rng.randint(1, len(packed))])  # cut off
    for _ in range(rng.randint(1, 4)):  # flipped bytes: bad CRC or bad deflate data
        packed[rng.randint(10, len(packed) - 1)] ^= rng.randint(1, 255)
    return bytes(packed)


MUTATIONS = {f.__name__: f for f in (delete_key, wrong_type, huge_number, nan_or_negative_duration, unknown_phase,
                                     unmatched_begin_end, duplicate_key, non_utf8_bytes, truncated, broken_gzip)}


def load(path: Path) -> dict:
    data = path.read_bytes()
    doc = json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    return doc if isinstance(doc, dict) else {"traceEvents": doc}


def check_case(workdir: Path, source: dict, mutation: str, seed: int) -> str | None:
    """Mutate, ingest into a store that already holds a good trace, and check; None if every check
    holds, else what broke."""
    rng = random.Random(seed)
    data = MUTATIONS[mutation](json.loads(json.dumps(source)), rng)
    path = workdir / (f"{mutation}_{seed}.json" + (".gz" if mutation == "broken_gzip" else ""))
    path.write_bytes(data)
    good = workdir / "good.json"
    if not good.exists():
        good.write_text(json.dumps({"traceEvents": [{"ph": "X", "name": "ok", "pid": 1, "tid": 1, "ts": 1, "dur": 2}]}))
    db = workdir / f"{mutation}_{seed}.duckdb"
    try:
        with retime.open(db) as store:
            store.ingest(good)
            before = table_counts(store)
            [result] = store.ingest(path)
            after = table_counts(store)
            if result.status == "failed":
                if not result.error or "\n" in result.error or str(path) not in result.error:
                    return f"unclear error: {result.error!r}"
                if after != before:
                    return f"a failed ingest changed the store: {before} -> {after}"
            elif result.status == "ingested":
                stored = store.sql("SELECT count(*) AS n FROM events WHERE trace_id = $t", params={"t": result.trace_id})["n"][0]
                row = store.sql("SELECT event_count FROM traces WHERE trace_id = $t", params={"t": result.trace_id})
                if stored != result.events or row["event_count"][0] != stored:
                    return f"partial trace: {stored} events stored, {result.events} reported"
                if after["traces"] != before["traces"] + 1:
                    return "an ingested file did not add exactly one trace"
            else:
                return f"unexpected status {result.status!r}"
    except Exception as exc:  # the point of the fuzzer: any escape is a finding
        return f"raised {type(exc).__name__}: {exc}"
    finally:
        for leftover in (db, Path(f"{db}.wal"), path):
            leftover.unlink(missing_ok=True)
    return None
