"""The Python front door: `retime.open(db)` returns a Store whose verbs mirror the CLI.

Results are polars DataFrames; nothing here prints. The CLI is a thin layer over this module.
"""
from __future__ import annotations

import builtins
import os
from typing import TYPE_CHECKING, Callable, Iterable

import polars as pl

from retime import foundation
from retime import store as store_mod
from retime.store import jobs
from retime.core.errors import arg, as_query_error, QueryError, ScenarioError, StoreError
from retime.core.progress import Progress
from retime.queries import runner
from retime.core.sqlfiles import load_sql

if TYPE_CHECKING:  # the replayer loads numba; the store opens without it
    from retime.replay.engine import ReplayResult
    from retime.ingest.pipeline import IngestResult
    from retime.replay.scenario import Scenario
    from retime.replay.sweep import SweepResult
    from retime.replay.topology import Topology
    from retime.replay.grow import GrownJob
    from retime.replay.job import JobReplay
    from retime.replay.compare import Comparison
    from retime.capture import CaptureResult


class Store:
    """A retime store: one DuckDB file holding any number of traces.

    `on_progress`, when set to a function, hears (task, done, total) as long steps run: a replay
    graph's build (per SQL statement), a sweep (per batch of scenarios). The CLI draws it as a bar."""

    on_progress: Progress | None = None

    def __init__(self, path: str | os.PathLike | None = None, *, read_only: bool = False, threads: int | None = None,
                 memory_limit: str | None = None):
        self.path = str(path) if path is not None else store_mod.default_db_path()
        self.read_only = read_only
        self.memory_limit = memory_limit  # as given: parallel ingest workers get the same
        self.con = store_mod.connect(self.path, read_only=read_only)
        store_mod.configure(self.con, threads=threads, memory_limit=memory_limit)

    @classmethod
    def on_lake(cls, lake_dir: str | os.PathLike) -> "Store":
        """A read-only Store over a Parquet lake written by export_lake: same verbs, same answers."""
        from retime.export.lake import open_lake
        store = cls.__new__(cls)
        store.path, store.read_only, store.con = str(lake_dir), True, open_lake(lake_dir)
        return store

    def export_lake(self, out_dir: str | os.PathLike) -> dict[str, int]:
        """Write every table as Parquet partitioned by trace (Hive layout) under out_dir."""
        from retime.export.lake import export_lake
        return export_lake(self.con, out_dir)

    def close(self) -> None:
        """Close the store's connection (a `with` block does it on leaving)."""
        self.con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- ingest -------------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | os.PathLike] | str | os.PathLike, *, job: str | None = None,
               on_file: Callable[[str, int], Callable[[int], None] | None] | None = None, jobs: int = 1,
               on_result: Callable[[IngestResult], None] | None = None) -> list[IngestResult]:
        """Ingest files and job directories; one result per file, failures included.

        `on_file(path, size)` may return a callback that receives byte counts as the file is read
        (the CLI's progress bar). With jobs > 1, that many worker processes read the files and this
        store commits each as it is ready (retime/ingest/parallel.py); `on_result` hears of every file as
        it lands.
        """
        from retime.ingest.pipeline import expand_paths, ingest_file, settle_folder_jobs  # numba: loaded to ingest
        self._refuse_read_only("ingest")
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        files = expand_paths(paths)
        results = []
        serial = files
        if jobs > 1 and len(files) > 1:
            from retime.ingest.parallel import ingest_many
            from retime.ingest.pipeline import links_to_stored
            # execution traces link to a trace already in this store: they come after the rest, here
            serial = [f for f in files if links_to_stored(f[0])]
            chosen = set(serial)
            rest = [f for f in files if f not in chosen]
            if rest:
                results = list(ingest_many(self.con, rest, job, min(jobs, len(rest)), self.memory_limit, on_result))
        if serial:
            for path, dir_job in serial:
                size = path.stat().st_size if path.is_file() else 0
                on_bytes = on_file(str(path), size) if on_file else None
                results.append(ingest_file(self.con, path, job=job, on_bytes=on_bytes, folder_job=dir_job))
                if on_result:
                    on_result(results[-1])
        if job is None:  # the results' order: the parallel ones, then the serial ones
            once = set(serial)
            settle_folder_jobs(self.con, [f for f in files if f not in once] + serial, results)
        return results

    # -- reading ------------------------------------------------------------------------------
    def sql(self, query: str, *, params: dict | builtins.list | None = None) -> pl.DataFrame:
        """Run any SQL on the store and return a DataFrame; `params` binds its `$name` (a dict) or
        `?` (a list) parameters. The SQL library's macros it calls (`gpu_spans(7)`,
        `collective_bus_bytes(...)`: docs/sql.md) are defined first."""
        with as_query_error():
            foundation.load(self.con, *foundation.modules_called(query))
            return self.con.sql(query, params=params).pl()

    def traces(self) -> pl.DataFrame:
        """One row per trace: id, job, format, rank, events, span, source."""
        with as_query_error():  # a row per trace, all scalars: built from rows, without loading Arrow (startup)
            foundation.load(self.con, "host")  # trace_spans
            return _rows_frame(self.con.execute(load_sql("retime.reads", "traces_list")))

    def resolve_trace(self, trace: int | str) -> int:
        """A trace id from an id, a sha256 prefix or a source path (suffix) the user typed."""
        row = self.con.execute(load_sql("retime.reads", "resolve_trace"), {"key": str(trace)}).fetchall()
        if not row:
            raise QueryError(f"no trace matches {trace!r} (see `retime traces`)")
        if len(row) > 1:
            raise QueryError(f"{trace!r} matches traces {', '.join(str(r[0]) for r in row)}; use the trace id")
        return row[0][0]

    def trace_extent(self, trace: int | str) -> tuple[int | None, int]:
        """When a trace's first event started (ns on its own clock; None for an empty trace) and how
        many events it holds."""
        return self.con.execute(load_sql("retime.reads", "trace_extent"), {"trace_id": self.resolve_trace(trace)}).fetchall()[0]

    def queries(self) -> pl.DataFrame:
        """The named stress-point queries: name, topic, parameters, what each finds."""
        return runner.listing()

    def query(self, name: str, trace: int | str | None = None, *, all_ranks: bool = False, **params) -> pl.DataFrame:
        """Run a named query. `trace` (id, sha256 prefix or path) fills its trace_id, or for a
        job-wide query its job; other parameters by keyword. all_ranks: a per-trace query over every
        rank of the job TRACE belongs to, as HTA gives its breakdowns: each rank's rows after its
        trace_id and rank, by rank (TRACE alone when it is in no job)."""
        if all_ranks:
            if trace is None:
                raise QueryError(f"all_ranks answers for the job of a trace: give the trace ({arg('all_ranks', 'True')} with a trace)")
            return self._query_ranks(name, trace, **params)
        query = runner.named(name)
        wanted = {p.name for p in query.params}
        if trace is not None:
            trace_id = self.resolve_trace(trace)
            if "trace_id" in wanted:
                params.setdefault("trace_id", trace_id)
            elif "job" in wanted:
                job = jobs.job_of(self.con, trace_id)
                if job is None:
                    raise QueryError(f"trace {trace_id} belongs to no job; {name} compares the ranks of a job")
                params.setdefault("job", job)
        if "job" in wanted and params.get("job") is not None:
            jobs.refuse_if_not_one_run(self.con, str(params["job"]), name)
        return runner.run(self.con, name, params)

    def _query_ranks(self, name: str, trace: int | str, **params) -> pl.DataFrame:
        """query(..., all_ranks=True): each rank's rows, by rank."""
        query = runner.named(name)
        if "trace_id" not in {p.name for p in query.params}:
            raise QueryError(f"{name} is not a per-trace query; it already answers for the whole job")
        frames = []
        for rank, trace_id in sorted(self.job_ranks(trace).items(), key=lambda kv: (kv[0] is None, kv[0])):
            rows = self.query(name, trace_id, **params)
            frames.append(rows.select(pl.lit(trace_id, pl.Int64).alias("trace_id"), pl.lit(rank, pl.Int64).alias("rank"),
                                      pl.exclude("trace_id", "rank")))
        return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()

    def retarget(self, trace: int | str, to: str, *, source: str | None = None) -> dict[str, str]:
        """Scenario settings that move TRACE from the GPU it ran on (or `source`) to preset `to`."""
        from retime.replay import presets
        return presets.retarget(self.source_gpu(trace, source=source), to)

    def source_gpu(self, trace: int | str, *, source: str | None = None) -> str:
        """The GPU preset TRACE ran on: `source` where given, else the one its GPU name matches."""
        from retime.replay import presets
        if source is None:
            trace_id = self.resolve_trace(trace)
            names = presets.trace_gpu_names(self.con, trace_id)
            source = presets.detect(names)
            if source is None:
                raise ScenarioError(f"trace {trace_id} names no GPU retime has a preset for ({names}); "
                                    f"give {arg('source')} (presets: {', '.join(presets.presets())})")
        return presets.preset_key(source)

    def scenario(self, trace: int | str, settings: list[str] | dict[str, str] = (), *, scale: list[str] = (),
                 remove: list[str] = (), file: str | os.PathLike | None = None, to: str | None = None,
                 source: str | None = None, topology: "Topology | str | None" = None,
                 move: list[str] | dict[str, str] = (), link: list[str] | dict[str, str] = (),
                 ranks_per_server: int | None = None, place: list[str] | dict[str, str] = ()) -> Scenario:
        """One Scenario from a scenario file, a preset retarget (`to`, from `source` or the GPU the trace
        ran on) and explicit settings, in that order of precedence (later wins); duration rules add up.
        The server the trace is put on is the file's `topology` or `topology` (a preset key or a
        Topology), with the file's [move], [link], ranks_per_server and [place], then `move`
        (["gpu1=sw1"]), `link` (["nic=800Gb/s"]), `ranks_per_server` and `place` (["3=1/gpu5"]).
        Everything a scenario file says is in the Scenario: a replay, a job's replay and a sweep of
        it give what `retime replay --scenario FILE` gives."""
        from retime.replay import scenario
        doc = scenario.read_file(file) if file is not None else None
        to, source = to or (doc or {}).get("to"), source or (doc or {}).get("from")
        if to:
            source = self.source_gpu(trace, source=source)
        chosen = scenario.assemble(settings, scale, remove, doc, to, source, topology=topology, move=move, link=link,
                                   ranks_per_server=ranks_per_server, place=place)
        if chosen.batch is not None:  # the trace's GPU, whose measured GEMMs time the new shapes (None: unknown)
            from retime.replay import presets
            chosen.batch_gpu = (presets.preset_key(source) if source else
                                presets.detect(presets.trace_gpu_names(self.con, self.resolve_trace(trace))))
        return chosen

    def replay(self, trace: int | str, settings: Scenario | list[str] | dict[str, str] | None = None,
               *, all_ranks: bool = False, ranks: int | None = None, copy_ranks: list[int] | None = None,
               ranks_per_server: int | None = None, fixed_global_batch: bool = False, save: bool = False,
               window: str | None = None, topology: "Topology | str | None" = None,
               against: int | str | None = None) -> "ReplayResult | JobReplay | GrownJob":
        """Re-time a trace under changed hardware: `settings` is a Scenario (see `scenario`), a list of
        `k=v` strings (`["pcie.h2d=2x", "cpu.speed=1.5x"]`) or a dict. Returns a ReplayResult: measured
        and predicted makespan and ProfilerStep times, speedup, what bounds the predicted run.
        With save=True the replay is also written as a new trace (format 'replay', parent_trace_id).
        `window`: the annotations (a regular expression) whose times are reported as steps, instead of
        ProfilerStep#N. `topology`: a server (a Topology, or a preset key such as "dgx-h100") whose
        links the trace's copies between GPU and host share (retime/replay/links.py); default: the
        Scenario's (a scenario file's `topology`). `against`: a measured trace of the changed run,
        whose error the result carries (ReplayResult.against, as `Store.against` gives it).

        all_ranks=True replays the job TRACE belongs to as one graph: every measured rank, joined at
        their GPU collectives (a collective's transfer starts when the last rank arrives), and returns
        a JobReplay: the (rank, ReplayResult) pairs, by rank, and the job's span (its slowest rank's);
        a trace of no job is a job of one. save=True writes it as a job of its own (each rank's
        ReplayResult.saved_trace_id, JobReplay.saved_job); `against` is then a trace of a measured
        job of the change, each rank compared with the same rank of that job.

        all_ranks=True with `ranks` (or a scenario file's `ranks`) grows the job instead
        (retime/replay/grow.py) into a data-parallel job of that many ranks and returns a GrownJob:
        rank i copies measured rank copy_ranks[i mod R] (default: every measured rank), each collective
        re-timed for `ranks` ranks on servers of `ranks_per_server` GPUs (else the topology's, else 8)
        and the network between them (the topology's NICs, else the part's); `fixed_global_batch`
        shrinks each rank's batch by the measured ranks over `ranks` (strong scaling); each of the three
        defaults to the scenario's (a scenario file's ranks, copy_ranks, global_batch). save=True
        writes the grown job's distinct ranks as a job of their own (GrownJob.saved_job); `against` is
        a trace of a measured job of `ranks` ranks (GrownJob.against: the error of the job's span and
        of each rank's, beside every rank at the measured ranks' median span)."""
        chosen = self._as_scenario(trace, settings)
        grow_to = ranks or chosen.ranks
        growing = [name for name, value in (("copy_ranks", copy_ranks), ("ranks_per_server", ranks_per_server),
                                            ("fixed_global_batch", fixed_global_batch)) if value]  # options of growing only
        if grow_to is not None and not all_ranks:
            raise ScenarioError(f"growing the job to {grow_to} ranks ({arg('ranks', 'N')}, or the scenario file's ranks) "
                                f"needs {arg('all_ranks', 'True')}")
        if grow_to is None and growing:
            raise ScenarioError(f"{', '.join(map(arg, growing))}: these grow a job, and need {arg('ranks', 'N')} with {arg('all_ranks', 'True')}")
        if grow_to is not None:
            return self._grow_job(trace, chosen, ranks=grow_to, copy_ranks=copy_ranks, ranks_per_server=ranks_per_server,
                                  topology=topology, fixed_global_batch=fixed_global_batch, window=window, save=save,
                                  against=against)
        if all_ranks:
            return self._replay_job(trace, chosen, save=save, window=window, topology=topology, against=against)
        from retime.replay import cache, engine, reach
        from retime.replay import save as save_replay
        trace_id = self.resolve_trace(trace)
        if save:
            self._refuse_read_only("save a replay")
        with as_query_error(f"replay of trace {trace_id}"):
            graph = cache.graph(self.con, trace_id, self.path, self.on_progress)
            placed = self._placed(_server(topology, chosen), graph)
            timing = engine.retimed_on_links(graph, chosen, placed) if len(graph.measured) else None  # replay and save share it
            result = engine.replay(graph, chosen, window, placed, timing)
            result.warnings += reach.launched_by_rules(self.con, trace_id, chosen)
            if save:
                new_id = store_mod.next_trace_id(self.con)
                save_replay.save(self.con, graph, chosen, new_id, placed, timing)
                result.saved_trace_id = new_id
        if against is not None:
            result.against = self.against(result, against, window=window)
        return result

    def sweep(self, trace: int | str, grid: list[str] | dict[str, list[str]],
              base: Scenario | list[str] | dict[str, str] | None = None, *, all_ranks: bool = False,
              topology: "Topology | str | None" = None) -> SweepResult:
        """Replay TRACE under every point of a grid (`["pcie.h2d=1x,2x,4x", "cpu.speed=1x,2x"]`) on top of
        a base Scenario; returns a SweepResult: a row per scenario and the knobs ranked by effect.
        all_ranks: sweep TRACE's whole job as one graph (ranks joined at their collectives); each
        row's span is then the job's, from its first rank's start to its last rank's end.
        topology: put the trace (or the job's ranks) on a server whose links the transfers share,
        each point re-timed on its own; the grid may then vary links (`link.nic=100Gb/s,400Gb/s`).
        A `ranks=8,64,512` axis (all_ranks) grows the job to each size (retime/replay/grow.py, as replay with ranks=);
        the topology then sets the GPUs a server holds, and a `link.nic` axis the NIC between servers."""
        from retime.replay import cache, grow, sweep
        from retime.replay import job as job_graph
        trace_id = self.resolve_trace(trace)
        items = grid if isinstance(grid, list) else [f"{k}={','.join(v)}" for k, v in grid.items()]
        grown_axes, items = grow.split_axes(items)
        base = self._as_scenario(trace, base)
        if base.ranks is not None and grow.RANKS_AXIS not in grown_axes:  # a scenario file's ranks: an axis of one
            grown_axes[grow.RANKS_AXIS] = [str(base.ranks)]
        grid = sweep.parse_grid(items) if items or not grown_axes else {}
        if grown_axes:
            if not all_ranks:
                raise ScenarioError(f"a ranks axis grows the whole job: sweep with {arg('all_ranks', 'True')}")
            server = _server(topology, base)
            with as_query_error(f"sweep of the job of trace {trace_id}"):
                measured = grow.measured_job(self.con, trace_id, None, self.path, self.on_progress)
                return grow.sweep_grown(self.con, measured, grown_axes, grid, base,
                                        _as_topology(server) if server is not None else None, self.on_progress)
        with as_query_error(f"sweep of trace {trace_id}"):
            job = job_graph.of_ranks(self.con, *jobs.ranks_of(self.con, trace_id), self.path,
                                     self.on_progress) if all_ranks else None
            graph = job.graph if job is not None else cache.graph(self.con, trace_id, self.path, self.on_progress)
            placed = self._placed(_server(topology, base), graph, job)
        return sweep.sweep(graph, grid, base, progress=self.on_progress, links=placed)

    def _as_scenario(self, trace: int | str, settings) -> Scenario:
        """A Scenario as given, or made from `k=v` strings or a dict as `scenario` makes it (None: the
        measured hardware), so a list of settings means what the same flags mean."""
        from retime.replay import scenario
        return settings if isinstance(settings, scenario.Scenario) else self.scenario(trace, settings or [])

    def _refuse_read_only(self, what: str) -> None:
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only; cannot {what}")

    def _placed(self, topology: "Topology | str | None", graph, job=None):
        """The graph (a trace's, or a job's: job is its JobGraph) put on a topology's servers
        (retime/replay/links.py place); None without a topology."""
        if topology is None:
            return None
        from retime.replay import placement
        if job is None:
            return placement.place(self.con, _as_topology(topology), graph, [graph.trace_id])
        return placement.place(self.con, _as_topology(topology), graph, job.trace_ids, job.point_rank, job.ranks)

    def graph_cached(self, trace: int | str) -> bool:
        """Whether TRACE's replay graph is already built (in the cache beside the store): a replay or
        sweep of it will not spend the graph build's time again."""
        from retime.replay import cache
        return cache.cached(self.con, self.resolve_trace(trace), self.path)

    def against(self, result: ReplayResult, target: int | str, *, window: str | None = None) -> "Comparison":
        """How far a replay's prediction lands from TARGET, a measured trace of the changed run (the
        same workload recorded with the hardware change made): the median window (`window`, a regular
        expression over annotation / NVTX range names; ProfilerStep#N by default) when both have
        windows, else the span. error_pct > 0: the replay predicted slower than measured.
        Refuses (QueryError) a TARGET whose workload is plainly another one: too few CPU operator
        and kernel names in common with the replayed trace (retime/replay/compare.py)."""
        from retime.replay import compare
        return compare.against(self.con, result, self.resolve_trace(target), window)

    def workload_overlap(self, a: int | str, b: int | str) -> dict[str, float | None]:
        """Jaccard index of the distinct CPU operator names and of the kernel names of two traces
        (None where either has none of that kind)."""
        from retime.replay import compare
        return compare.workload_overlap(self.con, self.resolve_trace(a), self.resolve_trace(b))

    def iteration(self, trace: int | str, *, window: str | None = None) -> dict[str, int | None]:
        """A measured trace's iteration time as replays are compared with it: step_ns, its median
        window (ProfilerStep#N unless `window` says another regular expression; None without one),
        and span_ns, first to last event on CPU threads and GPU streams (trace_spans)."""
        from retime.replay import compare
        return compare.iteration(self.con, self.resolve_trace(trace), window)

    def job_of(self, trace: int | str) -> str | None:
        """The job TRACE belongs to (None: none)."""
        return jobs.job_of(self.con, self.resolve_trace(trace))

    def job_ranks(self, trace: int | str) -> dict[int | None, int]:
        """rank -> trace id of the measured traces of the job TRACE belongs to (TRACE alone without one)."""
        _, ranks = jobs.ranks_of(self.con, self.resolve_trace(trace))
        return {rank: trace_id for trace_id, rank in ranks}

    def _replay_job(self, trace: int | str, chosen: Scenario, *, save: bool, window: str | None,
                    topology: "Topology | str | None", against: int | str | None) -> "JobReplay":
        """replay(..., all_ranks=True): the measured ranks as one graph (QueryError where `against`'s
        job lacks one of them)."""
        from retime.replay import engine
        from retime.replay import job as job_graph
        trace_id = self.resolve_trace(trace)
        if save:
            self._refuse_read_only("save a replay")
        with as_query_error(f"replay of the job of trace {trace_id}"):
            job, ranks = jobs.ranks_of(self.con, trace_id)
            graph = job_graph.of_ranks(self.con, job, ranks, self.path, self.on_progress)
            if graph is None:
                answer = job_graph.JobReplay([(rank, self.replay(rank_trace, chosen, save=save, window=window,
                                                                 topology=topology)) for rank_trace, rank in ranks])
            else:
                placed = self._placed(_server(topology, chosen), graph.graph, graph)
                timing = engine.retimed_on_links(graph.graph, chosen, placed)  # the replay and its save share it
                results = job_graph.replay(graph, chosen, window, placed, timing)
                answer = job_graph.JobReplay(list(zip(graph.ranks, results)))
                if save:
                    answer.saved_job = self._save_job(graph, chosen, results, lambda first: saved_job_name(job, first),
                                                      placed, timing)
        if save and answer.saved_job is None:  # a trace of no job, saved on its own
            answer.saved_job = self.job_of(answer.results[0].saved_trace_id)
        if against is not None:  # each rank against the same rank of the target's job
            target_ranks = self.job_ranks(against)
            missing = [rank for rank, _ in answer if rank not in target_ranks]
            if missing:
                raise QueryError(f"the job of {against} has no rank {', '.join(map(str, missing))}; comparing a job "
                                 "replay needs the same ranks")
            answer.against = {rank: self.against(result, target_ranks[rank], window=window) for rank, result in answer}
        return answer

    def _grow_job(self, trace: int | str, chosen: Scenario, *, ranks: int, copy_ranks: list[int] | None,
                  ranks_per_server: int | None, topology: "Topology | str | None", fixed_global_batch: bool,
                  window: str | None, save: bool, against: int | str | None) -> "GrownJob":
        """replay(..., all_ranks=True, ranks=N): the grown job (a saved one holds a trace per measured
        rank, each with its copies and the growth in its scenario record, so its span is the saved
        traces' slowest, as for any job; `against`'s ranks are 0 to N-1, rank i against rank i)."""
        from retime.replay import engine, grow
        from retime.replay import job as job_graph
        trace_id = self.resolve_trace(trace)
        copy_ranks = copy_ranks or list(chosen.copy_ranks) or None
        fixed_global_batch = fixed_global_batch or chosen.fixed_global_batch
        server = _server(topology, chosen)
        with as_query_error(f"growing the job of trace {trace_id}"):
            measured = grow.measured_job(self.con, trace_id, copy_ranks, self.path, self.on_progress)
            case = grow.prepare(self.con, measured, chosen, ranks, _as_topology(server) if server is not None else None,
                                ranks_per_server, fixed_global_batch)
            # on a topology, the distinct ranks fill its servers as the grown job's do (K a server), and
            # their copies and collectives share those servers' links (retime/replay/links.py)
            placed = (self._placed(case.topology.with_ranks_per_server(case.growth.per_server), case.grown.graph,
                                   case.grown) if case.topology is not None else None)
            timing = engine.retimed_on_links(case.grown.graph, case.scenario, placed)
            results = job_graph.replay(case.grown, case.scenario, window, placed, timing)
            answer = case.answer(results)
            if save:
                self._refuse_read_only("save a grown job")
                answer.saved_job = self._save_job(
                    case.grown, case.scenario, results, lambda first: f"{measured.job}-grown{ranks}-{first}", placed,
                    timing, extra=[answer.growth_record(rank) for rank in measured.graph.ranks], error_bar=answer.error_bar)
        if against is not None:
            target = self.resolve_trace(against)
            answer.compare({rank: r.measured_ns for rank, r in self.replay(target, all_ranks=True, window=window)
                            if rank is not None}, self.job_of(target))
        return answer

    def _save_job(self, graph, scenario: Scenario, results: list, name_of, placed, timing, **record) -> str:
        """Write a job replay (graph: a JobGraph) as a job of its own, a new trace per rank, named
        name_of(its first trace id); each result learns its saved trace. Returns the job's name."""
        from retime.replay import job as job_graph
        ids = [store_mod.next_trace_id(self.con) for _ in graph.trace_ids]
        name = name_of(ids[0])
        job_graph.save(self.con, graph, scenario, ids, name, placed, timing, **record)
        for result, new_id in zip(results, ids):
            result.saved_trace_id = new_id
        return name

    def capture(self, command: builtins.list[str], *, out: str | os.PathLike | None = None, steps: int = 3,
                wait: int = 1, warmup: int = 1, with_stack: bool = False, nsys: bool = False, job: str | None = None,
                ingest: bool = True, on_result: Callable[[IngestResult], None] | None = None) -> "CaptureResult":
        """Run a PyTorch command (["python", "train.py", ...], ["torchrun", ...]) under torch.profiler
        with what a replay needs (shapes, FLOPs, CUDA sync events; the schedule advances at each
        optimizer step: `steps` recorded after `wait` skipped and `warmup` warmed up; steps=0, the whole
        run), a trace per process written to `out` (default: capture-DATE-TIME), then ingested into
        this store (ingest=False: only written), the ranks of a torchrun job as one job (`job`, else
        the folder's name). With nsys=True, `nsys profile` records the command instead (steps=0: any
        command's whole run). A CaptureResult: the command's exit status, the traces, what a person
        should know (notes), and the IngestResults; CaptureError where no trace was written (its
        `result` holds the notes that say why)."""
        from pathlib import Path

        from retime import capture as capture_mod
        if ingest:  # a store that cannot take the traces is said before the run, not after it
            self._refuse_read_only("ingest captured traces")
        result = capture_mod.run(list(command), Path(out) if out is not None else None, steps=steps, wait=wait,
                                 warmup=warmup, with_stack=with_stack, nsys=nsys)
        if ingest:  # this run's traces only (a reused folder may hold older ones); ranks form one job
            result.ingested = self.ingest(result.traces, job=job or (result.out_dir.resolve().name if result.ranked else None),
                                          on_result=on_result)
        return result

    def report(self, trace: int | str, out: str | os.PathLike | None = None) -> str:
        """One self-contained HTML page of TRACE's stress points (retime/report.py: no scripts, opens
        offline), returned; written to `out` too where given."""
        from retime import report as report_mod
        page = report_mod.build(self, trace)
        if out is not None:
            try:
                with builtins.open(out, "w", encoding="utf-8") as f:
                    f.write(page)
            except OSError as exc:
                raise StoreError(f"{out}: cannot write ({exc.strerror})") from None
        return page

    def export_chrome(self, trace: int | str, out: str | os.PathLike) -> int:
        """Write a trace (measured or replayed) as Chrome JSON for Perfetto UI; returns bytes written."""
        from retime.export.chrome import export_chrome
        trace_id = self.resolve_trace(trace)
        with as_query_error(f"export of trace {trace_id}"):
            return export_chrome(self.con, trace_id, out)

    def export_chakra(self, trace: int | str, folder: str | os.PathLike) -> list[tuple[str, dict[str, int]]]:
        """Write TRACE as Chakra execution traces (retime/export/chakra.py) under `folder`: every rank of
        the job it belongs to as `{job}.{rank}.et` (a trace of no job: `trace{ID}.0.et`), for ASTRA-sim's
        workload prefix `{folder}/{job}`. Returns each file with its node and dependency counts."""
        from retime.export import chakra
        trace_id = self.resolve_trace(trace)
        job, ranks = jobs.ranks_of(self.con, trace_id)
        with as_query_error(f"Chakra export of trace {trace_id}"):
            try:
                written = chakra.export_job(self.con, ranks, job or f"trace{trace_id}", folder, self.path)
            except OSError as exc:
                raise QueryError(f"{exc.filename or folder}: cannot write Chakra files there "
                                 f"({exc.strerror or exc})") from None
        return [(str(path), counts) for path, counts in written]

    def info(self, trace: int | str) -> dict[str, pl.DataFrame]:
        """Summary of one trace: its row, its lanes and its event kinds."""
        trace_id = self.resolve_trace(trace)
        p = {"trace_id": trace_id}
        foundation.load(self.con, "host")  # trace_spans
        return {
            "trace": self.sql(load_sql("retime.reads", "info_trace"), params=p),
            "lanes": self.sql(load_sql("retime.reads", "info_lanes"), params=p),
            "kinds": self.sql(load_sql("retime.reads", "info_kinds"), params=p),
        }


def saved_job_name(job: str, first_trace_id: int) -> str:
    """The name a job's saved replay is stored under: its job's and its first trace id's."""
    return f"{job}-replay-{first_trace_id}"


def _server(topology, chosen: Scenario):
    """The server a replay is put on: the one given, else the scenario's (None: none)."""
    return topology if topology is not None else chosen.topology


def _as_topology(topology) -> "Topology":
    """A Topology from itself or a preset key."""
    from retime.replay import topology as topo
    return topology if isinstance(topology, topo.Topology) else topo.load(topology)


SCALAR_TYPES = {"BIGINT": "Int64", "INTEGER": "Int32", "DOUBLE": "Float64", "VARCHAR": "String", "BOOLEAN": "Boolean"}


def _rows_frame(result) -> pl.DataFrame:
    """A small result of scalar columns (a row per trace) as a DataFrame built from its rows, so a
    short command does not load pyarrow (its import costs more than the query)."""
    schema = {name: getattr(pl, SCALAR_TYPES[str(kind)]) for name, kind, *_ in result.description}
    return pl.DataFrame(result.fetchall(), schema=schema, orient="row")


def open_lake(lake_dir: str | os.PathLike) -> Store:
    """Query a Parquet lake (written by `retime export-lake`) exactly as a store."""
    return Store.on_lake(lake_dir)


def open(path: str | os.PathLike | None = None, *, read_only: bool = False,  # noqa: A001 - the API's verb
         threads: int | None = None, memory_limit: str | None = None) -> Store:
    """Open (creating on first write) the store at `path`, default $RETIME_DB or ./retime.duckdb.

    `threads` caps DuckDB's worker threads (default: one per core); `memory_limit` (e.g. '4GB',
    default $RETIME_MEMORY_LIMIT or 1GB) bounds DuckDB's memory, beyond which it spills to disk."""
    return Store(path, read_only=read_only, threads=threads, memory_limit=memory_limit)


def topology(name: str, *, move: Iterable[str] = (), link: Iterable[str] = ()) -> "Topology":
    """A server preset (retime/replay/presets/topologies.toml: `retime topology list`) with nodes moved
    (`move=["nic1=sw1"]`) and links set (`link=["nic=800Gb/s"]`), as `retime topology show` and a
    replay's `topology=` take it; `.show()` draws it as a tree."""
    from retime.replay import scenario
    return scenario.server(topology=name, move=tuple(move), link=tuple(link))
