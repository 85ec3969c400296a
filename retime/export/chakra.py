"""Chakra execution traces (mlcommons/chakra `schema/protobuf/et_def.proto`) from the store, for
ASTRA-sim and the other tools that read them: one `.et` file per rank, each a GlobalMetadata
message and then one Node message per node, every message preceded by its length as a varint (as
Chakra's protolib `encodeMessage` writes them).

Nodes (export_chakra_nodes.sql): each GPU op, and each host call that launched one. Kernels and
memsets are COMP_NODEs, host-to-device and device-to-host copies MEM_LOAD_NODE / MEM_STORE_NODE,
collectives of a known operation COMM_COLL_NODEs with `comm_type` and `comm_size` (bytes of the
buffer), launch calls COMP_NODEs with `is_cpu_op` true. Dependencies: a GPU op on the op before it
on its stream (data_deps); every other edge of the trace's replay graph between two exported nodes
(a launch, a synchronize waiting for GPU work, a wait on another stream's event, a full launch
queue) and a launch call on the call before it on its thread (ctrl_deps). Durations and start times are the trace's, in µs: a saved
replay's (`retime replay --save`) are its predicted ones. The messages are encoded by numba from
columns, no protobuf runtime.
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from numba import njit

from retime import foundation
from retime.core.sqlfiles import load_sql

PACKAGE = "retime.export"
VERSION = "0.0.4"  # the Chakra schema version the files declare (GlobalMetadata.version)
ATTR_NAMES = ("is_cpu_op", "comm_type", "comm_size", "tensor_size")


@njit(cache=True)
def _varint_size(value):
    size = 1
    value = np.uint64(value)
    while value >= 0x80:
        value >>= np.uint64(7)
        size += 1
    return size


@njit(cache=True)
def _put_varint(out, at, value):
    value = np.uint64(value)
    while value >= 0x80:
        out[at] = np.uint8((value & np.uint64(0x7F)) | np.uint64(0x80))
        value >>= np.uint64(7)
        at += 1
    out[at] = np.uint8(value)
    return at + 1


@njit(cache=True)
def _attr_size(name_len, field, value):
    """Bytes of an AttributeProto {name = 1, <field> = value (a varint)}."""
    return 1 + _varint_size(name_len) + name_len + _varint_size(field << 3) + _varint_size(value)


@njit(cache=True)
def _node_size(i, name_off, dep_ptr, deps_c, data_ptr, deps_d, node_type, start_us, dur_us, is_cpu, comm_type,
               size_bytes, attr_len):
    n = 0
    name_len = name_off[i + 1] - name_off[i]
    n += 1 + _varint_size(i)                                   # id = 1
    n += 1 + _varint_size(name_len) + name_len                 # name = 2
    n += 1 + _varint_size(node_type[i])                        # type = 3
    for field, ptr, deps in ((4, dep_ptr, deps_c), (5, data_ptr, deps_d)):
        if ptr[i + 1] > ptr[i]:
            packed = 0
            for k in range(ptr[i], ptr[i + 1]):
                packed += _varint_size(deps[k])
            n += 1 + _varint_size(packed) + packed
    n += 1 + _varint_size(start_us[i])                         # start_time_micros = 6
    n += 1 + _varint_size(dur_us[i])                           # duration_micros = 7
    a = _attr_size(attr_len[0], 27, 1 if is_cpu[i] else 0)     # is_cpu_op: bool_val = 27
    n += 1 + _varint_size(a) + a
    if comm_type[i] >= 0:
        a = _attr_size(attr_len[1], 9, comm_type[i])           # comm_type: int64_val = 9
        n += 1 + _varint_size(a) + a
        a = _attr_size(attr_len[2], 9, max(size_bytes[i], 0))  # comm_size
        n += 1 + _varint_size(a) + a
    elif size_bytes[i] >= 0:
        a = _attr_size(attr_len[3], 9, size_bytes[i])          # tensor_size
        n += 1 + _varint_size(a) + a
    return n


@njit(cache=True)
def _put_attr(out, at, names, name_off, which, field, value):
    name_len = name_off[which + 1] - name_off[which]
    at = _put_varint(out, at, (10 << 3) | 2)
    at = _put_varint(out, at, _attr_size(name_len, field, value))
    at = _put_varint(out, at, (1 << 3) | 2)
    at = _put_varint(out, at, name_len)
    out[at:at + name_len] = names[name_off[which]:name_off[which + 1]]
    at += name_len
    at = _put_varint(out, at, field << 3)
    return _put_varint(out, at, value)


@njit(cache=True)
def encode_nodes(name_data, name_off, dep_ptr, deps_c, data_ptr, deps_d, node_type, start_us, dur_us, is_cpu,
                 comm_type, size_bytes, attr_names, attr_off):
    """Every node as a length-prefixed Node message, in one buffer."""
    attr_len = attr_off[1:] - attr_off[:-1]
    total = 0
    sizes = np.empty(len(node_type), np.int64)
    for i in range(len(node_type)):
        sizes[i] = _node_size(i, name_off, dep_ptr, deps_c, data_ptr, deps_d, node_type, start_us, dur_us, is_cpu,
                              comm_type, size_bytes, attr_len)
        total += _varint_size(sizes[i]) + sizes[i]
    out = np.empty(total, np.uint8)
    at = 0
    for i in range(len(node_type)):
        at = _put_varint(out, at, sizes[i])
        at = _put_varint(out, at, 1 << 3)
        at = _put_varint(out, at, i)
        name_len = name_off[i + 1] - name_off[i]
        at = _put_varint(out, at, (2 << 3) | 2)
        at = _put_varint(out, at, name_len)
        out[at:at + name_len] = name_data[name_off[i]:name_off[i + 1]]
        at += name_len
        at = _put_varint(out, at, 3 << 3)
        at = _put_varint(out, at, node_type[i])
        for field, ptr, deps in ((4, dep_ptr, deps_c), (5, data_ptr, deps_d)):
            if ptr[i + 1] > ptr[i]:
                packed = 0
                for k in range(ptr[i], ptr[i + 1]):
                    packed += _varint_size(deps[k])
                at = _put_varint(out, at, (field << 3) | 2)
                at = _put_varint(out, at, packed)
                for k in range(ptr[i], ptr[i + 1]):
                    at = _put_varint(out, at, deps[k])
        at = _put_varint(out, at, 6 << 3)
        at = _put_varint(out, at, start_us[i])
        at = _put_varint(out, at, 7 << 3)
        at = _put_varint(out, at, dur_us[i])
        at = _put_attr(out, at, attr_names, attr_off, 0, 27, 1 if is_cpu[i] else 0)
        if comm_type[i] >= 0:
            at = _put_attr(out, at, attr_names, attr_off, 1, 9, comm_type[i])
            at = _put_attr(out, at, attr_names, attr_off, 2, 9, max(size_bytes[i], 0))
        elif size_bytes[i] >= 0:
            at = _put_attr(out, at, attr_names, attr_off, 3, 9, size_bytes[i])
    return out


def _strings(values) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes and offsets of a column of strings (Arrow's own buffers: no per-string Python)."""
    array = pa.array(values, pa.large_string()).cast(pa.large_binary())
    offsets = np.frombuffer(array.buffers()[1], np.int64, len(array) + 1).copy()
    data = np.frombuffer(array.buffers()[2], np.uint8) if array.buffers()[2] is not None else np.zeros(0, np.uint8)
    return data.copy(), offsets - offsets[0]


def _csr(dst: np.ndarray, src: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each node's dependencies (src) as row pointers over nodes and the sources in order."""
    order = np.lexsort((src, dst))
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(dst, minlength=n), out=ptr[1:])
    return ptr, src[order].astype(np.int64)


def _previous_on_lane(lane: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(node, the node before it on its lane) for the nodes `mask` selects (nodes are in start order)."""
    idx = np.flatnonzero(mask)
    order = idx[np.argsort(lane[idx], kind="stable")]
    same = lane[order][1:] == lane[order][:-1]
    return order[1:][same], order[:-1][same]


def _graph_edges(graph) -> tuple[np.ndarray, np.ndarray]:
    """(source event, destination event) of every edge of a trace's replay graph between two
    events: what each event waits for (a launch, the op before it on its stream, a synchronize's
    GPU work, another stream's event, a full launch queue), as the replayer times them."""
    src_ev, dst_ev = graph.point_event[graph.src], graph.point_event[graph.dst]
    between = src_ev != dst_ev
    return src_ev[between].astype(np.int64), dst_ev[between].astype(np.int64)


def metadata_message() -> bytes:
    """The file's first message: GlobalMetadata {version = 1}, length-prefixed."""
    version = VERSION.encode()
    body = bytes([(1 << 3) | 2, len(version)]) + version
    return bytes([len(body)]) + body


def export_trace(con: duckdb.DuckDBPyConnection, trace_id: int, out: str | os.PathLike,
                 store_path: str | None = None, graph=None) -> dict[str, int]:
    """Write trace `trace_id` as one Chakra ET file; returns its node and edge counts and bytes.
    `graph`: its replay graph where the caller has it, else from the cache beside `store_path`, the
    store's file, where a replay built it already (retime/replay/cache.py)."""
    if graph is None:
        from retime.replay import cache
        graph = cache.graph(con, trace_id, store_path)
    foundation.load(con, "comm", "kinds")
    nodes = con.execute(load_sql(PACKAGE, "export_chakra_nodes"), {"trace_id": trace_id}).fetchnumpy()
    n = len(nodes["event_id"])
    event_ids = nodes["event_id"].astype(np.int64)
    lane = nodes["lane_id"].astype(np.int64)
    on_gpu = nodes["on_gpu"].astype(bool)
    position = np.full(int(event_ids.max()) + 1 if n else 0, -1, np.int64)
    position[event_ids] = np.arange(n)
    # the replay graph's edges between events: launches, waits, cross-stream waits, back-pressure
    src_ev, dst_ev = _graph_edges(graph)
    inside = (src_ev < len(position)) & (dst_ev < len(position))
    src, dst = position[src_ev[inside]], position[dst_ev[inside]]
    thread_next, thread_prev = _previous_on_lane(lane, ~on_gpu)
    stream_next, stream_prev = _previous_on_lane(lane, on_gpu)
    src, dst = np.concatenate([src, thread_prev]), np.concatenate([dst, thread_next])
    # a dependency between two exported nodes, pointing back in start order, once, and not also a data dependency
    kept = (src >= 0) & (dst >= 0) & (src < dst)
    pairs = np.unique(np.stack([dst[kept], src[kept]], axis=1), axis=0).reshape(-1, 2)
    is_data = np.isin(pairs[:, 0] * (n + 1) + pairs[:, 1], stream_next * (n + 1) + stream_prev)
    ctrl_ptr, ctrl = _csr(pairs[~is_data, 0], pairs[~is_data, 1], n)
    data_ptr, data = _csr(stream_next, stream_prev, n)
    name_data, name_off = _strings(nodes["name"])
    attr_data, attr_off = _strings(list(ATTR_NAMES))
    body = encode_nodes(name_data, name_off, ctrl_ptr, ctrl, data_ptr, data, nodes["node_type"].astype(np.int64),
                        np.maximum(nodes["start_us"].astype(np.int64), 0), np.maximum(nodes["dur_us"].astype(np.int64), 0),
                        ~on_gpu, nodes["comm_type"].astype(np.int64), nodes["size_bytes"].astype(np.int64),
                        attr_data, attr_off)
    head = metadata_message()
    with open(out, "wb") as fh:
        fh.write(head)
        fh.write(body.tobytes())
    return {"nodes": n, "ctrl_deps": int(len(ctrl)), "data_deps": int(len(data)), "bytes": len(head) + len(body)}


def export_job(con: duckdb.DuckDBPyConnection, ranks: list[tuple[int, int | None]], stem: str,
               folder: str | os.PathLike, store_path: str | None = None) -> list[tuple[Path, dict[str, int]]]:
    """Every rank of a job (trace id, rank) as `{folder}/{stem}.{rank}.et`, as ASTRA-sim's workload
    prefix `{folder}/{stem}` names them; a trace without a rank is rank 0. Ranks that are copies of
    another in time share its replay graph (retime/replay/job.py rank_graphs)."""
    from retime.replay.job import rank_graphs
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    graphs = rank_graphs(con, [trace_id for trace_id, _ in ranks], store_path)
    written = []
    for (trace_id, rank), graph in zip(ranks, graphs):
        path = folder / f"{stem}.{rank if rank is not None else 0}.et"
        written.append((path, export_trace(con, trace_id, path, store_path, graph)))
    return written
