"""Generic Chrome phases beyond slices: counters, async pairs, skipped phases."""
from __future__ import annotations

from collections import Counter

from tests.conftest import load_json


def test_every_counter_series_sample_is_stored(store, shared_traces):
    for name in ("catapult/instance_counters.json", "catapult/simple_trace.json", "catapult/fuchsia_trace.json.gz"):
        doc = load_json(shared_traces / name)
        events = doc["traceEvents"] if isinstance(doc, dict) else doc
        samples = Counter()
        for e in events:
            if e.get("ph") == "C" and isinstance(e.get("args"), dict) and "ts" in e:
                counter = e.get("name", "") + (f" {e['id']}" if "id" in e else "")
                for series in e["args"]:
                    samples[(counter, series)] += 1
        [r] = store.ingest(shared_traces / name)
        got = store.sql("SELECT name, series, count(*) AS n FROM counters WHERE trace_id = $t GROUP BY ALL",
                        params={"t": r.trace_id})
        assert {(row["name"], row["series"]): row["n"] for row in got.to_dicts()} == dict(samples), name


def test_nestable_async_pairs_match_by_id(store, shared_traces):
    path = shared_traces / "catapult" / "nestable_async.json"
    events = load_json(path)["traceEvents"]
    begins = [e for e in events if e.get("ph") == "b"]
    ends = Counter((e.get("cat"), e["id"]) for e in events if e.get("ph") == "e")
    [r] = store.ingest(path)
    got = store.sql("SELECT count(*) AS n, count(dur_ns) AS closed FROM events WHERE trace_id = $t AND kind = 'async'",
                    params={"t": r.trace_id}).to_dicts()[0]
    assert got["n"] == len(begins)
    assert got["closed"] == sum(min(n, sum(1 for b in begins if (b.get("cat"), b["id"]) == key)) for key, n in ends.items())
    assert any("never ended" in w for w in r.warnings) == (got["closed"] < got["n"])


def test_phases_retime_does_not_model_are_counted_not_fatal(store, shared_traces):
    path = shared_traces / "catapult" / "chromeos_system_trace.json"
    object_snapshots = sum(1 for e in load_json(path)["traceEvents"] if e.get("ph") == "O")
    [r] = store.ingest(path)
    assert r.status == "ingested"
    assert f"O:{object_snapshots}" in " ".join(r.warnings)
