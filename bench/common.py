"""What the benchmark scripts share: a fresh store file, traces repeated inside the store, and a
process's own peak memory."""
from __future__ import annotations

import resource
import shutil
from pathlib import Path

from retime.store.derived import derive_trace
from retime.core.sqlfiles import set_variables

OUT = Path(__file__).resolve().parent / "out"


def fresh_store_path(name: str) -> Path:
    """bench/out/NAME.duckdb with any earlier copy (and its WAL and spill folder) removed."""
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"{name}.duckdb"
    for stale in (db, Path(f"{db}.wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(f"{db}.tmp", ignore_errors=True)
    shutil.rmtree(f"{db}.replay-cache", ignore_errors=True)  # graphs of traces that are gone
    return db


def replicate(store, source_id: int, new_id: int, copies: int, job: str) -> None:
    """Trace new_id becomes `copies` time-shifted copies of trace source_id (replicate_trace.sql)."""
    set_variables(store.con, source_id=source_id, new_id=new_id, copies=copies, job=job)
    store.con.execute(Path(__file__).with_name("replicate_trace.sql").read_text()).fetchall()
    derive_trace(store.con, new_id)


def peak_kb() -> int:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not carried over from the
    process that started it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
