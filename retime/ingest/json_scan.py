"""numba pass that finds a JSON trace's structure without parsing it.

A Chrome/Kineto file is one huge array of events wrapped in a small object of metadata. To hand
the array to DuckDB's columnar JSON reader we only need to know where it starts, where it ends,
and (for a file cut off mid-write) where the last complete event ends. One pass over the bytes,
tracking string/escape state and nesting depth, gives all three at memory speed; it runs chunk by
chunk so a file never has to be held whole.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# state vector carried between chunks
DEPTH, IN_STRING, ESCAPED, LAST_ELEMENT_END = 0, 1, 2, 3
STATE_SIZE = 4

# structural record kinds
STRING_START = 1   # a string opening at depth 1 (a top-level key or string value)
STRING_END = 2     # its closing quote
OPEN_ARRAY = 3     # '[' opening while at depth <= record_depth (position is the bracket)
OPEN_OBJECT = 4    # '{' likewise
CLOSE = 5          # ']' or '}' landing back at depth <= record_depth


def new_state() -> np.ndarray:
    """The scan's state before a file's first byte (carried from one chunk to the next)."""
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[LAST_ELEMENT_END] = -1
    return state


@njit(inline="always")
def _record(rec_pos, rec_kind, rec_depth, n, position, kind, depth):
    """Write structural record n; the next record's index."""
    rec_pos[n] = position
    rec_kind[n] = kind
    rec_depth[n] = depth
    return n + 1


@njit(cache=True, nogil=True)
def scan_structure(chunk, offset, state, record_depth, element_depth, rec_pos, rec_kind, rec_depth):
    """Scan `chunk` (uint8) whose first byte is at file position `offset`.

    Records containers that open at depth <= record_depth, the closes that return there, and
    strings at depth 1 when record_depth >= 1 (the top-level keys). Tracks in state the file
    position of the last '}' that returns to element_depth (the end of the last complete event).
    Stops early when the record buffers are full; returns (bytes consumed, records written).
    """
    depth = state[DEPTH]
    in_string = state[IN_STRING]
    escaped = state[ESCAPED]
    last_element_end = state[LAST_ELEMENT_END]
    capacity = rec_pos.shape[0]
    n = 0
    i = 0
    size = chunk.shape[0]
    while i < size and n < capacity - 1:
        c = chunk[i]
        if in_string:
            if escaped:
                escaped = 0
            elif c == 92:  # backslash
                escaped = 1
            elif c == 34:  # closing quote
                in_string = 0
                if depth == 1 and record_depth >= 1:
                    n = _record(rec_pos, rec_kind, rec_depth, n, offset + i, STRING_END, depth)
        elif c == 34:
            in_string = 1
            if depth == 1 and record_depth >= 1:
                n = _record(rec_pos, rec_kind, rec_depth, n, offset + i, STRING_START, depth)
        elif c == 123 or c == 91:  # '{' or '['
            if depth <= record_depth:
                n = _record(rec_pos, rec_kind, rec_depth, n, offset + i, OPEN_ARRAY if c == 91 else OPEN_OBJECT, depth)
            depth += 1
        elif c == 125 or c == 93:  # '}' or ']'
            depth -= 1
            if c == 125 and depth == element_depth:
                last_element_end = offset + i
            if depth <= record_depth:
                n = _record(rec_pos, rec_kind, rec_depth, n, offset + i, CLOSE, depth)
        i += 1
    state[DEPTH] = depth
    state[IN_STRING] = in_string
    state[ESCAPED] = escaped
    state[LAST_ELEMENT_END] = last_element_end
    return i, n
