"""Reader for XPlane protobufs (`*.xplane.pb`: the JAX / TensorFlow profiler's XSpace).

The file is decoded from its published schema by the numba passes of xplane_decode.py (no
protobuf runtime, no TensorFlow): the events of each line into arrays, the planes, lines and
metadata by walking their few records. The xplane_*.sql steps turn them into the kinds, lanes and
edges a Kineto trace gets:

- a device plane (`/device:GPU:N`): each `Stream #K(...)` line is the GPU lane (device N, stream K)
  of its kernels, copies (`Memcpy...`, `Copy...To...`), memsets and collectives (by name); its other
  lines (XLA Ops, XLA Modules, Steps) are GPU-side annotations on lanes of their own;
- the host plane (`/host:CPU`): each line is a CPU thread; an event carrying the correlation id of
  GPU work is the runtime call that launched it (a launch edge), the others CPU operators;
- other planes (`/host:metadata`, task environment, custom planes) hold no timeline and are left out.

An event's time is its line's timestamp_ns plus its offset_ps (rounded to the ns); aggregated events
(num_occurrences instead of an offset) are left out, and the trace's warnings say how many.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pyarrow as pa
from retime.ingest import xplane_decode as xd
from retime.ingest.trace_row import TraceRow, file_digest

from retime.core import arrow
from retime.core.errors import TraceFormatError
from retime.ingest import define_macros
from retime.core.sqlfiles import one_row, run_script, set_variables

PACKAGE = "retime.ingest"
DEVICE = re.compile(r"^/device:(?:GPU|TPU|CUSTOM:GPU):(\d+)")
STREAM = re.compile(r"^Stream #(\d+)")


@dataclass
class XSpace:
    """An XPlane file as found on disk, and after stage what it held."""
    path: Path
    sha256: str
    size_bytes: int
    json_bytes: int
    hostnames: list[str] = field(default_factory=list)
    aggregated: int = 0
    skipped_planes: list[str] = field(default_factory=list)


def prepare(path: Path, work_dir: Path, on_bytes: Callable[[int], None] | None = None) -> XSpace:
    """Hash the file (no store access); stage decodes it."""
    sha256, size = file_digest(path, on_bytes)
    return XSpace(path=path, sha256=sha256, size_bytes=size, json_bytes=size)


def _text(buf: np.ndarray, start: int, end: int) -> str:
    return buf[start:end].tobytes().decode("utf-8", errors="replace")


def _message(buf: np.ndarray, lo: int, hi: int, path: Path, what: str):
    number, wire, value, start, end, ok = xd.fields(buf, lo, hi)
    if not ok:
        raise TraceFormatError(f"{path}: not a readable XPlane protobuf: {what} is cut off or damaged")
    return number, wire, value, start, end


def _metadata(buf: np.ndarray, lo: int, hi: int, path: Path) -> tuple[int, str]:
    """(id, name) of one map<int64, XEventMetadata / XStatMetadata> entry: its value's display name
    where it has one, else its name."""
    number, wire, value, start, end = _message(buf, lo, hi, path, "a metadata entry")
    key = int(value[number == 1][0]) if (number == 1).any() else 0
    names = {}
    for s, e in zip(start[(number == 2) & (wire == xd.LENGTH)], end[(number == 2) & (wire == xd.LENGTH)]):
        n2, w2, v2, s2, e2 = _message(buf, int(s), int(e), path, "a metadata entry")
        for f in (2, 4):
            hit = (n2 == f) & (w2 == xd.LENGTH)
            if hit.any():
                names[f] = _text(buf, int(s2[hit][0]), int(e2[hit][0]))
    return key, names.get(4) or names.get(2) or ""


def stage(con: duckdb.DuckDBPyConnection, space: XSpace) -> None:
    """Before the store's transaction, in temporary tables only: the planes' lines and events,
    decoded (xplane_stage.sql)."""
    define_macros(con)
    buf = np.frombuffer(space.path.read_bytes(), np.uint8)
    number, wire, _, start, end = _message(buf, 0, len(buf), space.path, "the XSpace")
    if not ((number == 1) & (wire == xd.LENGTH)).any():
        raise TraceFormatError(f"{space.path}: an XPlane protobuf with no planes")
    space.hostnames = [_text(buf, int(s), int(e)) for s, e in zip(start[number == 4], end[number == 4])]
    lines, events, names = [], [], []
    for p_lo, p_hi in zip(start[(number == 1) & (wire == xd.LENGTH)], end[(number == 1) & (wire == xd.LENGTH)]):
        pn, pw, pv, ps, pe = _message(buf, int(p_lo), int(p_hi), space.path, "a plane")
        name_at = np.flatnonzero((pn == 2) & (pw == xd.LENGTH))
        plane_name = _text(buf, int(ps[name_at[0]]), int(pe[name_at[0]])) if len(name_at) else ""
        device = DEVICE.match(plane_name)
        if not (device or plane_name == "/host:CPU"):
            if ((pn == 3) & (pw == xd.LENGTH)).any():
                space.skipped_planes.append(plane_name)
            continue
        stat_names = dict(_metadata(buf, int(s), int(e), space.path) for s, e in zip(ps[pn == 5], pe[pn == 5]))
        correlation_stat = next((k for k, v in stat_names.items() if v == "correlation_id"), -1)
        for m_lo, m_hi in zip(ps[(pn == 4) & (pw == xd.LENGTH)], pe[(pn == 4) & (pw == xd.LENGTH)]):
            key, text = _metadata(buf, int(m_lo), int(m_hi), space.path)
            names.append((plane_name, key, text))
        for l_lo, l_hi in zip(ps[(pn == 3) & (pw == xd.LENGTH)], pe[(pn == 3) & (pw == xd.LENGTH)]):
            ln, lw, lv, ls, le = _message(buf, int(l_lo), int(l_hi), space.path, "a line")
            line_name = ""
            for f in (11, 2):  # its display name where it has one
                hit = (ln == f) & (lw == xd.LENGTH)
                if hit.any() and not line_name:
                    line_name = _text(buf, int(ls[hit][0]), int(le[hit][0]))
            line_id = int(lv[ln == 1][0]) if (ln == 1).any() else len(lines)
            timestamp_ns = int(lv[ln == 3][0]) if (ln == 3).any() else 0
            meta, offset_ps, duration_ps, corr, aggregated, ok = xd.line_events(buf, int(l_lo), int(l_hi), correlation_stat)
            if not ok:
                raise TraceFormatError(f"{space.path}: not a readable XPlane protobuf: an event of line "
                                       f"{line_name!r} is cut off or damaged")
            space.aggregated += int(aggregated.sum())
            lane = len(lines)
            lines.append((lane, plane_name, int(device.group(1)) if device else None, line_id, line_name))
            keep = ~aggregated
            start_ns = timestamp_ns + (offset_ps[keep] + 500) // 1000
            events.append(arrow.table({
                "lane": np.full(int(keep.sum()), lane, np.int32), "metadata_id": meta[keep], "start_ns": start_ns,
                "end_ns": timestamp_ns + (offset_ps[keep] + duration_ps[keep] + 500) // 1000,
                "correlation": np.where(corr[keep] >= 0, corr[keep], 0).astype(np.int64),
                "has_correlation": corr[keep] >= 0}))
    lanes, planes, devices, line_ids, line_names = zip(*lines) if lines else ((),) * 5
    name_planes, metadata_ids, name_texts = zip(*names) if names else ((),) * 3
    tables = {
        "xplane_lines_in": arrow.table({
            "lane": arrow.numbers(lanes, pa.int32()), "plane": arrow.strings(planes),
            "device": arrow.numbers(devices, pa.int32()), "line_id": arrow.numbers(line_ids, pa.int64()),
            "line_name": arrow.strings(line_names)}),
        "xplane_events_in": pa.concat_tables(events) if events else arrow.table({
            "lane": np.zeros(0, np.int32), "metadata_id": np.zeros(0, np.int64), "start_ns": np.zeros(0, np.int64),
            "end_ns": np.zeros(0, np.int64), "correlation": np.zeros(0, np.int64), "has_correlation": np.zeros(0, bool)}),
        "xplane_names_in": arrow.table({"plane": arrow.strings(name_planes),
                                        "metadata_id": arrow.numbers(metadata_ids, pa.int64()),
                                        "name": arrow.strings(name_texts)}),
    }
    for name, table in tables.items():
        con.register(name, table)
    try:
        run_script(con, PACKAGE, "xplane_stage")
    finally:
        for name in tables:
            con.unregister(name)


def load(con: duckdb.DuckDBPyConnection, space: XSpace, new_trace_id: Callable[[], int]) -> list[TraceRow]:
    """Inside the caller's transaction, after stage: write the space as one trace."""
    trace_id = new_trace_id()
    set_variables(con, trace_id=trace_id)
    run_script(con, PACKAGE, "xplane_write")
    facts = one_row(con, PACKAGE, "xplane_summary")
    if not facts["events"]:
        raise TraceFormatError(f"{space.path}: an XPlane protobuf with no timeline events on its host or device planes")
    warnings = []
    if space.aggregated:
        warnings.append(f"{space.aggregated:,} aggregated events (counts without times) were left out")
    if space.skipped_planes:
        warnings.append(f"planes without a host or GPU timeline were left out: {', '.join(space.skipped_planes)}")
    if facts["dropped"]:
        warnings.append(f"{facts['dropped']:,} events ending before they start were dropped")
    if not facts["launches"]:
        warnings.append("no host event carries the correlation id of GPU work: no launch edges")
    return [TraceRow(
        trace_id=trace_id, format="xplane", sha256=space.sha256, size_bytes=space.size_bytes,
        rank=None, world_size=None, backend=None, gpu_names=None, device_properties=None, distributed_info=None,
        metadata={"xplane": {"hostnames": space.hostnames}}, time_base_ns=0,
        start_ns=facts["start_ns"], end_ns=facts["end_ns"], event_count=facts["events"], lane_count=facts["lanes"],
        warnings=warnings)]


def explain(path: Path, space: XSpace, exc: Exception) -> str:
    """One readable line naming the file, for a space that could not be written."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{path}: not a readable XPlane protobuf ({first})"
