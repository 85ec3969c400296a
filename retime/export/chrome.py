"""Chrome Trace Event Format export, for Perfetto UI and chrome://tracing: measured traces and
replays alike. DuckDB renders every event as JSON text (export_chrome.sql); this module streams
them out in Arrow batches inside the object form with the clock origin, gzipped when the name ends
in .gz."""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from retime.core.errors import QueryError
from retime.core.sqlfiles import load_sql, set_variables

BATCH_ROWS = 100_000


def export_chrome(con: duckdb.DuckDBPyConnection, trace_id: int, out: str | os.PathLike) -> int:
    """Write trace_id to `out` (.json or .json.gz); returns the bytes written."""
    out = Path(out)
    origin = con.execute(load_sql("retime.export", "export_origin"), {"trace_id": trace_id}).fetchall()[0][0]
    if origin is None:
        raise QueryError(f"trace {trace_id} has no events to export")
    set_variables(con, trace_id=trace_id, origin_ns=origin)
    batches = con.sql(load_sql("retime.export", "export_chrome")).to_arrow_reader(BATCH_ROWS)
    opener = gzip.open if out.name.endswith(".gz") else open
    with opener(out, "wb") as dst:
        dst.write(b'{"schemaVersion": 1, "displayTimeUnit": "ms", "baseTimeNanoseconds": %d,\n"traceEvents": [\n' % origin)
        first = True
        for batch in batches:
            if batch.num_rows == 0:
                continue
            events = batch.column(0)
            # one join per batch of events, in Arrow: ",\n" between events
            text = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(events)], pa.int32()), events), ",\n")
            dst.write((b"" if first else b",\n") + text[0].as_buffer().to_pybytes())
            first = False
        dst.write(b"\n]}\n")
    return out.stat().st_size
