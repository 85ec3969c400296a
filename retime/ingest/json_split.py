"""Split a Chrome/Kineto JSON file into its events array and its metadata, streaming.

The events array is read where it lies in a plain file (a byte range of it), or from a temporary
file that a compressed or cut-off trace's array is written to (DuckDB's JSON reader, which takes a
whole file, gets a copy of the range when it is the one to read it); the small
rest of the document (deviceProperties, distributedInfo, baseTimeNanoseconds, ...) is parsed
with orjson. Reading chunk by chunk keeps memory flat whatever the file size, handles .gz on the
fly, hashes the stored bytes for idempotent re-ingest, and repairs a file that was cut off
mid-write by ending the array after its last complete event.
"""
from __future__ import annotations

import hashlib
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import orjson
from retime.ingest import json_scan as scan

from retime.core.errors import TraceFormatError

CHUNK_BYTES = 16 << 20
RECORD_CAPACITY = 4096
WHITESPACE = b" \t\r\n"
LEADING_CONTENT = re.compile(rb"[^ \t\r\n\xef\xbb\xbf]")


@dataclass
class SplitTrace:
    """What the reader needs: where the events are, the metadata, and what had to be repaired."""

    events_path: Path            # a file holding one JSON array of events (see events_in_place)
    metadata: dict               # top-level keys other than traceEvents (empty for the array form)
    form: str                    # 'object' ({"traceEvents": [...]}) or 'array' ([...])
    sha256: str
    size_bytes: int              # on disk
    json_bytes: int              # after decompression
    warnings: list[str] = field(default_factory=list)
    # a plain, complete file: the array is bytes [offset, offset + size) of the trace file itself, and
    # events_path is written only when a reader needs it as a file of its own (events_file)
    events_in_place: tuple[Path, int, int] | None = None

    def events_range(self) -> tuple[Path, int, int]:
        """(file, offset, size) of the events array's bytes."""
        return self.events_in_place or (self.events_path, 0, self.events_path.stat().st_size)

    def events_file(self) -> Path:
        """A file holding just the events array (DuckDB's reader reads whole files): events_path,
        copied out of the trace file the first time it is asked for."""
        if self.events_in_place is not None:
            source, offset, size = self.events_in_place
            _copy_range(source, self.events_path, offset, size)
            self.events_in_place = None
        return self.events_path


class _Router:
    """Sends each decoded byte range either to the events file or to the metadata buffer."""

    def __init__(self, events_out):
        self.events_out = events_out  # None: events are copied from the source file afterwards
        self.meta = bytearray()
        self.events_start: int | None = None   # position of the events array's '['
        self.events_end: int | None = None     # position of its ']'

    def route(self, data: memoryview, start: int) -> None:
        end = start + len(data)
        lo = self.events_start if self.events_start is not None else end
        hi = self.events_end + 1 if self.events_end is not None else end
        lo, hi = max(lo, start), min(max(hi, start), end)
        if lo >= hi:
            self.meta += data
            return
        self.meta += data[: lo - start]
        if lo == self.events_start:
            self.meta += b"[]"  # the metadata document keeps an empty events array in its place
        if self.events_out is not None:
            self.events_out.write(data[lo - start: hi - start])
        self.meta += data[hi - start:]


def is_gzip(path: Path) -> bool:
    """Whether the file starts with gzip's magic bytes (whatever its name says)."""
    with open(path, "rb") as raw:
        return raw.read(2) == b"\x1f\x8b"


def _raw_chunks(path: Path, sha, on_bytes: Callable[[int], None] | None, gz: bool):
    """Yield decoded chunks of the file, decompressing gzip members on the fly."""
    with open(path, "rb") as raw:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gz else None
        compressed_pos = 0
        while True:
            block = raw.read(CHUNK_BYTES)
            if not block:
                break
            sha.update(block)
            compressed_pos += len(block)
            if on_bytes:
                on_bytes(len(block))
            if not gz:
                yield block
                continue
            while block:
                try:
                    out = inflater.decompress(block)
                except zlib.error as exc:
                    raise TraceFormatError(f"{path}: corrupt gzip data near compressed byte {compressed_pos}: {exc}") from None
                if out:
                    yield out
                if inflater.eof:
                    block = inflater.unused_data
                    if block:  # concatenated gzip members
                        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    block = b""
        if gz:
            tail = inflater.flush()
            if tail:
                yield tail
            if not inflater.eof:
                yield None  # marks a gzip stream cut off before its end


def split_trace(path: str | os.PathLike, work_dir: str | os.PathLike,
                on_bytes: Callable[[int], None] | None = None) -> SplitTrace:
    """Stream `path` once: hash it, find the events array, copy it to work_dir/events.json."""
    path = Path(path)
    events_path = Path(work_dir) / "events.json"
    sha = hashlib.sha256()
    warnings: list[str] = []
    state = scan.new_state()
    rec_pos = np.empty(RECORD_CAPACITY, np.int64)
    rec_kind = np.empty(RECORD_CAPACITY, np.int64)
    rec_depth = np.empty(RECORD_CAPACITY, np.int64)
    form: str | None = None
    record_depth = element_depth = 0
    last_string: tuple[int, int] | None = None
    string_start = -1
    top_closed_at: int | None = None
    gzip_cut = False
    pos = 0

    gz = is_gzip(path)
    with open(events_path, "wb") as events_out:
        router = _Router(events_out if gz else None)
        for chunk in _raw_chunks(path, sha, on_bytes, gz):
            if chunk is None:
                gzip_cut = True
                continue
            view = memoryview(chunk)
            if form is None:
                content = LEADING_CONTENT.search(chunk)  # the first byte that is not whitespace or a BOM
                if content is None:
                    router.meta += view
                    pos += len(view)
                    continue
                form, record_depth, element_depth = _detect_form(path, bytes(view[content.start(): content.start() + 64]))
                if form == "array":
                    router.events_start = pos + content.start()
            arr = np.frombuffer(chunk, dtype=np.uint8)
            done = 0
            while done < len(arr):
                consumed, n = scan.scan_structure(arr[done:], pos + done, state, record_depth, element_depth,
                                                  rec_pos, rec_kind, rec_depth)
                if state[scan.DEPTH] < 0:
                    near = pos + done + consumed
                    raise TraceFormatError(f"{path}: malformed JSON: unbalanced closing bracket near byte {near}")
                for k in range(n):
                    kind, at, depth = int(rec_kind[k]), int(rec_pos[k]), int(rec_depth[k])
                    if kind == scan.STRING_START:
                        string_start = at
                    elif kind == scan.STRING_END:
                        last_string = (string_start, at)
                    elif kind == scan.OPEN_ARRAY and form == "object" and depth == 1 and router.events_start is None:
                        if last_string and _text(router.meta, view, pos, *last_string) == b"traceEvents":
                            router.events_start = at
                    elif kind == scan.CLOSE and depth == element_depth - 1 and router.events_start is not None \
                            and router.events_end is None and at > router.events_start:
                        router.events_end = at
                    if kind == scan.CLOSE and depth == 0:
                        top_closed_at = at
                router.route(view[done: done + consumed], pos + done)
                done += consumed
            pos += len(arr)
        json_bytes = pos

    if form is None:
        raise TraceFormatError(f"{path}: empty file" if json_bytes == 0 and not gzip_cut else f"{path}: no JSON content")
    if gzip_cut:
        warnings.append(f"gzip stream ends early (file cut off after {json_bytes} decompressed bytes)")
    if router.events_start is None:
        if top_closed_at is None:
            raise TraceFormatError(f"{path}: cut off before the traceEvents array; no events to ingest")
        raise TraceFormatError(f"{path}: a JSON object without a traceEvents array: not a Chrome/Kineto trace")

    complete = top_closed_at is not None and not state[scan.IN_STRING]
    in_place = _finish_events_file(path, events_path, router, int(state[scan.LAST_ELEMENT_END]), json_bytes, gz, form,
                                   warnings)
    metadata = _parse_metadata(path, router, form, complete, warnings)
    if form == "object" and not complete and router.events_end is not None:
        warnings.append("file cut off after the traceEvents array; trailing metadata was dropped")
    return SplitTrace(events_path=events_path, metadata=metadata, form=form, sha256=sha.hexdigest(),
                      size_bytes=path.stat().st_size, json_bytes=json_bytes, warnings=warnings, events_in_place=in_place)


def _text(meta: bytearray, view: memoryview, view_pos: int, start: int, end: int) -> bytes:
    """Bytes strictly between two quote positions, from the metadata buffer (before the events
    array, file positions equal buffer positions) or from the chunk not yet routed."""
    lo, hi = start + 1, end
    head = bytes(meta[lo: min(hi, view_pos)]) if lo < view_pos else b""
    tail = bytes(view[max(lo, view_pos) - view_pos: hi - view_pos]) if hi > view_pos else b""
    return head + tail


def _detect_form(path: Path, head: bytes) -> tuple[str, int, int]:
    if head.startswith(b"{"):
        return "object", 1, 2
    if head.startswith(b"["):
        return "array", 0, 1
    shown = head[:16].decode("utf-8", "replace").encode("unicode_escape").decode()
    raise TraceFormatError(f"{path}: not a JSON trace (starts with '{shown}'; expected '{{' or '[')")


def _finish_events_file(path: Path, events_path: Path, router: _Router, last_element_end: int, json_bytes: int,
                        gz: bool, form: str, warnings: list[str]) -> tuple[Path, int, int] | None:
    """Leave events_path holding exactly one JSON array: the trace's, or, when the file was cut
    off inside it, every complete event up to the cut followed by a closing ']'. A plain file with
    its array whole is not copied: its (path, offset, size) is returned instead."""
    start = router.events_start
    closed = router.events_end is not None
    end = router.events_end if closed else last_element_end  # inclusive
    keep = max(end + 1 - start, 0)
    tail = b""
    if not closed:  # what follows the last complete event: a legal missing ']' or a cut-off event
        tail = _read_range(path if not gz else events_path, (end + 1) if not gz else keep,
                           min(json_bytes - end - 1, 1 << 20))
    if gz:
        with open(events_path, "r+b") as events_out:
            events_out.truncate(keep)
    elif closed:
        return path, start, keep
    else:
        _copy_range(path, events_path, start, keep)
    if not closed:
        with open(events_path, "ab") as events_out:
            events_out.write(b"]" if keep else b"[]")
        only_separators = not tail.strip(WHITESPACE + b",") and json_bytes - end - 1 <= 1 << 20
        if form == "array" and keep and only_separators:
            return  # the format allows an array trace without its closing ']'
        kept_to = end + 1 if keep else start
        warnings.append(f"file cut off inside the events array at byte {json_bytes}: kept every complete event "
                        f"up to byte {kept_to}, dropped the incomplete tail ({json_bytes - kept_to} bytes)")


def _read_range(path: Path, offset: int, size: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(max(size, 0))


def _copy_range(source: Path, target: Path, offset: int, size: int) -> None:
    """Copy bytes inside the kernel where it can (copy_file_range: ~10x a read/write loop here)."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        done = 0
        try:
            while done < size:
                n = os.copy_file_range(src.fileno(), dst.fileno(), size - done, offset + done, done)
                if n == 0:
                    break
                done += n
        except (AttributeError, OSError):
            src.seek(offset + done)
            dst.seek(done)
            remaining = size - done
            while remaining > 0:
                block = src.read(min(CHUNK_BYTES, remaining))
                if not block:
                    break
                dst.write(block)
                remaining -= len(block)


def _parse_metadata(path: Path, router: _Router, form: str, complete: bool, warnings: list[str]) -> dict:
    if form == "array":
        return {}
    meta = bytes(router.meta)
    if router.events_end is None or not complete:
        # keep what precedes the events array; the rest of the document is missing
        meta = meta[: router.events_start] + b"[]}"
    try:
        doc = orjson.loads(meta)
    except orjson.JSONDecodeError as exc:
        raise TraceFormatError(f"{path}: malformed JSON outside the events array: {exc}") from None
    if not isinstance(doc, dict):
        raise TraceFormatError(f"{path}: top level is not a JSON object")
    doc.pop("traceEvents", None)
    return doc
