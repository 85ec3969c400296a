"""What every reader hands the pipeline for each trace it wrote (the traces-table row), and the
hash every reader takes of its file first."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import orjson


@dataclass
class TraceRow:
    """The traces-table fields of one trace a reader wrote (a file may hold several: nsys processes)."""

    trace_id: int
    format: str
    sha256: str
    size_bytes: int
    rank: int | None
    world_size: int | None
    backend: str | None
    gpu_names: list[str] | None
    device_properties: object
    distributed_info: object
    metadata: dict
    time_base_ns: int
    start_ns: int | None
    end_ns: int | None
    event_count: int
    lane_count: int
    job: str | None = None          # a reader may name the job (an nsys report of several ranks)
    warnings: list[str] = field(default_factory=list)


def to_json(value) -> str | None:
    """JSON text for a JSON column; None stays NULL."""
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


READ_BLOCK = 16 << 20


def file_digest(path: Path, on_bytes: Callable[[int], None] | None = None) -> tuple[str, int]:
    """(sha256, size in bytes) of a file, read in blocks; `on_bytes` hears each block's size (a
    progress bar)."""
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(READ_BLOCK):
            sha.update(block)
            if on_bytes:
                on_bytes(len(block))
    return sha.hexdigest(), path.stat().st_size
