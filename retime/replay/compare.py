"""A replay's prediction against a measured run of the changed hardware (`retime replay --against`):
the same workload (checked by the names the two traces share), the median step or window of each,
and the error between them."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from retime import foundation
from retime.core.errors import QueryError
from retime.core.sqlfiles import load_sql, one_row

if TYPE_CHECKING:
    import duckdb

    from retime.replay.engine import ReplayResult

# below MIN_OVERLAP of shared CPU-operator and kernel names the target is another workload
# (refused), below SAME_OVERLAP it may be (a warning). Same model on H100 and MI300X: 0.91-1.0 of CPU
# operator names; the B300/MI300X decode pair 0.69; different HF models 0.55-0.58; a decode step
# against an HF forward 0.24 (../shared/traces/tracelens).
MIN_OVERLAP = 0.3
SAME_OVERLAP = 0.6


def workload_overlap(con: "duckdb.DuckDBPyConnection", a: int, b: int) -> dict[str, float | None]:
    """Jaccard index of the distinct CPU operator names and of the kernel names of traces a and b
    (None where either has none of that kind)."""
    rows = con.execute(load_sql("retime.reads", "workload_overlap"), {"a": a, "b": b}).fetchall()
    found = {kind: (jaccard if in_a and in_b else None) for kind, in_a, in_b, _, jaccard in rows}
    return {"cpu_op": found.get("cpu_op"), "kernel": found.get("kernel")}


def iteration(con: "duckdb.DuckDBPyConnection", trace_id: int, window: str | None = None) -> dict[str, int | None]:
    """A measured trace's iteration time as replays are compared with it: step_ns, its median window
    (ProfilerStep#N unless `window` says another regular expression; None without one), and span_ns,
    first to last event on CPU threads and GPU streams (trace_spans)."""
    foundation.load(con, "host")  # annotation_windows
    return one_row(con, "retime.reads", "trace_steps", {"trace_id": trace_id, "window": window or foundation.STEP_PATTERN})


@dataclass(frozen=True)
class Comparison:
    """A replay against a measured trace of the changed run (Store.against, ReplayResult.against)."""
    target_trace_id: int
    basis: str                  # 'median step', 'median window REGEX' or 'span': what was compared
    predicted_ns: int
    measured_ns: int
    error_pct: float | None     # > 0: the replay predicted slower than measured
    name_overlap: dict          # per name kind (cpu_op, kernel): the share of names the two traces share
    warning: str | None         # where the workloads look only partly alike

    def as_dict(self) -> dict:
        return asdict(self)


def against(con: "duckdb.DuckDBPyConnection", result: "ReplayResult", target_id: int, window: str | None = None) -> Comparison:
    """How far `result` lands from trace target_id: the median window of each where both have
    windows, else the span; error_pct > 0: the replay predicted slower than measured. Refuses
    (QueryError) a target whose workload is plainly another one."""
    overlap = workload_overlap(con, result.trace_id, target_id)
    known = [v for v in overlap.values() if v is not None]
    if known and max(known) < MIN_OVERLAP:
        raise QueryError(
            f"trace {target_id} does not look like the same workload as trace {result.trace_id}: "
            f"{100 * max(known):.0f}% of their CPU operator or kernel names in common (need "
            f"{100 * MIN_OVERLAP:.0f}%); compare a run of the same model")
    measured = iteration(con, target_id, window)
    step = result.median_step()
    if step is not None and measured["step_ns"] is not None:
        basis = "median step" if window is None else f"median window {window}"
        predicted, actual = step[1], measured["step_ns"]
    else:
        basis, predicted, actual = "span", result.predicted_ns, measured["span_ns"]
    warning = (f"only {100 * max(known):.0f}% of names in common with trace {result.trace_id}: "
               f"check that trace {target_id} runs the same workload") if known and max(known) < SAME_OVERLAP else None
    return Comparison(target_id, basis, predicted, actual, round(100 * (predicted - actual) / actual, 2) if actual else None,
                      {k: (round(v, 3) if v is not None else None) for k, v in overlap.items()}, warning)
