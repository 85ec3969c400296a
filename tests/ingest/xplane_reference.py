"""An XPlane file's timeline events read independently of retime's decoder: a plain-Python walk of
the protobuf wire format over the published schema (xplane.proto), for tests on small real files."""
from __future__ import annotations

import re


def _varint(b: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = b[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(b: bytes, lo: int, hi: int):
    i = lo
    while i < hi:
        key, i = _varint(b, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(b, i)
            yield number, value
        elif wire == 2:
            n, i = _varint(b, i)
            yield number, (i, i + n)
            i += n
        elif wire == 1:
            yield number, None
            i += 8
        elif wire == 5:
            yield number, None
            i += 4
        else:
            raise ValueError(f"wire type {wire}")


def _names(b: bytes, entry: tuple[int, int]) -> tuple[int, str]:
    key, names = 0, {}
    for number, value in _fields(b, *entry):
        if number == 1:
            key = value
        elif number == 2:
            for f, v in _fields(b, *value):
                if f in (2, 4) and isinstance(v, tuple):
                    names[f] = b[v[0]:v[1]].decode("utf-8", "replace")
    return key, names.get(4) or names.get(2) or ""


def timeline(path) -> list[dict]:
    """Every timed event of the host (/host:CPU) and GPU (/device:GPU:N) planes: plane, line name,
    event name, start and end (ns, rounded as the line's timestamp_ns plus offset_ps), correlation id."""
    b = path.read_bytes()
    out = []
    for number, plane in _fields(b, 0, len(b)):
        if number != 1:
            continue
        fields = list(_fields(b, *plane))
        name = next((b[v[0]:v[1]].decode() for f, v in fields if f == 2), "")
        if not (re.match(r"^/device:GPU:\d+", name) or name == "/host:CPU"):
            continue
        metadata = dict(_names(b, v) for f, v in fields if f == 4)
        stats = dict(_names(b, v) for f, v in fields if f == 5)
        correlation_stat = next((k for k, v in stats.items() if v == "correlation_id"), None)
        for f, line in fields:
            if f != 3:
                continue
            line_fields = list(_fields(b, *line))
            line_name = next((b[v[0]:v[1]].decode() for g, v in line_fields if g == 11), None) or \
                next((b[v[0]:v[1]].decode() for g, v in line_fields if g == 2), "")
            timestamp = next((v for g, v in line_fields if g == 3), 0)
            for g, event in line_fields:
                if g != 4:
                    continue
                e = {"metadata": 0, "offset": 0, "duration": 0, "aggregated": False, "correlation": None}
                for h, v in _fields(b, *event):
                    if h == 1:
                        e["metadata"] = v
                    elif h == 2:
                        e["offset"] = v
                    elif h == 3:
                        e["duration"] = v
                    elif h == 5:
                        e["aggregated"] = True
                    elif h == 4:
                        stat = dict(_fields(b, *v))
                        if correlation_stat is not None and stat.get(1) == correlation_stat:
                            e["correlation"] = next(stat[k] for k in (3, 4, 7) if k in stat)
                if e["aggregated"]:
                    continue
                out.append({"plane": name, "line": line_name, "name": metadata.get(e["metadata"]) or f"event {e['metadata']}",
                            "start": timestamp + (e["offset"] + 500) // 1000,
                            "end": timestamp + (e["offset"] + e["duration"] + 500) // 1000,
                            "correlation": e["correlation"]})
    return out
