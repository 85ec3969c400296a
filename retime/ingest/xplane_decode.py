"""numba passes that decode an XPlane protobuf (`*.xplane.pb`, the JAX / TensorFlow profiler's
XSpace) from its published schema (tsl/profiler/protobuf/xplane.proto), without a protobuf
runtime: a message is a run of (field number, wire type, value) records, a nested message a
length-delimited range of the buffer. The reader (xplane.py) walks the few planes, lines and
metadata maps through `fields`; the events, which are most of a file, are decoded a line at a time
into arrays by `line_events`.

    XSpace          planes = 1 (XPlane), errors = 2, warnings = 3, hostnames = 4
    XPlane          id = 1, name = 2, lines = 3 (XLine), event_metadata = 4 (map<int64, XEventMetadata>),
                    stat_metadata = 5 (map<int64, XStatMetadata>), stats = 6 (XStat)
    XLine           id = 1, name = 2, timestamp_ns = 3, events = 4 (XEvent), duration_ps = 9,
                    display_id = 10, display_name = 11
    XEvent          metadata_id = 1, offset_ps = 2 | num_occurrences = 5, duration_ps = 3, stats = 4 (XStat)
    XStat           metadata_id = 1, double_value = 2 | uint64_value = 3 | int64_value = 4 |
                    str_value = 5 | bytes_value = 6 | ref_value = 7
    XEventMetadata  id = 1, name = 2, metadata = 3, display_name = 4, stats = 5, child_id = 6
    XStatMetadata   id = 1, name = 2, description = 3
"""
from __future__ import annotations

import numpy as np
from numba import njit

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


class DecodeError(ValueError):
    """The bytes are not a well-formed protobuf message where one was expected."""


@njit(cache=True, nogil=True)
def _varint(buf, i, hi):
    """(value, next position) of the varint at i; (-1, -1) where it runs past hi."""
    value = np.int64(0)
    shift = 0
    while i < hi and shift < 70:
        byte = np.int64(buf[i])
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i
    return np.int64(-1), np.int64(-1)


@njit(cache=True, nogil=True)
def _skip(buf, i, hi, wire):
    """The position after a field's value of wire type `wire` starting at i; -1 where malformed."""
    if wire == VARINT:
        _, j = _varint(buf, i, hi)
        return j
    if wire == FIXED64:
        return i + 8 if i + 8 <= hi else -1
    if wire == FIXED32:
        return i + 4 if i + 4 <= hi else -1
    if wire == LENGTH:
        n, j = _varint(buf, i, hi)
        if j < 0 or n < 0 or j + n > hi:
            return -1
        return j + n
    return -1


@njit(cache=True, nogil=True)
def fields(buf, lo, hi):
    """Every field of the message in buf[lo:hi]: number, wire type, and for varints the value,
    for length-delimited fields the start and end of their bytes. ok = False where malformed."""
    n = 0
    i = lo
    while i < hi:  # count first, so the arrays are allocated once
        key, i = _varint(buf, i, hi)
        if i < 0:
            break
        i = _skip(buf, i, hi, key & 7)
        if i < 0:
            break
        n += 1
    number = np.empty(n, np.int64)
    wire = np.empty(n, np.int64)
    value = np.zeros(n, np.int64)
    start = np.zeros(n, np.int64)
    end = np.zeros(n, np.int64)
    ok = True
    i = lo
    for k in range(n):
        key, i = _varint(buf, i, hi)
        number[k], wire[k] = key >> 3, key & 7
        if wire[k] == VARINT:
            value[k], i = _varint(buf, i, hi)
        elif wire[k] == LENGTH:
            size, j = _varint(buf, i, hi)
            start[k], end[k] = j, j + size
            i = j + size
        else:
            i = _skip(buf, i, hi, wire[k])
    if i != hi:
        ok = False
    return number, wire, value, start, end, ok


@njit(cache=True, nogil=True)
def line_events(buf, lo, hi, correlation_stat):
    """The events of the XLine in buf[lo:hi]: metadata id, offset and duration (ps), and the value
    of the stat whose metadata id is `correlation_stat` (-1 where absent); aggregated events (with
    num_occurrences instead of an offset) are flagged. ok = False where malformed."""
    n = 0
    i = lo
    while i < hi:
        key, i = _varint(buf, i, hi)
        if i < 0:
            break
        if key >> 3 == 4 and key & 7 == LENGTH:
            n += 1
        i = _skip(buf, i, hi, key & 7)
        if i < 0:
            break
    ok = i == hi
    metadata = np.zeros(n, np.int64)
    offset_ps = np.zeros(n, np.int64)
    duration_ps = np.zeros(n, np.int64)
    correlation = np.full(n, -1, np.int64)
    aggregated = np.zeros(n, np.bool_)
    k = 0
    i = lo
    while ok and i < hi and k < n:
        key, i = _varint(buf, i, hi)
        if not (key >> 3 == 4 and key & 7 == LENGTH):
            i = _skip(buf, i, hi, key & 7)
            continue
        size, i = _varint(buf, i, hi)
        e, e_hi = i, i + size
        i = e_hi
        while e < e_hi:
            ekey, e = _varint(buf, e, e_hi)
            if e < 0:
                ok = False
                break
            f, w = ekey >> 3, ekey & 7
            if w == VARINT and f in (1, 2, 3, 5):
                v, e = _varint(buf, e, e_hi)
                if f == 1:
                    metadata[k] = v
                elif f == 2:
                    offset_ps[k] = v
                elif f == 3:
                    duration_ps[k] = v
                else:
                    aggregated[k] = True
            elif f == 4 and w == LENGTH:  # a stat: its metadata id and an integer value
                ssize, s = _varint(buf, e, e_hi)
                s_hi = s + ssize
                e = s_hi
                stat_id = np.int64(-1)
                stat_value = np.int64(-1)
                while s < s_hi:
                    skey, s = _varint(buf, s, s_hi)
                    if s < 0:
                        ok = False
                        break
                    if skey & 7 == VARINT:
                        v, s = _varint(buf, s, s_hi)
                        if skey >> 3 == 1:
                            stat_id = v
                        elif skey >> 3 in (3, 4, 7):
                            stat_value = v
                    else:
                        s = _skip(buf, s, s_hi, skey & 7)
                        if s < 0:
                            ok = False
                            break
                if stat_id == correlation_stat and correlation_stat >= 0:
                    correlation[k] = stat_value
            else:
                e = _skip(buf, e, e_hi, w)
                if e < 0:
                    ok = False
                    break
        k += 1
    return metadata, offset_ps, duration_ps, correlation, aggregated, ok
