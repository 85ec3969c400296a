"""PyTorch execution traces ingest beside their Kineto trace: HTA's real pair (an A100 run of a
matrix add) links every operator by record function id, and the Kineto trace's operators gain the
execution trace's shapes, types and tensor ids, which the roofline queries then use."""
from __future__ import annotations

import pytest

from tests.conftest import SHARED_TRACES, load_json, table_counts

PAIR = SHARED_TRACES / "hta" / "execution_trace_simple_add"


@pytest.fixture
def pair():
    if not PAIR.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    return PAIR / "kineto_trace.json.gz", PAIR / "pytorch_et.json.gz"


def test_an_execution_trace_gives_its_kineto_trace_the_shapes_of_its_operators(store, pair):
    kineto, et = pair
    [k] = store.ingest(kineto)
    assert store.query("op_roofline", k.trace_id).height == 0  # recorded without shapes
    [e] = store.ingest(et)
    assert e.status == "ingested" and e.format == "pytorch_et", e.error
    # the link, counted from the two files: an operator node's rf_id is a cpu_op's External id of that name
    nodes = [n for n in load_json(et)["nodes"] if n["rf_id"] > 0 and not n["name"].startswith("[")]
    ops = {(ev["args"]["External id"], ev["name"]) for ev in load_json(kineto)["traceEvents"] if ev.get("cat") == "cpu_op"}
    linked = [n for n in nodes if (n["rf_id"], n["name"]) in ops]
    assert len(linked) == len(nodes) == 28 and f"linked 28 of 28 operators to trace {k.trace_id}" in e.warnings[0]
    add = next(n for n in linked if n["name"] == "aten::add")
    args = store.sql("SELECT args->'$.\"Input Dims\"' AS dims, args->'$.\"ET inputs\"' AS inputs FROM events "
                     "WHERE trace_id = $t AND kind = 'cpu_op' AND name = 'aten::add' "
                     "AND args->>'$.\"External id\"' = $id", params={"t": k.trace_id, "id": str(add["rf_id"])}).row(0)
    assert __import__("json").loads(args[0]) == add["input_shapes"]
    assert __import__("json").loads(args[1])[0][0] == add["inputs"][0][0]  # the first input's tensor id
    roofline = store.query("op_roofline", k.trace_id)
    assert roofline.filter(op="aten::add")["dims"].to_list() == ["[[256,256],[256,256],[]]"]
    assert store.ingest(et)[0].status == "already"


def test_an_execution_trace_without_its_kineto_trace_is_refused_and_changes_nothing(store, pair):
    _, et = pair
    before = table_counts(store)
    [e] = store.ingest(et)
    assert e.status == "failed" and str(et) in e.error and "\n" not in e.error
    assert "ingest the Kineto trace recorded with it first" in e.error
    assert table_counts(store) == before


def test_a_parallel_ingest_links_the_execution_trace_after_the_traces_it_names(store):
    if not PAIR.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    results = store.ingest(PAIR, jobs=2)
    assert [r.format for r in results] == ["kineto", "pytorch_et"] and all(r.status == "ingested" for r in results)
    assert results[1].warnings[0].startswith(f"linked 28 of 28 operators to trace {results[0].trace_id}")
