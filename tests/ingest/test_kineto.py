"""What the store says about real Kineto traces, checked against the JSON itself."""
from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from tests.conftest import load_json

GPU_CATS = {"kernel", "gpu_memcpy", "gpu_memset", "Kernel", "Memcpy", "Memset"}
CPU_LAUNCH_CATS = {"cuda_runtime", "cuda_driver", "Runtime"}


# trace_diff_control's ac2g arrows sometimes start on the runtime call next to the launch
# (cudaPeekAtLastError, cudaFuncSetAttribute): the correlation id still names the right one
@pytest.mark.parametrize("name", ["alexnet_cuda_sync.json.gz", "trace_diff_control.json.gz"])
def test_every_gpu_op_is_linked_to_the_call_that_launched_it(store, shared_traces, name):
    path = shared_traces / "hta" / name
    events = load_json(path)["traceEvents"]
    launch_corr = {e["args"]["correlation"] for e in events
                   if e.get("cat") in CPU_LAUNCH_CATS and "correlation" in e.get("args", {})}
    launched = sum(1 for e in events if e.get("cat") in GPU_CATS and e.get("args", {}).get("correlation") in launch_corr)

    [r] = store.ingest(path)
    edges = store.sql("""
        SELECT count(*) AS n, count(DISTINCT d.dst_event_id) AS targets,
               bool_and(s.correlation = g.correlation) AS same_corr,
               bool_and(s.kind IN ('runtime', 'driver')) AS from_runtime
        FROM deps d JOIN events s ON s.trace_id = d.trace_id AND s.event_id = d.src_event_id
                    JOIN events g ON g.trace_id = d.trace_id AND g.event_id = d.dst_event_id
        WHERE d.trace_id = $t AND d.kind = 'launch'""", params={"t": r.trace_id}).to_dicts()[0]
    assert edges == {"n": launched, "targets": launched, "same_corr": True, "from_runtime": True}


def test_relative_kineto_times_land_on_the_absolute_clock(store, shared_traces):
    path = shared_traces / "tracelens" / "h100_gaunernst_bert-small-uncased__1016001.json.gz"
    doc = load_json(path)
    first = min(Decimal(str(e["ts"])) for e in doc["traceEvents"] if e.get("ph") == "X")
    expected = doc["baseTimeNanoseconds"] + int((first * 1000).to_integral_value())

    [r] = store.ingest(path)
    got = store.sql("SELECT min(ts_ns) AS t, any_value(time_base_ns) AS base FROM events JOIN traces USING (trace_id) "
                    "WHERE phase = 'X' AND trace_id = $t", params={"t": r.trace_id}).to_dicts()[0]
    assert got == {"t": expected, "base": doc["baseTimeNanoseconds"]}


def test_memcpy_direction_and_memory_kinds_come_from_the_copy_names(store, shared_traces):
    path = shared_traces / "hta" / "trace_diff_control.json.gz"
    names = Counter(e["name"] for e in load_json(path)["traceEvents"] if e.get("cat") == "gpu_memcpy")
    [r] = store.ingest(path)
    got = store.sql("SELECT name, copy_kind, src_kind, dst_kind, count(*) AS n FROM events "
                    "WHERE trace_id = $t AND kind = 'memcpy' GROUP BY ALL", params={"t": r.trace_id})
    assert dict(zip(got["name"], got["n"])) == dict(names)
    for row in got.to_dicts():
        direction = row["name"].split()[1]  # 'Memcpy HtoD (Pageable -> Device)'
        assert row["copy_kind"] == {"HtoD": "H2D", "DtoH": "D2H", "DtoD": "D2D"}[direction]
        src, dst = row["name"].split("(")[1].rstrip(")").split(" -> ")
        assert (row["src_kind"], row["dst_kind"]) == (src.lower(), dst.lower())


def test_collectives_carry_their_fields_as_columns(store, shared_traces):
    path = shared_traces / "param" / "dlrm_8rank" / "worker0_step_12.1694128201545.pt.trace.json.gz"
    events = load_json(path)["traceEvents"]
    nccl = Counter(e["name"].split("_")[1] for e in events if e.get("cat") == "kernel" and e["name"].startswith("ncclKernel"))
    comms = [e["args"] for e in events if e.get("name") == "record_param_comms" and "Collective name" in e.get("args", {})]

    [r] = store.ingest(path)
    kernels = store.sql("SELECT coll_op, count(*) AS n FROM events WHERE trace_id = $t AND kind = 'collective' GROUP BY 1",
                        params={"t": r.trace_id})
    assert dict(zip(kernels["coll_op"], kernels["n"])) == dict(nccl) == {"SendRecv": 5, "AllReduce": 3}
    cpu = store.sql("SELECT coll_op, coll_dtype, coll_in_nelems, coll_out_nelems, coll_group_size FROM events "
                    "WHERE trace_id = $t AND name = 'record_param_comms' AND coll_op IS NOT NULL "
                    "ORDER BY event_id", params={"t": r.trace_id}).to_dicts()
    assert sorted((c["coll_op"], c["coll_in_nelems"]) for c in cpu) == \
        sorted((a["Collective name"], a["In msg nelems"]) for a in comms)
    assert {c["coll_group_size"] for c in cpu} == {a["Group size"] for a in comms}


def test_gpu_streams_of_the_2020_schema_are_lanes_with_device_and_stream(store, shared_traces):
    path = shared_traces / "kineto" / "tb_plugin_resnet50_2020-12_array_format.pt.trace.json.gz"
    streams = {(int(e["pid"]), int(str(e["tid"]).split()[-1])) for e in load_json(path) if e.get("cat") in GPU_CATS}
    [r] = store.ingest(path)
    lanes = store.sql("SELECT device, stream FROM lanes WHERE trace_id = $t AND kind = 'gpu_stream'", params={"t": r.trace_id})
    assert set(zip(lanes["device"], lanes["stream"])) == streams
    kinds = set(store.sql("SELECT DISTINCT kind FROM events WHERE trace_id = $t", params={"t": r.trace_id})["kind"])
    assert {"cpu_op", "runtime", "kernel", "memcpy", "memset"} <= kinds


def test_integers_beyond_int64_survive_in_args(store, shared_traces):
    [r] = store.ingest(shared_traces / "hta" / "large_integer_rank70.json.gz")
    got = store.sql("""SELECT json_extract_string(args, '$."Comms Id"') AS comms_id FROM events
                       WHERE trace_id = $t AND args LIKE '%Comms Id%'""", params={"t": r.trace_id})
    assert got["comms_id"].to_list() == ["10159970886766084423"]


def test_perfetto_flow_events_v1_and_v2_become_edges(store, shared_traces):
    for name in ("flow_events_json_v1.json", "flow_events_json_v2.json"):
        doc = load_json(shared_traces / "perfetto" / name)
        events = doc["traceEvents"] if isinstance(doc, dict) else doc
        v1_chains = Counter((e.get("cat"), e["id"]) for e in events if e.get("ph") in ("s", "t", "f"))
        expected = sum(n - 1 for n in v1_chains.values())
        bound = sorted((e["bind_id"], e["ts"], n, e) for n, e in enumerate(events) if e.get("flow_in") or e.get("flow_out"))
        for k, (bind_id, _, _, e) in enumerate(bound):  # each flow_out reaches the next flow_in of its bind_id
            later_ins = [b for b in bound[k + 1:] if b[0] == bind_id and b[3].get("flow_in")]
            expected += bool(e.get("flow_out") and later_ins)
        [r] = store.ingest(shared_traces / "perfetto" / name)
        got = store.sql("SELECT count(*) AS n FROM deps WHERE trace_id = $t AND kind = 'flow'", params={"t": r.trace_id})["n"][0]
        assert got == expected, name
