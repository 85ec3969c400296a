"""Communication queries on a real NCCL trace, checked against answers computed from the JSON."""
from __future__ import annotations

from collections import defaultdict

import pytest

from tests.queries.reference import ingested, union_length

ELEMENT_BYTES = {"Float": 4, "Long": 8}


@pytest.fixture
def nccl(store, shared_traces):
    return ingested(store, shared_traces / "hta" / "nccl_parser_config_rank0.json.gz")


def test_collective_bandwidth_per_type_and_size(store, nccl):
    trace_id, doc, ops = nccl
    compute = sorted((o["start"], o["end"]) for o in ops if o["resource"] == "compute")
    expected = defaultdict(lambda: {"calls": 0, "total_ns": 0, "exposed_ns": 0})
    for op in ops:
        if op["resource"] != "communication":
            continue
        args = next(e["args"] for e in doc["traceEvents"]
                    if e.get("cat") == "kernel" and (e.get("args") or {}).get("correlation") == op["correlation"])
        key = (args["Collective name"], args["In msg nelems"] * ELEMENT_BYTES[args["dtype"]])
        # exposed: the collective's time minus the union of compute kernels inside it
        inside = [(max(s, op["start"]), min(e, op["end"])) for s, e in compute if s < op["end"] and e > op["start"]]
        expected[key]["calls"] += 1
        expected[key]["total_ns"] += op["dur"]
        expected[key]["exposed_ns"] += op["dur"] - union_length(inside)
    got = store.query("collective_bandwidth", trace_id)
    assert got.height == len(expected)
    for row in got.to_dicts():
        want = expected[(row["coll_op"], row["message_bytes"])]
        assert (row["calls"], row["total_ns"], row["exposed_ns"]) == (want["calls"], want["total_ns"], want["exposed_ns"])
        # two ranks: a ring all-reduce moves 2(n-1)/n = 1x its buffer per rank, so busbw = algbw
        assert row["busbw_gbps"] == row["algbw_gbps"] == round(row["message_bytes"] * row["calls"] / row["total_ns"], 3)
    exposed_total = store.query("comm_overlap", trace_id)["exposed_ns"][0]
    assert got["exposed_ns"].sum() == exposed_total  # no two collectives overlap in this trace
