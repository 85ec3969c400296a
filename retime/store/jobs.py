"""Whether the traces of a job look like the ranks of one run: every trace names a rank, no rank
twice, one world size, first events within an hour. Ingest asks it of a folder's files before
grouping them; job-wide queries and job replays ask it before comparing ranks."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from retime import foundation
from retime.core.errors import arg, QueryError
from retime.core.sqlfiles import load_sql

if TYPE_CHECKING:
    import duckdb

# ranks of one run start their profiles together; files whose first events lie further apart than
# this are different runs (an hour: longer than any profiler warm-up, far shorter than a day of jobs)
JOB_START_SPREAD_NS = 3600 * 10**9


@dataclass
class JobCheck:
    """What job_check.sql found of a job's rank traces, and why they are not the ranks of one run."""
    traces: int
    no_rank: int
    reasons: list[str] = field(default_factory=list)  # empty: they are (or there are none)

    @property
    def single_processes(self) -> bool:
        """Only that no trace names a rank: profiles of single processes, which were never a job."""
        return self.traces > 0 and self.no_rank == self.traces and len(self.reasons) == 1


def problems(con: "duckdb.DuckDBPyConnection", job: str) -> JobCheck:
    """The rank traces of `job` (its measured traces, or a saved job replay's) and why they are not
    the ranks of one run."""
    foundation.load(con, "jobs")
    traces, no_rank, repeated, world_sizes, spread = con.execute(load_sql("retime.store", "job_check"), {"job": job}).fetchall()[0]
    reasons = []
    if no_rank:
        reasons.append(f"{no_rank} of {traces} traces name no rank")
    if repeated:
        reasons.append(f"rank {', '.join(map(str, repeated))} appears more than once")
    if world_sizes and len(world_sizes) > 1:
        reasons.append(f"world sizes disagree ({', '.join(map(str, world_sizes))})")
    if spread is not None and spread > JOB_START_SPREAD_NS:
        reasons.append(f"first events {spread / 3.6e12:,.1f} hours apart")
    return JobCheck(traces, no_rank, reasons)


def job_of(con: "duckdb.DuckDBPyConnection", trace_id: int) -> str | None:
    """The job a trace belongs to (None: none)."""
    return con.execute(load_sql("retime.reads", "trace_job"), {"trace_id": trace_id}).fetchall()[0][0]


def ranks_of(con: "duckdb.DuckDBPyConnection", trace_id: int) -> tuple[str | None, list[tuple[int, int | None]]]:
    """The job a trace belongs to and the (trace_id, rank) of its rank traces (its measured traces,
    or a saved job replay's), by rank; a trace of no job is a job of one (job None)."""
    foundation.load(con, "jobs")
    job = job_of(con, trace_id)
    sql, params = ("trace_rank", {"trace_id": trace_id}) if job is None else ("job_traces", {"job": job})
    return job, con.execute(load_sql("retime.reads", sql), params).fetchall()


def refuse_if_not_one_run(con: "duckdb.DuckDBPyConnection", job: str, what: str) -> None:
    """QueryError, saying why, where `job`'s traces are not the ranks of one run (`what` names the
    comparison refused: a job-wide query, the job replay)."""
    reasons = problems(con, job).reasons
    if reasons:
        raise QueryError(f"{what}: job {job!r} is not the ranks of one run: {'; '.join(reasons)}. "
                         f"Re-ingest its files with {arg('job', 'NAME')} per run")
