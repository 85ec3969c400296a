"""numba passes that find the fields of Chrome trace events in the bytes of an events array.

`scan_events` walks the array one event (a JSON object) at a time and, for each of the keys the
store reads (FIELDS), records where its value starts and ends and what kind of JSON token it is;
other keys' values are walked past. It checks the JSON as it goes (RFC 8259: strings, escapes,
UTF-8, numbers, nesting) and stops with a reason at anything it does not take on itself: malformed
JSON, a key written with escapes, a key twice, an element that is not an object. The caller then
reads the file with DuckDB's JSON reader instead, which gives the same store or its own error.

`measure` sizes the fields' columns, `gather` copies their values out of the buffer into Arrow
string columns (a string's characters when it has no escapes, any other token's text, an object or
array with the whitespace between its tokens taken out), and `nanoseconds` turns the times into
whole nanoseconds as chrome_read.sql rounds them.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from retime.ingest import kineto_args

# the keys whose values the store reads, in column order (chrome_read.sql reads the same ones)
FIELDS = ("ph", "cat", "name", "pid", "tid", "ts", "dur", "id", "bp", "s", "bind_id", "flow_in", "flow_out", "args")
ARGS = FIELDS.index("args")
# the keys of `args` the store reads, as retime/ingest/kineto_args.toml declares them (DuckDB's reader,
# chrome_read.sql, reads the same ones); of a key written twice the first counts, as in DuckDB's JSON functions
ARG_KEYS = kineto_args.keys()

# token kinds, one per field per event
MISSING, STRING, STRING_ESCAPED, INT, DECIMAL, NUMBER, TRUE, FALSE, NULL, CONTAINER, CONTAINER_ESCAPED = range(11)
# INT: an integer of at most 18 digits, not "-0" (its text is what DuckDB writes for it);
# DECIMAL: digits with a fraction and no exponent, at most 30 before the point;
# NUMBER: any other number; CONTAINER: an object or array holding only strings without escapes,
# INTs, true, false and null (whitespace taken out, its text is DuckDB's JSON for it);
# CONTAINER_ESCAPED: any other object or array.

# why a scan stopped
DONE, BATCH_FULL, UNSUPPORTED = 0, 1, 2

MAX_DEPTH = 512
INT_DIGITS = 18
DECIMAL_DIGITS = 30


def key_table() -> tuple[np.ndarray, np.ndarray]:
    """FIELDS then ARG_KEYS as one byte array and its offsets, the form the kernel matches keys against."""
    keys = FIELDS + ARG_KEYS
    data = np.frombuffer("".join(keys).encode(), dtype=np.uint8).copy()
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(f) for f in keys])
    return data, offsets


# what the scan expects next
VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, COLON, AFTER_VALUE = range(6)
ARRAY, OBJECT = 0, 1


@njit(cache=True, nogil=True)
def scan_events(buf, pos, keys, key_offsets, starts, ends, kinds):
    """Record the fields of the events from byte `pos` of `buf` (its '[' when pos is 0, else
    where the previous call stopped) until the array ends or `starts` is full: FIELDS in the
    first columns, then the ARG_KEYS of an `args` object. Returns (status,
    events written, the position to go on from; for UNSUPPORTED, where the trouble is).

    One loop over the bytes with the grammar's state in variables: calls to helpers taking the
    buffer cost more than the bytes they look at (numba counts references to the array at each)."""
    n = buf.shape[0]
    capacity = starts.shape[0]
    n_fields = starts.shape[1]
    n_top = len(FIELDS)
    stack = np.empty(MAX_DEPTH, dtype=np.uint8)  # the open containers: the events array, an event, ...
    stack[0] = ARRAY
    depth = 1
    state = VALUE
    i = pos
    if pos == 0:
        while i < n and (buf[i] == 32 or buf[i] == 10 or buf[i] == 13 or buf[i] == 9):
            i += 1
        if i >= n or buf[i] != 91:
            return UNSUPPORTED, 0, pos
        i += 1
        state = VALUE_OR_CLOSE
    written = 0
    field = -1          # the event's key being read (-1: one the store does not read)
    value_start = 0     # where that key's value starts
    plain = True        # whether that value, a container, holds only tokens written as DuckDB writes them
    arg_field = -1      # likewise for a key of the event's args object
    arg_start = 0
    arg_plain = True
    while True:
        while i < n and (buf[i] == 32 or buf[i] == 10 or buf[i] == 13 or buf[i] == 9):
            i += 1
        if i >= n:
            return UNSUPPORTED, written, i
        c = buf[i]
        close = False
        if state == VALUE or state == VALUE_OR_CLOSE:
            if state == VALUE_OR_CLOSE and c == 93:
                close = True
            elif depth == 1:  # an element of the events array: an object, or null (a row of nothing)
                if written == capacity:
                    return BATCH_FULL, written, i
                for f in range(n_fields):
                    kinds[written, f] = MISSING
                if c == 123:
                    stack[1] = OBJECT
                    depth = 2
                    state = KEY_OR_CLOSE
                    i += 1
                    continue
                if c == 110 and i + 3 < n and buf[i + 1] == 117 and buf[i + 2] == 108 and buf[i + 3] == 108:
                    written += 1
                    i += 4
                    state = AFTER_VALUE
                    continue
                return UNSUPPORTED, written, i
            else:
                if depth == 2:
                    value_start = i
                    plain = True
                elif depth == 3:
                    arg_start = i
                    arg_plain = True
                kind = NULL
                if c == 34:  # a string
                    kind = STRING
                    i += 1
                    while True:
                        if i >= n:
                            return UNSUPPORTED, written, i
                        b = buf[i]
                        if b == 34:
                            i += 1
                            break
                        if b == 92:
                            kind = STRING_ESCAPED
                            if i + 1 >= n:
                                return UNSUPPORTED, written, i
                            d = buf[i + 1]
                            if d == 117:  # \uXXXX; a surrogate half only as the first of a pair
                                if i + 5 >= n:
                                    return UNSUPPORTED, written, i
                                for k in range(2, 6):
                                    h = buf[i + k]
                                    if not ((48 <= h <= 57) or (65 <= h <= 70) or (97 <= h <= 102)):
                                        return UNSUPPORTED, written, i
                                h0 = buf[i + 2] | 32
                                h1 = buf[i + 3] | 32
                                if h0 == 100 and 99 <= h1 <= 102:
                                    return UNSUPPORTED, written, i  # a low half alone: malformed for DuckDB
                                if h0 == 100 and (h1 == 56 or h1 == 57 or h1 == 97 or h1 == 98):
                                    # a high half: its low half must follow (\uDC00-\uDFFF)
                                    if i + 11 >= n or buf[i + 6] != 92 or buf[i + 7] != 117:
                                        return UNSUPPORTED, written, i
                                    for k in range(8, 12):
                                        h = buf[i + k]
                                        if not ((48 <= h <= 57) or (65 <= h <= 70) or (97 <= h <= 102)):
                                            return UNSUPPORTED, written, i
                                    if not ((buf[i + 8] | 32) == 100 and 99 <= (buf[i + 9] | 32) <= 102):
                                        return UNSUPPORTED, written, i
                                    i += 6
                                i += 6
                            elif d == 34 or d == 92 or d == 47 or d == 98 or d == 102 or d == 110 or d == 114 or d == 116:
                                i += 2
                            else:
                                return UNSUPPORTED, written, i
                        elif b < 32:
                            return UNSUPPORTED, written, i
                        elif b < 128:
                            i += 1
                        elif 194 <= b <= 223:  # UTF-8 (RFC 3629)
                            if i + 1 >= n or not (128 <= buf[i + 1] <= 191):
                                return UNSUPPORTED, written, i
                            i += 2
                        elif 224 <= b <= 239:
                            lo = 160 if b == 224 else 128
                            hi = 159 if b == 237 else 191
                            if i + 2 >= n or not (lo <= buf[i + 1] <= hi) or not (128 <= buf[i + 2] <= 191):
                                return UNSUPPORTED, written, i
                            i += 3
                        elif 240 <= b <= 244:
                            lo = 144 if b == 240 else 128
                            hi = 143 if b == 244 else 191
                            if i + 3 >= n or not (lo <= buf[i + 1] <= hi) or not (128 <= buf[i + 2] <= 191) \
                                    or not (128 <= buf[i + 3] <= 191):
                                return UNSUPPORTED, written, i
                            i += 4
                        else:
                            return UNSUPPORTED, written, i
                elif c == 45 or 48 <= c <= 57:  # a number
                    start = i
                    if c == 45:
                        i += 1
                    if i >= n:
                        return UNSUPPORTED, written, i
                    if buf[i] == 48:
                        i += 1
                        if i < n and 48 <= buf[i] <= 57:
                            return UNSUPPORTED, written, i  # a leading zero
                    elif 49 <= buf[i] <= 57:
                        while i < n and 48 <= buf[i] <= 57:
                            i += 1
                    else:
                        return UNSUPPORTED, written, i
                    int_digits = i - start - (1 if c == 45 else 0)
                    kind = INT
                    if c == 45 and int_digits == 1 and buf[start + 1] == 48:
                        kind = NUMBER  # "-0": DuckDB writes 0
                    elif int_digits > INT_DIGITS:
                        kind = NUMBER
                    if i < n and buf[i] == 46:
                        kind = DECIMAL if int_digits <= DECIMAL_DIGITS else NUMBER
                        i += 1
                        if i >= n or not (48 <= buf[i] <= 57):
                            return UNSUPPORTED, written, i
                        while i < n and 48 <= buf[i] <= 57:
                            i += 1
                    if i < n and (buf[i] == 101 or buf[i] == 69):
                        kind = NUMBER
                        i += 1
                        if i < n and (buf[i] == 43 or buf[i] == 45):
                            i += 1
                        if i >= n or not (48 <= buf[i] <= 57):
                            return UNSUPPORTED, written, i
                        while i < n and 48 <= buf[i] <= 57:
                            i += 1
                elif c == 116:
                    if not (i + 3 < n and buf[i + 1] == 114 and buf[i + 2] == 117 and buf[i + 3] == 101):
                        return UNSUPPORTED, written, i
                    kind = TRUE
                    i += 4
                elif c == 102:
                    if not (i + 4 < n and buf[i + 1] == 97 and buf[i + 2] == 108 and buf[i + 3] == 115
                            and buf[i + 4] == 101):
                        return UNSUPPORTED, written, i
                    kind = FALSE
                    i += 5
                elif c == 110:
                    if not (i + 3 < n and buf[i + 1] == 117 and buf[i + 2] == 108 and buf[i + 3] == 108):
                        return UNSUPPORTED, written, i
                    i += 4
                elif c == 123 or c == 91:
                    if depth >= MAX_DEPTH:
                        return UNSUPPORTED, written, i
                    stack[depth] = OBJECT if c == 123 else ARRAY
                    depth += 1
                    state = KEY_OR_CLOSE if c == 123 else VALUE_OR_CLOSE
                    i += 1
                    continue
                else:
                    return UNSUPPORTED, written, i
                if depth == 2:
                    if field >= 0:
                        starts[written, field] = value_start
                        ends[written, field] = i
                        kinds[written, field] = kind
                else:
                    if kind != STRING and kind != INT and kind != TRUE and kind != FALSE and kind != NULL:
                        plain = False
                        arg_plain = False
                    if depth == 3 and arg_field >= 0 and kinds[written, arg_field] == MISSING:
                        starts[written, arg_field] = arg_start
                        ends[written, arg_field] = i
                        kinds[written, arg_field] = kind
                state = AFTER_VALUE
                continue
        elif state == AFTER_VALUE:
            top = stack[depth - 1]
            if c == 44:
                state = KEY if top == OBJECT else VALUE
                i += 1
                continue
            if (c == 125 and top == OBJECT) or (c == 93 and top == ARRAY):
                close = True
            else:
                return UNSUPPORTED, written, i
        elif state == KEY or state == KEY_OR_CLOSE:
            if state == KEY_OR_CLOSE and c == 125:
                close = True
            elif c != 34:
                return UNSUPPORTED, written, i
            else:
                key_start = i + 1
                i += 1
                while True:  # a key
                    if i >= n:
                        return UNSUPPORTED, written, i
                    b = buf[i]
                    if b == 34:
                        break
                    if b == 92 or b < 32 or b >= 128:
                        return UNSUPPORTED, written, i  # a key with escapes or beyond ASCII: left to DuckDB
                    i += 1
                key_end = i
                i += 1
                if depth == 2 or (depth == 3 and field == ARGS and stack[2] == OBJECT):
                    found = -1
                    length = key_end - key_start
                    for f in range(0 if depth == 2 else n_top, n_top if depth == 2 else n_fields):
                        k0 = key_offsets[f]
                        if key_offsets[f + 1] - k0 != length:
                            continue
                        same = True
                        for k in range(length):
                            if buf[key_start + k] != keys[k0 + k]:
                                same = False
                                break
                        if same:
                            found = f
                            break
                    if depth == 3:
                        arg_field = found
                    else:
                        field = found
                        arg_field = -1
                        if field >= 0 and kinds[written, field] != MISSING:
                            return UNSUPPORTED, written, i  # a key twice: DuckDB refuses the event
                elif depth == 3:
                    arg_field = -1
                state = COLON
                continue
        else:  # COLON
            if c != 58:
                return UNSUPPORTED, written, i
            state = VALUE
            i += 1
            continue
        if close:
            depth -= 1
            i += 1
            state = AFTER_VALUE
            if depth == 0:  # the events array: only whitespace may follow
                while i < n and (buf[i] == 32 or buf[i] == 10 or buf[i] == 13 or buf[i] == 9):
                    i += 1
                if i != n:
                    return UNSUPPORTED, written, i
                return DONE, written, i
            if depth == 1:
                written += 1
            elif depth == 2 and field >= 0:
                starts[written, field] = value_start
                ends[written, field] = i
                kinds[written, field] = CONTAINER if plain else CONTAINER_ESCAPED
            elif depth == 3 and arg_field >= 0 and kinds[written, arg_field] == MISSING:
                starts[written, arg_field] = arg_start
                ends[written, arg_field] = i
                kinds[written, arg_field] = CONTAINER if arg_plain else CONTAINER_ESCAPED


@njit(cache=True, nogil=True)
def gather(buf, starts, ends, kinds, columns, unquoted, bases, out_offsets, out_data):
    """Copy the values of fields `columns` into out_data, column c's from bases[c] on, with its
    Arrow offsets (relative to its base) in out_offsets[c]. A STRING gives its characters where
    unquoted[c] (a VARCHAR column) and its whole token otherwise (a JSON column); a CONTAINER loses
    the whitespace between its tokens; any other kind gives its token's text; MISSING and NULL
    give nothing (the caller marks them null). Returns each column's bytes written."""
    sizes = np.zeros(columns.shape[0], dtype=np.int64)
    for c in range(columns.shape[0]):
        column = columns[c]
        strip = unquoted[c]
        at = bases[c]
        base = at
        out_offsets[c, 0] = 0
        for e in range(starts.shape[0]):
            kind = kinds[e, column]
            if kind != MISSING and kind != NULL:
                lo = starts[e, column]
                hi = ends[e, column]
                if kind == STRING and strip:
                    lo += 1
                    hi -= 1
                if kind == CONTAINER:
                    in_string = False
                    for k in range(lo, hi):
                        b = buf[k]
                        if in_string:
                            if b == 34:
                                in_string = False
                        elif b == 34:
                            in_string = True
                        elif b == 32 or b == 10 or b == 13 or b == 9:
                            continue
                        out_data[at] = b
                        at += 1
                else:
                    out_data[at:at + hi - lo] = buf[lo:hi]
                    at += hi - lo
            out_offsets[c, e + 1] = at - base
        sizes[c] = at - base
    return sizes


@njit(cache=True, nogil=True)
def nanoseconds(buf, starts, ends, kinds, column, out):
    """Field `column`'s numbers (INT or DECIMAL microseconds) as whole nanoseconds, as
    chrome_read.sql computes them (DECIMAL(38,6), times 1000, rounded; each rounding half away
    from zero) in out; False where one would not fit in 64 bits (the caller leaves the file to
    DuckDB's reader)."""
    for e in range(starts.shape[0]):
        kind = kinds[e, column]
        if kind != INT and kind != DECIMAL:
            out[e] = 0
            continue
        i = starts[e, column]
        end = ends[e, column]
        negative = buf[i] == 45
        if negative:
            i += 1
        whole = 0
        digits = 0
        while i < end and buf[i] != 46:
            whole = whole * 10 + (buf[i] - 48)
            digits += 1
            i += 1
        if digits > 16 or whole > 9_223_372_036_854_774:
            return False  # would not fit in 64 bits as nanoseconds
        micro = 0  # the first six digits after the point, rounded at the seventh
        if i < end:
            i += 1
            for k in range(6):
                micro = micro * 10
                if i < end:
                    micro += buf[i] - 48
                    i += 1
            if i < end and buf[i] >= 53:
                micro += 1
        ns = whole * 1000 + micro // 1000 + (1 if micro % 1000 >= 500 else 0)
        out[e] = -ns if negative else ns
    return True


@njit(cache=True, nogil=True)
def measure(starts, ends, kinds, columns, as_is, present, delegated):
    """For fields `columns` of each event: whether it has a value (present[e, c]), a bit per
    field whose token DuckDB converts (delegated[e], where as_is[kind] is False), and the bytes
    each field's column needs at most (returned)."""
    room = np.zeros(columns.shape[0], dtype=np.int64)
    for e in range(starts.shape[0]):
        bits = 0
        for c in range(columns.shape[0]):
            column = columns[c]
            kind = kinds[e, column]
            has = kind != MISSING and kind != NULL
            present[e, c] = has
            if has:
                room[c] += ends[e, column] - starts[e, column]
                if not as_is[kind]:
                    bits |= 1 << c
        delegated[e] = bits
    return room
