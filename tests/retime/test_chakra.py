"""Chakra execution traces out (`retime export --chakra`), read back with the schema
(et_def.proto) by an independent plain-Python decode, and checked against the store: node counts,
types, collectives' type and size, dependencies and summed durations, one file per rank of a job."""
from __future__ import annotations

from click.testing import CliRunner

import pytest

import retime
from retime.cli import main
from tests.conftest import SHARED_TRACES
from tests.ingest.xplane_reference import _fields, _varint

A100_NCCL = SHARED_TRACES / "hta" / "nccl_parser_config_rank0.json.gz"
DLRM = SHARED_TRACES / "param" / "dlrm_8rank"


def read_et(path) -> tuple[str, list[dict]]:
    """(GlobalMetadata.version, the Node messages as dicts) of a Chakra .et file."""
    b = path.read_bytes()
    messages, i = [], 0
    while i < len(b):
        n, i = _varint(b, i)
        messages.append((i, i + n))
        i += n
    version = next(b[v[0]:v[1]].decode() for f, v in _fields(b, *messages[0]) if f == 1)
    nodes = []
    for lo, hi in messages[1:]:
        node = {"ctrl": [], "data": [], "attr": {}}
        for f, v in _fields(b, lo, hi):
            if f in (1, 3, 6, 7):
                node[{1: "id", 3: "type", 6: "start", 7: "dur"}[f]] = v
            elif f == 2:
                node["name"] = b[v[0]:v[1]].decode()
            elif f in (4, 5):
                j = v[0]
                while j < v[1]:
                    dep, j = _varint(b, j)
                    node["ctrl" if f == 4 else "data"].append(dep)
            elif f == 10:
                attr = dict(_fields(b, *v))
                name = b[attr[1][0]:attr[1][1]].decode()
                node["attr"][name] = next(attr[k] for k in (27, 9) if k in attr)
        nodes.append(node)
    return version, nodes


@pytest.fixture
def nccl_store(tmp_path):
    if not A100_NCCL.is_file():
        pytest.skip("../shared/traces is not present in this checkout")
    with retime.open(tmp_path / "c.duckdb") as store:
        [r] = store.ingest(A100_NCCL)
        yield store, r.trace_id


def test_a_trace_reads_back_with_its_ops_calls_collectives_and_dependencies(nccl_store, tmp_path):
    store, t = nccl_store
    [(path, counts)] = store.export_chakra(t, tmp_path / "et")
    version, nodes = read_et(__import__("pathlib").Path(path))
    assert version == "0.0.4" and [n["id"] for n in nodes] == list(range(len(nodes))) == list(range(counts["nodes"]))
    gpu = store.sql("SELECT e.kind, e.coll_op, e.coll_in_nelems * CASE e.coll_dtype WHEN 'Float' THEN 4 WHEN 'Long' THEN 8 END "
                    "AS bytes, e.dur_ns FROM events e "
                    "JOIN lanes l USING (trace_id, lane_id) WHERE e.trace_id = $t AND l.kind = 'gpu_stream' "
                    "AND e.kind IN ('kernel', 'collective', 'memcpy', 'memset')", params={"t": t})
    calls = store.sql("SELECT DISTINCT src_event_id FROM deps WHERE trace_id = $t AND kind = 'launch'", params={"t": t})
    assert len(nodes) == gpu.height + calls.height
    cpu = [n for n in nodes if n["attr"]["is_cpu_op"] == 1]
    assert len(cpu) == calls.height
    # collectives: all-reduces (ALL_REDUCE 0) and broadcasts (BROADCAST 5) with their buffers' bytes
    colls = sorted((n["attr"]["comm_type"], n["attr"]["comm_size"]) for n in nodes if n["type"] == 7)
    expected = sorted(({"allreduce": 0, "broadcast": 5}[op], b) for op, b in
                      gpu.filter(kind="collective").select("coll_op", "bytes").rows())
    assert colls == expected and len(colls) == 21
    # every GPU op's duration, in µs; each launch is a control dependency of the op on its call
    assert sum(n["dur"] for n in nodes if n["attr"]["is_cpu_op"] == 0) == sum((d + 500) // 1000 for d in gpu["dur_ns"])
    launches = store.sql("SELECT count(*) AS n FROM deps WHERE trace_id = $t AND kind = 'launch'", params={"t": t}).item()
    cpu_ids = {n["id"] for n in cpu}
    assert sum(1 for n in nodes if n["attr"]["is_cpu_op"] == 0 for d in n["ctrl"] if d in cpu_ids) == launches
    assert all(d < n["id"] for n in nodes for d in n["ctrl"] + n["data"])  # dependencies point back in time
    assert sum(len(n["data"]) for n in nodes) == counts["data_deps"] > 0


def test_a_saved_replay_exports_its_predicted_durations(nccl_store, tmp_path):
    store, t = nccl_store
    saved = store.replay(t, ["gpu.flops=2x"], save=True).saved_trace_id
    [(measured_path, _)] = store.export_chakra(t, tmp_path / "m")
    [(replay_path, _)] = store.export_chakra(saved, tmp_path / "r")
    pathlib = __import__("pathlib")
    measured = sum(n["dur"] for n in read_et(pathlib.Path(measured_path))[1] if n["type"] == 4 and not n["attr"]["is_cpu_op"])
    predicted = sum(n["dur"] for n in read_et(pathlib.Path(replay_path))[1] if n["type"] == 4 and not n["attr"]["is_cpu_op"])
    assert predicted < measured


def test_a_job_is_one_file_per_rank_named_for_astra_sim(tmp_path):
    if not DLRM.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    db = tmp_path / "j.duckdb"
    assert CliRunner().invoke(main, ["ingest", str(DLRM), "--db", str(db)]).exit_code == 0
    out = CliRunner().invoke(main, ["export", "1", "--db", str(db), "--chakra", str(tmp_path / "et")])
    assert out.exit_code == 0, out.output
    assert sorted(p.name for p in (tmp_path / "et").iterdir()) == [f"dlrm_8rank.{r}.et" for r in range(8)]
    assert out.output.count("wrote ") == 8
    refused = CliRunner().invoke(main, ["export", "1", "--db", str(db)])
    assert refused.exit_code == 2 and "--chrome FILE or --chakra DIR" in refused.output


def test_an_nsys_export_writes_one_file_per_process_rank_with_every_gpu_op(tmp_path):
    path = SHARED_TRACES / "nsys" / "h100_2gpu_1s.sqlite"
    if not path.is_file():
        pytest.skip("../shared/traces is not present in this checkout")
    with retime.open(tmp_path / "n.duckdb") as store:
        ranks = store.ingest(path)
        written = store.export_chakra(ranks[0].trace_id, tmp_path / "et")
        assert len(written) == 2
        pathlib = __import__("pathlib")
        for (file, counts), r in zip(written, ranks):
            _, nodes = read_et(pathlib.Path(file))
            gpu = store.sql("SELECT count(*) AS n, sum((e.dur_ns + 500) // 1000) AS us FROM events e JOIN lanes l "
                            "USING (trace_id, lane_id) WHERE e.trace_id = $t AND l.kind = 'gpu_stream' "
                            "AND e.kind IN ('kernel', 'collective', 'memcpy', 'memset')", params={"t": r.trace_id}).row(0)
            ops = [n for n in nodes if not n["attr"]["is_cpu_op"]]
            assert (len(ops), sum(n["dur"] for n in ops)) == gpu and len(nodes) == counts["nodes"]
            assert any(n["type"] == 2 for n in nodes)  # the host-to-device copies are memory loads


def test_a_wait_on_another_streams_event_is_a_dependency_between_the_two_ops(tmp_path):
    """HTA's multi-stream trace: a kernel waits (cudaStreamWaitEvent) for an op on another stream;
    the replay graph's edge between them is a control dependency in the export."""
    path = SHARED_TRACES / "hta" / "event_sync_multi_stream.json.gz"
    if not path.is_file():
        pytest.skip("../shared/traces is not present in this checkout")
    with retime.open(tmp_path / "w.duckdb") as store:
        [r] = store.ingest(path)
        [(file, _)] = store.export_chakra(r.trace_id, tmp_path / "et")
    _, nodes = read_et(__import__("pathlib").Path(file))
    gpu = {n["id"]: n for n in nodes if not n["attr"]["is_cpu_op"]}
    across = [(n["id"], d) for n in gpu.values() for d in n["ctrl"] if d in gpu]
    assert len(across) == 1
