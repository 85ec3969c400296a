"""What every reader hands the pipeline for each trace it wrote: the traces-table row."""
from __future__ import annotations

from dataclasses import dataclass, field

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
