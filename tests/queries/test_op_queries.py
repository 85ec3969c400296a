"""The operator queries (roofline, attribution, categories) on real traces, checked against answers
worked out from the trace file itself: which host slices were open around each launch call, the
FLOPs of a matmul from its recorded shapes, kernel durations summed in Python."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from tests.conftest import SAMPLE_TRACES, load_json
from tests.queries.reference import gpu_ops, launch_stacks

GRAPH = SAMPLE_TRACES / "gpu_h100" / "streams_graph.pt.trace.json.gz"


def _kernels_by_stack(doc):
    """(kernel, its launch stack) for every kernel whose launch call is in the trace."""
    base = doc.get("baseTimeNanoseconds", 0)
    stacks = launch_stacks(doc)
    return [(op, stacks[op["correlation"]]) for op in gpu_ops(doc, base) if op["correlation"] in stacks]


def test_call_stacks_are_the_slices_open_around_each_launch(store):
    [r] = store.ingest(GRAPH)
    doc = load_json(GRAPH)
    expected = sorted((op["start"], [s["name"] for s in stack]) for op, stack in _kernels_by_stack(doc))
    got = store.sql("""
        SELECT g.ts_ns, list(e.name ORDER BY s.i) AS names
        FROM (SELECT event_id, ts_ns, unnest(call_stack) AS slice_id, generate_subscripts(call_stack, 1) AS i
              FROM gpu_timeline WHERE trace_id = $t AND call_stack IS NOT NULL) s
        JOIN gpu_timeline g ON g.trace_id = $t AND g.event_id = s.event_id
        JOIN events e ON e.trace_id = $t AND e.event_id = s.slice_id
        GROUP BY g.event_id, g.ts_ns ORDER BY g.ts_ns, names""", params={"t": r.trace_id}).rows()
    assert sorted((ts, names) for ts, names in got) == expected
    assert any(names[-1] == "aten::addmm" for _, names in expected)


def test_op_roofline_of_the_sample_matmuls(store):
    """aten::linear -> aten::addmm on [512,1024] x [1024,1024] FP32 with a bias, on an H100."""
    [r] = store.ingest(GRAPH)
    doc = load_json(GRAPH)
    own = [op for op, stack in _kernels_by_stack(doc) if op["kind"] == "kernel" and stack and stack[-1]["name"] == "aten::addmm"]
    calls = {id(stack[-1]) for op, stack in _kernels_by_stack(doc) if stack and stack[-1]["name"] == "aten::addmm"}
    flops = 2 * 512 * 1024 * 1024 + 512 * 1024  # the matmul and its bias add
    nbytes = 4 * (1024 + 512 * 1024 + 1024 * 1024 + 512 * 1024)
    gpu_ns = sum(op["dur"] for op in own)
    [row] = store.query("op_roofline", r.trace_id).filter(op="aten::addmm").to_dicts()
    assert row["calls"] == len(calls) and row["gpu_ns"] == gpu_ns
    assert row["gflops"] == round(len(calls) * flops / 1e9, 3)
    assert row["flop_per_byte"] == round(flops / nbytes, 2)
    assert row["achieved_tflops"] == round(len(calls) * flops / gpu_ns / 1e3, 3)
    assert row["preset"] == "h100" and row["memory_roof_tb_s"] == 3.35
    # the GEMM kernels are sm80_xmma_gemm_f32f32_f32f32 (no TF32): held to the FP32 peak, where they bind on compute
    assert row["compute_roof_tflops"] == 67 and row["bound"] == "compute"
    assert row["pct_of_roof"] == round(100 * row["achieved_tflops"] / 67, 2)
    assert store.query("op_roofline", r.trace_id).filter(op="aten::linear").is_empty()  # its GEMM counts under addmm
    b300 = store.query("op_roofline", r.trace_id, gpu="b300").filter(op="aten::addmm").to_dicts()[0]
    assert b300["compute_roof_tflops"] == 75 and b300["preset"] == "b300"


def test_kernel_roofline_gives_each_kernel_its_operators_shape(store):
    [r] = store.ingest(GRAPH)
    rows = store.query("kernel_roofline", r.trace_id).to_dicts()
    gemm = [row for row in rows if row["op"] == "aten::addmm"]
    assert gemm and all("gemm" in row["kernel"] for row in gemm)
    op = store.query("op_roofline", r.trace_id).filter(op="aten::addmm").to_dicts()[0]
    assert sum(row["gpu_ns"] for row in gemm) == op["gpu_ns"]
    assert sum(row["gflops"] for row in gemm) == pytest.approx(op["gflops"], abs=1e-3)


def test_op_attribution_self_and_total_follow_the_launch_stacks(store):
    [r] = store.ingest(GRAPH)
    doc = load_json(GRAPH)
    self_ns, total_ns = defaultdict(int), defaultdict(int)
    for op, stack in _kernels_by_stack(doc):
        if stack:
            self_ns[stack[-1]["name"]] += op["dur"]
        for name in {s["name"] for s in stack}:
            total_ns[name] += op["dur"]
    innermost = store.query("op_attribution", r.trace_id, top_n=1000).to_dicts()
    assert {row["name"]: row["self_ns"] for row in innermost} == dict(self_ns)
    anywhere = store.query("op_attribution", r.trace_id, depth=-2, top_n=1000).to_dicts()
    assert {row["name"]: row["total_ns"] for row in anywhere} == dict(total_ns)
    # aten::copy_ is open at depth 2 in the graph replay (its D2D copy) and at depth 4 around the prefetch's H2D copy
    at_depth = {depth: {row["name"]: row["total_ns"] for row in
                        store.query("op_attribution", r.trace_id, depth=depth, top_n=1000).to_dicts()} for depth in (2, 4)}
    assert at_depth[2]["aten::copy_"] + at_depth[4]["aten::copy_"] == total_ns["aten::copy_"]
    steps = store.query("op_attribution", r.trace_id, depth=0).to_dicts()
    assert all(row["name"].startswith("ProfilerStep#") and row["kind"] == "annotation" for row in steps)


def test_op_categories_add_up_to_all_gpu_time_and_name_who_decided(store):
    [r] = store.ingest(GRAPH)
    rows = store.query("op_categories", r.trace_id).to_dicts()
    total = store.sql("SELECT sum(end_ns - ts_ns) AS ns FROM gpu_timeline WHERE trace_id = $t", params={"t": r.trace_id})["ns"][0]
    assert sum(row["gpu_ns"] for row in rows) == total
    by = {(row["category"], row["source"]): row for row in rows}
    assert by[("gemm", "operator")]["top_operator"] == "aten::addmm"
    # the CUDA graph's kernels were launched by cudaGraphLaunch inside an annotation, no operator: by kernel name
    assert ("gemm", "kernel") in by and ("memory", "kernel") in by


@pytest.mark.parametrize("name, preset", [("h100_gaunernst_bert-small-uncased__1016001.json.gz", "h100"),
                                          ("mi300_gaunernst_bert-small-uncased__1016001.json.gz", "mi300x")])
def test_op_roofline_on_one_model_on_two_vendors(store, shared_traces, name, preset):
    [r] = store.ingest(shared_traces / "tracelens" / name)
    rows = store.query("op_roofline", r.trace_id, top_n=200).to_dicts()
    assert rows and {row["preset"] for row in rows} == {preset}
    categories = {row["category"] for row in rows}
    assert {"gemm", "elementwise"} <= categories
    for row in rows:
        assert row["pct_of_roof"] is None or 0 < row["pct_of_roof"] <= 100, row  # no kernel beats its roof


def test_op_attribution_on_nsight_reads_emit_nvtx_ranges_by_their_operator(store, shared_traces):
    """An Nsight capture of a torch run with emit_nvtx: each operator is an NVTX range named
    'aten::copy_, op_id = 317175'; attribution groups the ranges by operator."""
    [first, *_] = store.ingest(shared_traces / "nsys" / "h100_2gpu_1s.sqlite")
    rows = store.query("op_attribution", first.trace_id, top_n=1000).to_dicts()
    assert rows and not any("op_id" in row["name"] for row in rows)
    assert rows[0]["name"] == "aten::copy_" and rows[0]["kind"] == "annotation"  # the H2D copies of this copy-bound run
    gpu_ns = store.sql("SELECT sum(end_ns - ts_ns) AS ns FROM gpu_timeline WHERE trace_id = $t", params={"t": first.trace_id})["ns"][0]
    assert sum(row["self_ns"] for row in rows) <= gpu_ns
    categories = {(r["category"], r["source"]) for r in store.query("op_categories", first.trace_id).to_dicts()}
    assert ("gemm", "operator") in categories  # aten::mm ranges name the GEMMs' category


def test_convolution_flops_follow_stride_padding_and_dilation(store):
    """The CPU convnet sample records shapes and concrete inputs: each aten::convolution's FLOPs,
    worked out here from its input, weight, stride, padding and dilation."""
    from retime import foundation
    path = SAMPLE_TRACES / "cpu_convnet_inference.pt.trace.json.gz"
    [r] = store.ingest(path)
    expected = []
    for e in load_json(path)["traceEvents"]:
        if e.get("name") != "aten::convolution":
            continue
        (n, _, h, w), (o, cg, kh, kw) = e["args"]["Input Dims"][:2]
        stride, pad, dil = (json.loads(e["args"]["Concrete Inputs"][i]) for i in (3, 4, 5))  # '[1, 1]'
        ho = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
        wo = (w + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
        expected.append(2.0 * n * o * ho * wo * cg * kh * kw)
    foundation.load(store.con, "ops")
    got = store.con.execute("SELECT flops FROM op_costs($t) WHERE name = 'aten::convolution' ORDER BY event_id",
                            {"t": r.trace_id}).fetchall()
    assert expected and [f for (f,) in got] == expected
