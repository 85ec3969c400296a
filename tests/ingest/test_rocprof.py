"""rocprofv3 JSON (rocprofiler-sdk-tool): the real 4-GPU MI350X training run's kernel dispatches land
as the store's kernels, checked against the file's records read independently; HIP runtime calls,
memory copies and ROCTx markers (which that run did not record) land as runtime calls with launch
edges, copies and annotations, checked on the same document with such records added in
rocprofiler-sdk's record layout."""
from __future__ import annotations

import copy
import gzip
import json

import pytest

from tests.conftest import SHARED_TRACES, table_counts

REAL = SHARED_TRACES / "rocprof" / "rocprofv3_mi350_train_908_results.json.gz"


@pytest.fixture(scope="module")
def document():
    if not REAL.is_file():
        pytest.skip("../shared/traces is not present in this checkout")
    return json.loads(gzip.decompress(REAL.read_bytes()))


def test_every_kernel_dispatch_lands_with_its_name_time_and_stream(store, document):
    tool = document["rocprofiler-sdk-tool"][0]
    dispatches = tool["buffer_records"]["kernel_dispatch"]
    names = {s["kernel_id"]: s["formatted_kernel_name"] for s in tool["kernel_symbols"]}
    [r] = store.ingest(REAL)
    assert r.status == "ingested" and r.format == "rocprof" and r.events == len(dispatches) == 43_915
    got = store.sql("SELECT name, count(*) AS n, sum(dur_ns) AS ns FROM events WHERE trace_id = $t "
                    "AND kind IN ('kernel', 'collective') GROUP BY name", params={"t": r.trace_id})
    expected: dict[str, list[int]] = {}
    for d in dispatches:
        e = expected.setdefault(names[d["dispatch_info"]["kernel_id"]], [0, 0])
        e[0] += 1
        e[1] += d["end_timestamp"] - d["start_timestamp"]
    assert {name: [n, ns] for name, n, ns in got.rows()} == expected
    streams = {d["stream_id"]["handle"] for d in dispatches}
    lanes = store.sql("SELECT stream FROM lanes WHERE trace_id = $t AND kind = 'gpu_stream'", params={"t": r.trace_id})
    assert set(lanes["stream"]) == streams
    # the GPU is named, so presets and rooflines apply; RCCL's kernels are collectives
    assert store.source_gpu(r.trace_id) == "mi350x"
    assert store.sql("SELECT count(*) AS n FROM events WHERE trace_id = $t AND kind = 'collective'",
                     params={"t": r.trace_id}).item() == sum(1 for d in dispatches if "nccl" in names[d["dispatch_info"]["kernel_id"]].lower())
    assert any("no HIP runtime calls" in w for w in r.warnings)


def with_host_records(document) -> dict:
    """The real document with a HIP launch for its first two dispatches, a host-to-device copy
    launched by a hipMemcpyAsync, and a ROCTx marker, each in rocprofiler-sdk's buffer record layout
    (kind and operation indexes into the document's own strings.buffer_records)."""
    doc = copy.deepcopy(document)
    tool = doc["rocprofiler-sdk-tool"][0]
    kinds = [k["kind"] for k in tool["strings"]["buffer_records"]]
    ops = {k["kind"]: k["operations"] for k in tool["strings"]["buffer_records"]}
    hip, copy_kind, marker = kinds.index("HIP_RUNTIME_API"), kinds.index("MEMORY_COPY"), kinds.index("MARKER_CORE_API")
    gpu = next(a["id"]["handle"] for a in tool["agents"] if a["type"] == 2)
    cpu = next(a["id"]["handle"] for a in tool["agents"] if a["type"] == 1)
    records = tool["buffer_records"]
    first, second = records["kernel_dispatch"][:2]
    calls = []
    for d in (first, second):
        start = d["start_timestamp"] - 20_000
        calls.append({"size": 64, "kind": hip, "operation": ops["HIP_RUNTIME_API"].index("hipLaunchKernel"),
                      "correlation_id": dict(d["correlation_id"]), "start_timestamp": start,
                      "end_timestamp": start + 6_000, "thread_id": d["thread_id"]})
    t0 = first["start_timestamp"] - 100_000
    calls.append({"size": 64, "kind": hip, "operation": ops["HIP_RUNTIME_API"].index("hipMemcpyAsync"),
                  "correlation_id": {"internal": 999_999, "external": 0}, "start_timestamp": t0,
                  "end_timestamp": t0 + 5_000, "thread_id": first["thread_id"]})
    records["hip_api"] = calls
    records["memory_copy"] = [{"size": 80, "kind": copy_kind,
                               "operation": ops["MEMORY_COPY"].index("MEMORY_COPY_HOST_TO_DEVICE"),
                               "correlation_id": {"internal": 999_999, "external": 0}, "thread_id": first["thread_id"],
                               "start_timestamp": t0 + 8_000, "end_timestamp": t0 + 48_000,
                               "dst_agent_id": {"handle": gpu}, "src_agent_id": {"handle": cpu},
                               "bytes": 64 << 20}]
    records["marker_api"] = [{"size": 64, "kind": marker, "operation": ops["MARKER_CORE_API"].index("roctxRangePushA"),
                              "correlation_id": {"internal": 999_998, "external": 0}, "thread_id": first["thread_id"],
                              "start_timestamp": t0 - 10_000, "end_timestamp": t0 + 60_000}]
    return doc


def test_hip_calls_copies_and_markers_land_with_their_launch_edges(store, document, tmp_path):
    path = tmp_path / "with_host.json"
    path.write_text(json.dumps(with_host_records(document)))
    [r] = store.ingest(path)
    assert r.status == "ingested", r.error
    assert not any("no HIP runtime calls" in w for w in r.warnings)
    t = {"t": r.trace_id}
    launches = store.sql("SELECT c.name AS call, g.kind, g.copy_kind, g.bytes FROM deps d "
                         "JOIN events c ON c.trace_id = d.trace_id AND c.event_id = d.src_event_id "
                         "JOIN events g ON g.trace_id = d.trace_id AND g.event_id = d.dst_event_id "
                         "WHERE d.trace_id = $t AND d.kind = 'launch' ORDER BY g.ts_ns", params=t).rows()
    assert launches == [("hipMemcpyAsync", "memcpy", "H2D", 64 << 20), ("hipLaunchKernel", "kernel", None, None),
                        ("hipLaunchKernel", "kernel", None, None)]
    marker = store.sql("SELECT name, dur_ns FROM events WHERE trace_id = $t AND kind = 'annotation'", params=t).rows()
    assert marker == [("roctxRangePushA", 70_000)]
    # the copy runs at its bytes over its duration, and the launch queries see the calls
    [row] = store.query("memcpy_bandwidth", r.trace_id).rows(named=True)
    assert row["achieved_gbps"] == pytest.approx((64 << 20) / 40_000, rel=1e-3)
    latency = {(x["call"], x["op_kind"]): x for x in store.query("launch_latency", r.trace_id).to_dicts()}
    assert latency[("hipLaunchKernel", "kernel")]["launches"] == 2
    assert latency[("hipLaunchKernel", "kernel")]["p50_ns"] == 20_000


def test_a_truncated_rocprof_file_is_one_line_and_leaves_the_store_as_it_was(store, document, tmp_path):
    text = json.dumps(document)
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2])
    before = table_counts(store)
    [r] = store.ingest(path)
    assert r.status == "failed" and str(path) in r.error and "\n" not in r.error and "rocprofv3" in r.error
    assert table_counts(store) == before
