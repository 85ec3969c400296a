"""Chrome JSON export: what retime writes, retime (and so Perfetto) reads back exactly."""
from __future__ import annotations

import gzip
import json

import pytest

import retime

SUMMARY = ("SELECT kind, count(*) AS n, sum(dur_ns)::BIGINT AS ns, min(ts_ns) AS first FROM events "
           "WHERE trace_id = $t GROUP BY kind ORDER BY kind")
# a saved replay's critical path (deps kinds critical_*) is derived by the replayer, not exported
EDGES = ("SELECT kind, count(*) AS n FROM deps WHERE trace_id = $t AND kind NOT LIKE 'critical%' "
         "GROUP BY kind ORDER BY kind")


@pytest.mark.parametrize("replayed", [False, True])
def test_an_export_ingests_back_to_the_same_events_and_edges(tmp_path, shared_traces, replayed):
    with retime.open(tmp_path / "a.duckdb") as store:
        [r] = store.ingest(shared_traces / "hta" / "alexnet_cuda_sync.json.gz")
        trace = store.replay(r.trace_id, ["pcie.h2d=2x"], save=True).saved_trace_id if replayed else r.trace_id
        store.export_chrome(trace, tmp_path / "out.json.gz")
        before = store.sql(SUMMARY, params={"t": trace}).to_dicts(), store.sql(EDGES, params={"t": trace}).to_dicts()
    doc = json.loads(gzip.decompress((tmp_path / "out.json.gz").read_bytes()))
    assert doc["baseTimeNanoseconds"] > 0 and all("ph" in e for e in doc["traceEvents"])
    with retime.open(tmp_path / "b.duckdb") as again:
        [back] = again.ingest(tmp_path / "out.json.gz")
        after = again.sql(SUMMARY, params={"t": back.trace_id}).to_dicts(), again.sql(EDGES, params={"t": back.trace_id}).to_dicts()
    assert back.warnings == []
    assert after == before
