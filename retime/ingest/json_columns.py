"""The events array read straight from its bytes into Arrow columns, batch by batch.

json_tokens.scan_events finds each event's fields in the file (mapped, not read into memory);
json_tokens.gather copies each field's text into an Arrow column, json_tokens.nanoseconds turns
the times into integers; chrome_read_batch.sql takes the batches as one stream into the staging
table `raw` with the conversions DuckDB's JSON reader makes (chrome_read.sql, the definition this
reader must equal: the same rows, columns, types and order).
Tokens whose conversion is DuckDB's own business (a string with escapes, a float written as
text, an object with them) travel as their JSON text with a flag, and DuckDB converts them. A file
the kernel does not take on (malformed JSON, a key twice, an element that is not an object, a
timestamp that is not a plain number) is left to DuckDB's reader: `load_raw` says so and writes
nothing the reader does not replace.
"""
from __future__ import annotations

import itertools
import mmap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import numpy as np
import pyarrow as pa
from retime.ingest import json_tokens as tok
from retime.ingest import kineto_args

from retime.core import arrow
from retime.core.sqlfiles import run_script

PACKAGE = "retime.ingest"
BATCH_EVENTS = 1 << 17
VARCHAR_FIELDS = ("ph", "cat", "name", "pid", "tid", "id", "bp", "bind_id")
NUMBER_FIELDS = ("ts", "dur")
BOOLEAN_FIELDS = ("flow_in", "flow_out")
COLUMN = {name: k for k, name in enumerate(tok.FIELDS + tok.ARG_KEYS)}
# the fields that travel as text: Arrow column name, kernel column, strings without their quotes
TEXT = ([(name, COLUMN[name], True) for name in VARCHAR_FIELDS]
        + [(f"key_{k + 1}", COLUMN[key], True) for k, key in enumerate(tok.ARG_KEYS)] + [("args", COLUMN["args"], False)])
TEXT_NAMES = [name for name, _, _ in TEXT]
TEXT_COLUMNS = np.array([column for _, column, _ in TEXT], dtype=np.int64)
UNQUOTED = np.array([unquoted for _, _, unquoted in TEXT], dtype=np.bool_)
NUMBER_COLUMNS = np.array([COLUMN[name] for name in NUMBER_FIELDS], dtype=np.int64)
BOOLEAN_COLUMNS = np.array([COLUMN[name] for name in BOOLEAN_FIELDS], dtype=np.int64)


def key_bit(k: int) -> int:
    """The bit of `delegated` that says DuckDB converts args key k's token (1-based, ARG_KEYS' order)."""
    return 1 << TEXT_NAMES.index(f"key_{k}")


def args_bit() -> int:
    """The bit of `delegated` that says DuckDB converts the args object's text."""
    return 1 << TEXT_NAMES.index("args")


def _kinds(*kinds: int) -> np.ndarray:
    table = np.zeros(tok.CONTAINER_ESCAPED + 1, dtype=np.bool_)
    table[list(kinds)] = True
    return table


# by token kind: whether a text field's text is DuckDB's as it stands (else DuckDB converts the
# token: chrome_read_batch.sql), and the kinds the numbers and booleans may have (else the file
# goes to DuckDB's reader)
AS_IS = _kinds(tok.STRING, tok.INT, tok.TRUE, tok.FALSE, tok.CONTAINER)
NUMBER_OK = _kinds(tok.MISSING, tok.NULL, tok.INT, tok.DECIMAL)
BOOLEAN_OK = _kinds(tok.MISSING, tok.NULL, tok.TRUE, tok.FALSE)


def compiled() -> bool:
    """Whether the columnar reader's kernels would run without compiling first (retime/core/jit.py)."""
    from retime.core.jit import compiled as ready
    return ready(tok.scan_events) and ready(tok.gather)


def load_raw(con: duckdb.DuckDBPyConnection, events_path: Path, offset: int, size: int) -> bool:
    """Fill the temporary table `raw` from the events array, `size` bytes of `events_path` from
    `offset` (SplitTrace.events_range: where it lies in the trace file, or a file of its own), as
    chrome_read.sql would; False (and `raw` for chrome_read.sql to write) when the file is one for
    DuckDB's reader, and for an array without events, which that reader stages at no cost.

    DuckDB reads the batches as one stream, in one statement (as it reads the file in
    chrome_read.sql: appends of a batch each would sit uncompressed in the transaction until its
    commit). While it takes batch k, one thread builds batch k+1's Arrow columns and another scans
    batch k+2's events (numba and DuckDB both let go of the interpreter's lock)."""
    if size == 0:
        return False
    refused: list[bool] = []
    batches = _batches(np.memmap(events_path, dtype=np.uint8, mode="r", offset=offset, shape=(size,)), refused)
    first = next(batches, None)
    if first is None:
        return False
    con.register("event_batch", pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], batches)))
    try:
        run_script(con, PACKAGE, "chrome_read_batch", fill=kineto_args.fill())
    finally:
        con.unregister("event_batch")
        batches.close()
    return not refused


def _batches(buf: np.memmap, refused: list[bool]) -> Iterator[pa.RecordBatch]:
    """The events of `buf` as Arrow batches, in order, the next two on their way in threads while
    one is taken; it stops early, with `refused` set, at anything for DuckDB's reader."""
    scan, stopped = _scanner(buf)
    done_to = 0  # the file's pages before this are handed back once their batch is built
    # an event takes at least 3 bytes ('{}' and a comma): a small file needs small arrays, and one set
    rows, width = min(BATCH_EVENTS, buf.shape[0] // 3 + 1), len(tok.FIELDS) + len(tok.ARG_KEYS)
    sets = [(np.empty((rows, width), dtype=np.int64), np.empty((rows, width), dtype=np.int64),
             np.empty((rows, width), dtype=np.int8)) if k == 0 or rows == BATCH_EVENTS else None for k in range(3)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        scanned, built, k = pool.submit(scan, *sets[0]), None, 0
        while scanned is not None or built is not None:  # scan k, build k, hand over k-1
            building = None
            if scanned is not None:
                status, n = scanned.result()
                if status == tok.UNSUPPORTED:
                    refused.append(True)
                    return
                starts, ends, kinds = sets[k % 3]
                building = pool.submit(_batch, buf, starts[:n], ends[:n], kinds[:n]) if n else None
                scanned = pool.submit(scan, *sets[(k + 1) % 3]) if status == tok.BATCH_FULL else None
            if built is not None:
                batch = built.result()
                if batch is None:
                    refused.append(True)
                    return
                done_to = _release(buf, done_to, stopped[k - 1])  # where batch k-1's bytes end
                yield batch
            built, k = building, k + 1


def _scanner(buf: np.ndarray) -> tuple[Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[int, int]], list[int]]:
    """A function that scans the next batch of events of `buf` into the arrays it is given each
    call, (how the scan stopped, events scanned), and the list of where each scan stopped."""
    keys, key_offsets = tok.key_table()
    stopped: list[int] = []

    def scan(starts: np.ndarray, ends: np.ndarray, kinds: np.ndarray) -> tuple[int, int]:
        status, n, pos = tok.scan_events(buf, stopped[-1] if stopped else 0, keys, key_offsets, starts, ends, kinds)
        stopped.append(pos)
        return status, n

    return scan, stopped


def _release(buf: np.memmap, done_to: int, up_to: int) -> int:
    """Hand the mapped file's pages between done_to and up_to back to the kernel (they are read
    again from the page cache if ever needed): the mapping would otherwise count the whole file
    in the process's memory. Positions are the array's; the mapping starts `lead` bytes before it
    (an array at an offset into its file is mapped from the page it starts in). Returns the new done_to."""
    page = mmap.PAGESIZE
    lead = getattr(buf, "offset", 0) % mmap.ALLOCATIONGRANULARITY
    start, end = (done_to + lead) // page * page, (up_to + lead) // page * page
    if end > start and hasattr(buf, "_mmap") and hasattr(mmap, "MADV_DONTNEED"):
        buf._mmap.madvise(mmap.MADV_DONTNEED, start, end - start)
        return end - lead
    return done_to


def _batch(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, kinds: np.ndarray) -> pa.RecordBatch | None:
    """One batch of events as Arrow columns: each text field's text and whether DuckDB converts
    it (a bit each of `delegated`), ts and dur in nanoseconds, the booleans, the values of the args keys the
    store reads (key_1, key_2, ... in ARG_KEYS' order) and args' JSON text; None for a batch that
    needs DuckDB's reader."""
    if not (NUMBER_OK[kinds[:, NUMBER_COLUMNS]].all() and BOOLEAN_OK[kinds[:, BOOLEAN_COLUMNS]].all()):
        return None
    n = starts.shape[0]
    present = np.empty((n, len(TEXT_COLUMNS)), dtype=np.bool_)
    delegated = np.empty(n, dtype=np.int64)
    room = tok.measure(starts, ends, kinds, TEXT_COLUMNS, AS_IS, present, delegated)
    bases = np.zeros(len(TEXT_COLUMNS), dtype=np.int64)
    bases[1:] = np.cumsum(room)[:-1]
    offsets = np.empty((len(TEXT_COLUMNS), n + 1), dtype=np.int64)
    data = np.empty(max(int(room.sum()), 1), dtype=np.uint8)
    sizes = tok.gather(buf, starts, ends, kinds, TEXT_COLUMNS, UNQUOTED, bases, offsets, data)
    columns: dict[str, pa.Array] = {}
    for c, name in enumerate(TEXT_NAMES):
        valid = present[:, c]
        columns[name] = pa.LargeStringArray.from_buffers(
            n, pa.py_buffer(offsets[c]), pa.py_buffer(data[bases[c]: bases[c] + sizes[c]]),
            pa.py_buffer(np.packbits(valid, bitorder="little")), null_count=int(n - valid.sum()))
    columns["delegated"] = arrow.column(delegated)  # which fields DuckDB converts, a bit each in TEXT's order
    for name, column in zip(NUMBER_FIELDS, NUMBER_COLUMNS):
        kind = kinds[:, column]
        ns = np.empty(n, dtype=np.int64)
        if not tok.nanoseconds(buf, starts, ends, kinds, column, ns):
            return None
        columns[name + "_ns"] = arrow.column(ns, (kind == tok.MISSING) | (kind == tok.NULL))
    for name, column in zip(BOOLEAN_FIELDS, BOOLEAN_COLUMNS):
        kind = kinds[:, column]
        columns[name] = arrow.column(kind == tok.TRUE, (kind == tok.MISSING) | (kind == tok.NULL))
    return pa.RecordBatch.from_pydict(columns)
