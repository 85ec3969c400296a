"""The `retime` command: a thin click layer over retime.api.

Parses options, calls the library, renders. Every retime error is caught here once and printed as
one line with a non-zero exit status; no traceback reaches the user.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from retime.core.errors import RetimeError
from retime.replay import presets
from retime.replay.scenario import KNOBS
from retime.render import FORMATS, UNITS, human_bytes, render

class _Api:
    """retime.api, imported when a command first uses it (so `retime --help` loads no DuckDB)."""
    def __getattr__(self, name: str):
        from retime import api as module
        return getattr(module, name)


api = _Api()
PROGRESS_MIN_BYTES = 64 << 20  # files smaller than this ingest too fast for a bar to help

db_option = click.option("--db", envvar="RETIME_DB", default="retime.duckdb", show_default=True,
                         help="Store file (or set RETIME_DB).")
format_option = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)


def view_options(command):
    """--units and --wide: how a table shows times and text (csv, json and parquet keep raw ns)."""
    command = click.option("--wide", is_flag=True, help="Show every text cell in full (always so when piped).")(command)
    return click.option("--units", type=click.Choice(UNITS), default="auto", show_default=True,
                        help="Unit of a table's time columns (auto: the one that suits its values; ns: the store's numbers, "
                             "absolute times as stored).")(command)


class RetimeGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except RetimeError as exc:
            click.echo(f"error: {exc.cli_message()}", err=True)
            sys.exit(2)
        except BrokenPipeError:  # the reader went away (`retime ... | head`): stop quietly, as cat and grep do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the interpreter's final flush is silent
            sys.exit(0)
        except OSError as exc:  # an output path that cannot be written: a missing folder, no permission, a full disk
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: cannot write {where}{exc.strerror or exc}", err=True)
            sys.exit(2)


@click.group(cls=RetimeGroup)
@click.version_option(package_name="retime")
@click.option("--lake", type=click.Path(path_type=Path), help="Read a Parquet lake (retime export-lake) instead of --db.")
@click.pass_context
def main(ctx: click.Context, lake: Path | None) -> None:
    """Ingest profiler traces into DuckDB, re-time them, and find stress points in SQL."""
    ctx.obj = {"lake": lake}


def _reader(db: str):
    """The store a reading command uses: the --lake given to `retime`, else --db opened read-only."""
    lake = click.get_current_context().find_root().obj.get("lake")
    return api.open_lake(lake) if lake else api.open(db, read_only=True)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
@click.option("--job", help="Job name for these traces (default: a directory's name).")
@click.option("--threads", type=int, help="DuckDB worker threads (default: one per core).")
@click.option("--memory-limit", envvar="RETIME_MEMORY_LIMIT", help="DuckDB memory limit, e.g. 4GB (default 1GB).")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes reading files in parallel (each with its own memory limit).")
@format_option
def ingest(paths: tuple[Path, ...], db: str, job: str | None, threads: int | None, memory_limit: str | None,
           jobs: int, fmt: str) -> None:
    """Ingest trace files and job directories (one directory = one job, ranks read from the traces)."""
    from retime.ingest.pipeline import TRACE_SUFFIXES, expand_paths, skipped_files
    if click.get_current_context().find_root().obj.get("lake"):
        raise click.UsageError("--lake is read-only (a Parquet lake is written by export-lake); ingest writes to --db")
    found = expand_paths(paths)
    if not found:
        click.echo(f"error: no trace files ({', '.join(TRACE_SUFFIXES)}) under {', '.join(str(p) for p in paths)}; "
                   "nothing to ingest", err=True)
        sys.exit(1)
    on_terminal = fmt == "table" and sys.stderr.isatty()
    file_bars = []  # one file read at a time: a bar per large file
    job_bar = None  # --jobs N: one bar for the whole set
    total = len(found) if jobs > 1 else 0
    if on_terminal and total > 1:
        job_bar = click.progressbar(length=total, label=f"ingesting {total} files with {jobs} workers", file=sys.stderr)
        job_bar.__enter__()

    def on_file(path: str, size: int):
        if not on_terminal or size < PROGRESS_MIN_BYTES:
            return None
        bar = click.progressbar(length=size, label=f"reading {Path(path).name}", file=sys.stderr)
        bar.__enter__()
        file_bars.append(bar)
        return bar.update

    shown: dict[int, int] = {}  # warnings each result had when its line was printed

    def landed(result) -> None:
        shown[id(result)] = len(result.warnings)
        for bar in file_bars:
            bar.__exit__(None, None, None)
        file_bars.clear()
        if job_bar is not None:  # the result line takes the bar's line; the bar is drawn again below it
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
        if fmt == "table":
            _print_ingest_line(result)
        if job_bar is not None:
            job_bar.update(1)

    try:
        with api.open(db, threads=threads, memory_limit=memory_limit) as store:
            results = store.ingest(list(paths), job=job, on_file=on_file, jobs=jobs, on_result=landed)
    finally:
        if job_bar is not None:
            job_bar.__exit__(None, None, None)
    if fmt == "table":  # what was found once every file had landed (a folder that is not one job), once each
        for line in dict.fromkeys(w for r in results for w in r.warnings[shown.get(id(r), 0):]):
            click.echo(f"warning: {line}")
        for folder, others in skipped_files(paths).items():
            names = ", ".join(p.name for p in others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            click.echo(f"not read: {len(others)} file{'s' * (len(others) > 1)} under {folder} not named as traces "
                       f"({', '.join(TRACE_SUFFIXES)}): {names}")
    _summarize_ingest(results, fmt)


def _summarize_ingest(results, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps([vars(r) for r in results], indent=1))
    elif fmt == "csv":
        import polars as pl
        # one row per file: lists (the traces an nsys report became, their ranks) joined with ';'
        def flat(value):
            return ";".join("" if v is None else str(v) for v in value) if isinstance(value, list) else value
        click.echo(pl.DataFrame([{k: flat(v) for k, v in vars(r).items() if k != "warnings"} | {"warnings": len(r.warnings)}
                                 for r in results]).write_csv(), nl=False)
    failed = sum(r.status == "failed" for r in results)
    if fmt == "table" and len(results) > 1:
        done = sum(r.status == "ingested" for r in results)
        click.echo(f"{done} ingested, {sum(r.status == 'already' for r in results)} already in the store, {failed} failed")
    if failed:
        sys.exit(1)


def _print_ingest_line(r) -> None:
    if r.status == "failed":
        click.echo(f"error: {r.error}", err=True)
        return
    if r.status == "already":
        why = "same sha256" if r.same == "bytes" else "the same events: another file of that trace"
        click.echo(f"trace {r.trace_id}: {r.path} is already in the store ({why}); nothing to do")
        return
    size = f"/{r.world_size}" if r.world_size is not None else "/?"
    if len(r.trace_ids) > 1:
        ids = f"traces {r.trace_ids[0]}-{r.trace_ids[-1]}"
        known = [x for x in r.ranks if x is not None]
        rank = f"ranks {min(known)}-{max(known)}{size}" if known else f"{len(r.trace_ids)} processes"
    else:
        ids = f"trace {r.trace_id}"
        rank = f"rank {r.rank}{size}" if r.rank is not None else "no rank"
    mb = r.json_bytes / 1e6
    speed = f" ({mb / r.seconds:,.0f} MB/s)" if mb >= 10 and r.seconds else ""
    click.echo(f"{ids}: {r.format:<6} {r.events:>9,} events {r.lanes:>4} lanes  {rank:<10} "
               f"{r.seconds:6.2f} s{speed}  {r.path}")
    for line in r.warnings:
        click.echo(f"  warning: {line}")


@main.command()
@db_option
@format_option
@view_options
def traces(db: str, fmt: str, units: str, wide: bool) -> None:
    """List the traces the store holds."""
    with _reader(db) as store:
        click.echo(render(store.traces(), fmt, units, wide))


@main.command()
@click.argument("query")
@db_option
@click.option("--format", "fmt", type=click.Choice(FORMATS + ("parquet",)), default="table", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="Write the result here (required for parquet).")
@view_options
def sql(query: str, db: str, fmt: str, out: Path | None, units: str, wide: bool) -> None:
    """Run SQL on the store (read-only connection)."""
    with _reader(db) as store:
        df = store.sql(query)
    _emit(df, fmt, out, units, wide)


@main.command()
@click.argument("name")
@click.argument("trace", required=False)
@db_option
@click.option("--param", "params", multiple=True, metavar="K=V", help="A query parameter (repeatable).")
@click.option("--format", "fmt", type=click.Choice(FORMATS + ("parquet",)), default="table", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="Write the result here (required for parquet).")
@click.option("--all-ranks", is_flag=True, help="A per-trace query for every rank of TRACE's job, one block of rows per rank.")
@view_options
def query(name: str, trace: str | None, db: str, params: tuple[str, ...], fmt: str, out: Path | None,
          all_ranks: bool, units: str, wide: bool) -> None:
    """Run a named stress-point query on TRACE (or its job); `retime query list` shows them all."""
    if name in ("list", "describe"):  # `query list`: every query; `query describe NAME` (or list NAME): one, in full
        from retime.queries import runner
        if name == "describe" and not trace:
            raise click.UsageError("query describe NAME: which query (retime query list shows them)")
        click.echo(runner.describe(trace) if trace else render(runner.listing(), fmt if fmt != "parquet" else "table",
                                                              units, wide))
        return
    values = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.UsageError(f"--param {item!r}: expected K=V")
        values[key.strip()] = value
    with _reader(db) as store:
        df = store.query(name, trace, all_ranks=all_ranks, **values)
        from retime.queries import runner
        if df.height == 0 and fmt == "table":
            click.echo(f"no rows: {runner.catalogue()[name].empty}")
            return
        per_trace = trace is not None and not all_ranks and "trace_id" in {p.name for p in runner.catalogue()[name].params}
        origin = store.trace_extent(trace)[0] if per_trace else None  # a job's ranks: from the earliest time shown
    _emit(df, fmt, out, units, wide, origin)


def _emit(df, fmt: str, out: Path | None, units: str = "auto", wide: bool = False, origin_ns: int | None = None) -> None:
    if fmt == "parquet":
        if out is None:
            raise click.UsageError("--format parquet needs --out FILE")
        try:
            df.write_parquet(out)
        except OSError as exc:  # polars puts the path inside its message and leaves errno and filename empty
            reason = "Is a directory" if isinstance(exc, IsADirectoryError) else \
                "No such file or directory" if isinstance(exc, FileNotFoundError) else str(exc)
            raise OSError(exc.errno, reason, str(out)) from None
        click.echo(f"{df.height} rows written to {out}")
    elif out is not None:
        out.write_text(render(df, fmt))
        click.echo(f"{df.height} rows written to {out}")
    else:
        text = render(df, fmt, units, wide, origin_ns)
        click.echo(text, nl=not text.endswith("\n"))  # CSV ends with its own newline


def scenario_options(command):
    """The options that describe a scenario, shared by replay and sweep."""
    options = [
        click.option("--set", "settings", multiple=True, metavar="KNOB=VALUE",
                     help=f"A hardware change: {', '.join(KNOBS)} (e.g. pcie.h2d=2x, hbm=3.35TB/s, "
                          "launch.latency=5us, net=400GB/s). Repeatable."),
        click.option("--scale", multiple=True, metavar="REGEX=FACTOR",
                     help="Multiply the own time of events whose name matches REGEX (host_prep=2x: twice as long; "
                          "'^ncclDevKernel=0.5x'). Repeatable."),
        click.option("--remove", multiple=True, metavar="REGEX",
                     help="Make events whose name matches REGEX free (what if this op cost nothing). Repeatable."),
        click.option("--scenario", "scenario_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="A TOML scenario file (set / scale / remove / to / from); flags override it."),
        click.option("--to", "to_gpu", help=f"Retarget onto a GPU preset: {', '.join(presets.presets())}; or onto a part "
                                            "known by its specs, a file PART.toml (one table of gpus.toml's fields; "
                                            "based_on = PRESET takes the rest from a preset)."),
        click.option("--from", "from_gpu", help="The preset of the GPU the trace ran on (default: read from the trace)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _scenario(store, trace: str, settings, scale, remove, scenario_file, to_gpu, from_gpu, topology_name=None,
              moves=(), link_settings=(), ranks_per_server=None, places=()):
    """The flags' Scenario, as the Python API builds it (Store.scenario): the CLI only parses flags."""
    return store.scenario(trace, list(settings), scale=list(scale), remove=list(remove), file=scenario_file,
                          to=to_gpu, source=from_gpu, topology=topology_name, move=list(moves),
                          link=list(link_settings), ranks_per_server=ranks_per_server, place=list(places))


def topology_options(f):
    """--topology, --move, --link and --ranks-per-server, for replay and sweep."""
    for option in reversed(TOPOLOGY_OPTIONS):
        f = option(f)
    return f


TOPOLOGY_OPTIONS = [
    click.option("--topology", "topology_name", metavar="NAME", default=None,
                 help="Put the trace (or each rank, --all-ranks) on a server preset (retime topology list): copies "
                      "between GPU and host, and collectives between servers and over NVLink, share its links max-min "
                      "fairly where they overlap."),
    click.option("--move", "moves", multiple=True, metavar="NODE=PARENT",
                 help="With --topology: hang a node under another parent (--move gpu1=sw1). Repeatable."),
    click.option("--link", "link_settings", multiple=True, metavar="LINK=VALUE",
                 help="With --topology: a link's bandwidth as a factor or GB/s (--link sw0=2x), pcie.gen=6, or the NICs' "
                      "ports (--link nic=800Gb/s, --link nic3.port=2x), or the GPUs' NVLink ports (--link nvlink=2x, "
                      "--link gpu3.nvlink=100GB/s). Repeatable."),
    click.option("--ranks-per-server", "ranks_per_server", type=click.IntRange(min=1), default=None, metavar="N",
                 help="With --topology and --all-ranks: N of the job's ranks a server (default: one per GPU); ranks on "
                      "other servers reach each other's through their NICs."),
    click.option("--place", "places", multiple=True, metavar="RANK=[SERVER/]gpuN",
                 help="With --topology and --all-ranks: put a rank on a GPU (--place 1=gpu2), of another server too "
                      "(--place 4=0/gpu4); the other ranks stay where they were. Repeatable."),
]


@main.command()
@click.argument("trace")
@db_option
@scenario_options
@click.option("--save", is_flag=True, help="Also write the replay as a new trace (queries, reports and diffs then work on it).")
@click.option("--all-ranks", is_flag=True, help="Replay every rank of TRACE's job; print each and the job's total.")
@click.option("--against", "target", metavar="TRACE",
              help="A measured trace of the changed run: report the prediction's error against it "
                   "(with --all-ranks: each rank against the same rank of TRACE's job; with --ranks N: the grown "
                   "job against TRACE's job of N ranks, rank i against rank i).")
@topology_options
@click.option("--link-load", "link_load", metavar="BUCKET", default=None,
              help="With --topology: the busiest links' bytes and utilization in time buckets of BUCKET (1ms, 100us).")
@click.option("--window", metavar="REGEX", default=None,
              help="Report and compare these annotation / NVTX windows instead of ProfilerStep#N.")
@click.option("--ranks", "grow_to", type=click.IntRange(min=1), default=None, metavar="N",
              help="With --all-ranks: the job as a data-parallel job of N ranks, rank i a copy of measured rank "
                   "i mod R, each collective re-timed for N ranks on servers of --ranks-per-server (else the "
                   "topology's, else 8) GPUs and the network between them (the topology's NICs, else the part's).")
@click.option("--copy-ranks", "copy_ranks", default=None, metavar="A-B|A,B,..",
              help="With --ranks: grow the job from these measured ranks only (default: all).")
@click.option("--global-batch", "global_batch", type=click.Choice(["per-rank", "fixed"]), default="per-rank",
              show_default=True,
              help="With --ranks: per-rank keeps each rank's batch (weak scaling); fixed shrinks it by the measured "
                   "ranks over N (strong scaling, the batch knob).")
@format_option
def replay(trace: str, db: str, settings: tuple[str, ...], scale: tuple[str, ...], remove: tuple[str, ...],
           scenario_file: Path | None, to_gpu: str | None, from_gpu: str | None, save: bool, all_ranks: bool,
           target: str | None, topology_name: str | None, moves: tuple[str, ...], link_settings: tuple[str, ...],
           ranks_per_server: int | None, places: tuple[str, ...], link_load: str | None, window: str | None,
           grow_to: int | None, copy_ranks: str | None, global_batch: str, fmt: str) -> None:
    """Predict TRACE's run time on changed hardware, and what would bound it."""
    with (api.open(db) if save else _reader(db)) as store:
        chosen = _scenario(store, trace, settings, scale, remove, scenario_file, to_gpu, from_gpu, topology_name,
                           moves, link_settings, ranks_per_server, places)
        bucket_ns = _bucket_ns(link_load, chosen.topology)
        _show_progress(store, fmt)
        result = store.replay(trace, chosen, all_ranks=all_ranks, ranks=grow_to, copy_ranks=_rank_list(copy_ranks),
                              fixed_global_batch=global_batch == "fixed", save=save, window=window, against=target)
    from retime.replay.grow import GrownJob
    from retime.replay.job import JobReplay
    if isinstance(result, GrownJob):
        _print_grown_job(result, fmt)
        return
    if isinstance(result, JobReplay):
        _print_job_replay(result, fmt, bucket_ns)
        return
    doc = result.to_dict(bucket_ns)
    if fmt == "json":
        click.echo(json.dumps(doc, indent=1))
        return
    if fmt == "csv":
        import polars as pl
        flat = {k: v for k, v in doc.items() if k not in ("critical_path_ns", "steps", "against", "error_bar", "warnings", "notes", "links",
                                                          "link_demand", "collided", "link_load")}
        flat["expected_error_pct"] = result.error_bar.pct if result.error_bar else None
        click.echo(pl.DataFrame([flat]).write_csv(), nl=False)
        return
    click.echo(f"trace {result.trace_id} on {result.scenario}")
    click.echo(f"  measured   {result.measured_ns / 1e6:12.3f} ms   (span: first to last event on CPU threads and GPU streams)")
    click.echo(f"  predicted  {result.predicted_ns / 1e6:12.3f} ms   speedup {result.speedup:.3f}x")
    if result.error_bar is not None:
        click.echo(f"  expected error {result.error_bar.text}")
    if chosen.kernel_model is not None:
        click.echo(f"  retargeted {chosen.kernel_model.source} -> {chosen.kernel_model.target} (per-kernel model; "
                   "the host is unchanged unless --set cpu.speed)")
    if (step := result.median_step()) is not None:  # as --against, bench/fidelity.py and the error bars compare
        measured, predicted = step
        click.echo(f"  per step   {measured / 1e6:12.3f} ms measured, {predicted / 1e6:.3f} ms predicted "
                   f"(median of {len(result.steps)} {_windows_label(window)}; speedup {measured / predicted:.3f}x)")
    total = sum(result.critical_path_ns.values()) or 1
    shares = ", ".join(f"{k} {100 * v / total:.1f}%" for k, v in
                       sorted(result.critical_path_ns.items(), key=lambda kv: -kv[1]) if 100 * v / total >= 0.1)
    click.echo(f"  bound by   {result.bound_by} (critical path: {shares})")
    if (against := result.against) is not None:
        click.echo(f"  against    trace {against.target_trace_id}: {against.basis} measured "
                   f"{against.measured_ns / 1e6:.3f} ms, predicted {against.predicted_ns / 1e6:.3f} ms, "
                   f"error {against.error_pct:+.1f}%")
        if against.warning:
            click.echo(f"  warning    {against.warning}")
    for line in result.notes:
        click.echo(f"  note       {line}")
    for line in result.warnings:
        click.echo(f"  warning    {line}")
    if result.saved_trace_id is not None:
        click.echo(f"  saved as trace {result.saved_trace_id} (try: retime query trace_diff {result.trace_id} "
                   f"--param other_id={result.saved_trace_id})")
    _echo_links(result.link_report, bucket_ns)


def _windows_label(window: str | None) -> str:
    """The windows a replay reports, in words: "ProfilerStep windows"; "train step windows" for a
    --window that names one literal ('^train step$', 'fwd\\.bwd': anchors and escapes dropped); else
    "windows matching REGEX", the expression as typed."""
    if window is None:
        return "ProfilerStep windows"
    import re
    body = window.removeprefix("^").removesuffix("$")
    if re.search(r"[.^$*+?()\[\]{}|\\]", re.sub(r"\\[^A-Za-z0-9]", "", body)):
        return f"windows matching {window}"
    literal = re.sub(r"\\([^A-Za-z0-9])", r"\1", body)
    return f"{literal} windows"


def _bucket_ns(raw: str | None, server) -> int | None:
    """--link-load's bucket in ns (None when not asked for)."""
    if raw is None:
        return None
    if server is None:
        raise click.UsageError("--link-load needs --topology NAME")
    from retime.replay.scenario import NS, VALUE
    m = VALUE.match(raw)
    if not m or (m[2] or "").lower() not in NS or float(m[1]) <= 0:
        raise click.UsageError(f"--link-load {raw}: expected a duration like 1ms or 100us")
    return max(1, round(float(m[1]) * NS[m[2].lower()]))


def _echo_links(report, bucket_ns: int | None = None) -> None:
    """The links transfers crossed (the most over-subscribed first), the transfers they held back,
    and with --link-load the busiest links over time."""
    if report is None or not report.uses:
        return
    demand = report.demand()
    click.echo("  links      (server link direction: GB/s, GB carried, copies and ranks' network and NVLink transfers "
               "on it, peak demand over its bandwidth, ms wanted >= 80% and > 100% of it, transfers slowed)")
    for row in demand.head(12).iter_rows(named=True):
        click.echo(f"    {row['server']} {row['link']:<11} {row['direction']:<9} {row['gb_s']:7.1f} GB/s "
                   f"{row['bytes'] / 1e9:10.3f} GB {row['copies']:6d} copies {row['network']:6d} network "
                   f"{row['fabric']:6d} nvlink "
                   f"peak {row['peak_demand']:8.2f}x {row['over_80_ns'] / 1e6:9.3f} ms >=80% "
                   f"{row['over_100_ns'] / 1e6:9.3f} ms >100% {row['slowed']:6d} slowed")
    collided = report.collided()
    if collided.height:
        click.echo(f"  held back  ({collided.height} transfers; the most delayed: rank kind bytes, alone -> shared, name)")
        for row in collided.head(8).iter_rows(named=True):
            click.echo(f"    rank {row['rank']} {row['kind']:<7} {row['bytes']:>12,} B {row['wanted_ns'] / 1e3:10.1f} us -> "
                       f"{row['took_ns'] / 1e3:10.1f} us  {row['name'][:60]}")
    if bucket_ns is not None:
        busiest = demand.head(4).select("server", "link", "direction")
        load = report.load(bucket_ns).join(busiest, on=["server", "link", "direction"])
        click.echo(f"  link load  (buckets of {bucket_ns / 1e6:g} ms from the replay's start: GB, utilization; the 4 busiest links)")
        for row in load.iter_rows(named=True):
            click.echo(f"    {row['server']} {row['link']:<9} {row['direction']:<9} {row['start_ns'] / 1e6:10.3f} ms "
                       f"{row['bytes'] / 1e9:10.6f} GB {100 * row['utilization']:6.1f}%")


@main.command()
@click.argument("trace")
@db_option
@click.option("--grid", "grid", multiple=True, required=True, metavar="KNOB=V1,V2,...",
              help="A knob and the values to try (pcie.h2d=1x,2x,4x), or with --topology a link (link.nic=100Gb/s,400Gb/s, "
                   "link.sw0=1x,2x, link.pcie.gen=5,6) or a node's parent (move.nic3=sw1,sw0). Repeatable: the sweep is every combination.")
@scenario_options
@click.option("--all-ranks", is_flag=True, help="Sweep TRACE's whole job as one graph (span: the job's).")
@topology_options
@click.option("--limit", default=20, show_default=True, help="Scenarios to print, fastest first (0: all).")
@format_option
@view_options
def sweep(trace: str, db: str, grid: tuple[str, ...], settings: tuple[str, ...], scale: tuple[str, ...],
          remove: tuple[str, ...], scenario_file: Path | None, to_gpu: str | None, from_gpu: str | None,
          all_ranks: bool, topology_name: str | None, moves: tuple[str, ...], link_settings: tuple[str, ...],
          ranks_per_server: int | None, places: tuple[str, ...], limit: int, fmt: str, units: str, wide: bool) -> None:
    """Replay TRACE under every combination of knob values at once; rank the knobs by effect."""
    with _reader(db) as store:
        base = _scenario(store, trace, settings, scale, remove, scenario_file, to_gpu, from_gpu, topology_name,
                         moves, link_settings, ranks_per_server, places)
        _show_progress(store, fmt)
        result = store.sweep(trace, list(grid), base, all_ranks=all_ranks)
    table = result.scenarios.sort("predicted_span_ns")
    if fmt == "json":
        click.echo(json.dumps({"trace_id": result.trace_id, "measured_ns": result.measured_ns,
                               "measured_step_ns": result.measured_step_ns, "base": base.label,
                               "scenarios": table.to_dicts(), "sensitivity": result.sensitivity.to_dicts()}, indent=1))
        return
    if fmt == "csv":
        click.echo(render(table, "csv"), nl=False)
        return
    click.echo(f"trace {result.trace_id}: {table.height} scenarios on {base.label}; measured span "
               f"{result.measured_ns / 1e6:.3f} ms" + (f", median step {result.measured_step_ns / 1e6:.3f} ms"
                                                        if result.measured_step_ns else ""))
    shown = table if limit == 0 else table.head(limit)
    click.echo(render(shown, "table", units, wide))
    if shown.height < table.height:
        click.echo(f"({table.height - shown.height} slower scenarios not shown; --limit 0 or --format csv for all)")
    click.echo("knobs by effect (mean predicted span at each knob's best and worst value, over the other knobs):")
    click.echo(render(result.sensitivity, "table", units, wide))


class _Bars:
    """Progress of the store's long steps as bars on stderr, one per task (a graph build, a sweep),
    each closed when its task is done, so result lines never run into a bar."""

    def __init__(self):
        self.task, self.bar, self.done = None, None, 0

    def __call__(self, task: str, done: int, total: int) -> None:
        if task != self.task:
            self.close()
            self.task, self.done = task, 0
            self.bar = click.progressbar(length=max(total, 1), label=task, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        self.task, self.bar = None, None


def _show_progress(store, fmt: str = "table") -> None:
    """On a terminal, the store's long steps draw bars on stderr (never into csv/json output)."""
    if fmt == "table" and sys.stderr.isatty():
        store.on_progress = _Bars()


def _rank_list(raw: str | None) -> list[int] | None:
    """--copy-ranks: "0-3" or "0,2,5" (or both, "0-3,6") as ranks."""
    if raw is None:
        return None
    out = []
    try:
        for part in raw.split(","):
            low, _, high = part.strip().partition("-")
            out += list(range(int(low), int(high) + 1)) if high else [int(low)]
    except ValueError:
        raise click.UsageError(f"--copy-ranks {raw}: ranks as 0-3 or 0,2,5") from None
    return out


def _print_grown_job(grown, fmt: str) -> None:
    import polars as pl
    doc = grown.to_dict()
    if fmt == "json":
        click.echo(json.dumps(doc, indent=1))
        return
    click.echo(render(pl.DataFrame(grown.rows(), schema_overrides={"rank": pl.Int64, "trace_id": pl.Int64}), fmt))
    if fmt != "table":
        return
    g = grown.growth
    click.echo(f"grown to {g.ranks} ranks on {g.servers} server(s) of {g.per_server} GPUs from measured ranks "
               f"{', '.join(map(str, grown.measured_ranks))} (each row: a measured rank and its copies; the last: the job)")
    click.echo(f"  job        {grown.measured_ns / 1e6:.3f} ms measured (those ranks), {grown.predicted_ns / 1e6:.3f} ms "
               f"predicted, speedup {grown.speedup:.3f}x")
    if g.nic_gb_s is not None:
        click.echo(f"  network    {g.nic_gb_s:g} GB/s per GPU between servers, {g.step_latency_us:g} µs a step "
                   f"({g.network_source}); each GPU sends {grown.network_gb * 1e3:.3f} MB to other servers, "
                   f"{100 * grown.between_servers_share:.0f}% of the collectives' transfer time")
    for link in grown.under_load:
        click.echo(f"  link       {link['link']}: {link['gb'] * 1e3:.3f} MB at {link['gb_s']:g} GB/s, busy "
                   f"{100 * link['busy_share']:.2f}% of the job's predicted span")
    click.echo(f"  collectives {len(grown.collectives.factor)} re-timed for {g.ranks} ranks (median x"
               f"{doc['collectives']['median_factor'] or 1:.3f} of their measured transfer)")
    click.echo(f"  expected error {grown.error_bar.text}")
    if grown.against is not None:
        a = grown.against
        click.echo(f"  against    job {a.job!r}: measured {a.measured_ns / 1e6:.3f} ms, predicted "
                   f"{a.predicted_ns / 1e6:.3f} ms, error {a.error_pct:+.1f}%; each rank against the same rank: "
                   f"median {a.rank_median_abs_error_pct:.1f}%, max {a.rank_max_abs_error_pct:.1f}% (every rank at "
                   f"the measured ranks' median span: median {a.naive_rank_median_abs_error_pct:.1f}%)")
    for line in grown.notes:
        click.echo(f"  note       {line}")
    if grown.saved_job is not None:
        click.echo(f"  saved as job {grown.saved_job!r}, a trace per measured rank with its copies in its scenario "
                   f"(try: retime query straggler_ranks --param job='{grown.saved_job}')")


def _print_job_replay(answer, fmt: str, bucket_ns: int | None = None) -> None:
    import polars as pl
    if fmt == "json":
        click.echo(json.dumps(answer.to_dict(bucket_ns), indent=1))
        return
    first = answer.results[0]
    click.echo(render(pl.DataFrame(answer.rows(), schema_overrides={"rank": pl.Int64, "trace_id": pl.Int64}), fmt))
    if fmt == "table":
        click.echo(f"scenario: {first.scenario}; the ranks are re-timed as one graph (a GPU collective's "
                   "transfer starts when the last rank arrives); the last row is the job (its slowest rank)")
        if first.error_bar is not None:
            click.echo(f"expected error {first.error_bar.text}")
        _echo_links(first.link_report, bucket_ns)
        if answer.saved_job is not None:
            click.echo(f"saved as job {answer.saved_job!r}, a trace per rank (try: retime query straggler_ranks "
                       f"--param job='{answer.saved_job}')")


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@db_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder for the traces (default: ./capture-YYYYMMDD-HHMMSS).")
@click.option("--steps", type=click.IntRange(min=0), default=3, show_default=True,
              help="Optimizer steps to record (0: the whole run, for scripts without an optimizer).")
@click.option("--wait", type=click.IntRange(min=0), default=1, show_default=True, help="Optimizer steps skipped first.")
@click.option("--warmup", type=click.IntRange(min=0), default=1, show_default=True,
              help="Optimizer steps profiled but not kept, after the wait.")
@click.option("--with-stack", is_flag=True, help="Record Python stacks too (larger traces, slower run).")
@click.option("--nsys", is_flag=True,
              help="Record with Nsight Systems (nsys on PATH) instead: one SQLite export of every process, "
                   "the recorded steps between cudaProfilerStart/Stop as NVTX ProfilerStep#N ranges.")
@click.option("--job", help="Job name for the traces (default: the folder's name).")
@click.option("--no-ingest", is_flag=True, help="Only write the traces.")
def capture(command: tuple[str, ...], db: str, out_dir: Path | None, steps: int, wait: int, warmup: int,
            with_stack: bool, nsys: bool, job: str | None, no_ingest: bool) -> None:
    """Run a PyTorch command under torch.profiler with what a replay needs, then ingest its traces.

    retime capture -- python train.py ARGS; retime capture -- torchrun --nproc-per-node 8 train.py (a trace
    per rank, one job). Shapes, FLOPs and CUDA sync events are on; the schedule advances at each optimizer
    step. The command's own Python needs torch. With --nsys, nsys profile records the command instead
    (with --steps 0, any command's whole run)."""
    from retime import capture as capture_mod
    options = dict(steps=steps, wait=wait, warmup=warmup, with_stack=with_stack, nsys=nsys)
    try:
        if no_ingest:
            result = capture_mod.run(list(command), out_dir, **options)
        else:
            with api.open(db) as store:
                result = store.capture(list(command), out=out_dir, job=job, **options)
    except capture_mod.CaptureError as exc:
        if exc.result is not None:
            _capture_warnings(exc.result, command[0])
        raise
    _capture_warnings(result, command[0])
    click.echo(f"wrote {len(result.traces)} trace{'s' * (len(result.traces) > 1)} to {result.out_dir}")
    if not no_ingest:
        for ingested in result.ingested:
            _print_ingest_line(ingested)
        _summarize_ingest(result.ingested, "table")


def _capture_warnings(result, program: str) -> None:
    for note in result.notes:
        click.echo(f"warning: {note}", err=True)
    if result.returncode != 0:
        click.echo(f"warning: {program} exited with status {result.returncode}", err=True)


@main.group()
def topology() -> None:
    """Server presets for --topology: their nodes, links and bandwidths."""


@topology.command("list")
def topology_list() -> None:
    """Every topology preset."""
    from retime.replay import topology as topo
    for key in topo.presets():
        click.echo(f"{key}: {topo.load(key).name}")


@topology.command("show")
@click.argument("name")
@click.option("--move", "moves", multiple=True, metavar="NODE=PARENT", help="Hang a node under another parent.")
@click.option("--link", "link_settings", multiple=True, metavar="LINK=VALUE", help="A link's bandwidth (2x, 32GB/s) or pcie.gen=6.")
@click.option("--svg", "svg_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the tree as an SVG file (as the report draws a topology replay's server).")
def topology_show(name: str, moves: tuple[str, ...], link_settings: tuple[str, ...], svg_path: Path | None) -> None:
    """Draw a server preset as a tree, each link with its bandwidth, and where its numbers come from."""
    server = api.topology(name, move=moves, link=link_settings)
    click.echo(server.show())
    click.echo(f"source: {server.source}")
    if svg_path is not None:
        from retime import charts
        rows = [{"link": link, "parent": server.above(link),
                 "gb_s": server.gb_s[link], "bytes": None, "peak_demand": None} for link in server.links]
        svg = charts.tree(rows, legend=False)
        try:
            svg_path.write_text(f'<svg xmlns="http://www.w3.org/2000/svg"{svg[len("<svg"):]}\n')
        except OSError as exc:
            raise click.ClickException(f"{svg_path}: cannot write ({exc.strerror})") from None
        click.echo(f"wrote {svg_path}")


@main.command("export-lake")
@click.argument("out_dir", type=click.Path(path_type=Path))
@db_option
def export_lake(out_dir: Path, db: str) -> None:
    """Write every table as Parquet partitioned by trace (Hive layout) for DuckDB, Spark SQL, Trino..."""
    with api.open(db, read_only=True) as store:
        written = store.export_lake(out_dir)
    click.echo(f"wrote {out_dir}: " + ", ".join(f"{table} {rows:,} rows" for table, rows in written.items()))
    click.echo(f"query it with: retime --lake {out_dir} sql \"SELECT ...\"")


@main.command()
@click.argument("trace")
@db_option
@click.option("--chrome", "out", type=click.Path(path_type=Path), default=None,
              help="Chrome JSON file to write (.json or .json.gz); Perfetto UI opens it.")
@click.option("--chakra", "chakra_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for Chakra execution traces (one .et file per rank of TRACE's job) for ASTRA-sim.")
def export(trace: str, db: str, out: Path | None, chakra_dir: Path | None) -> None:
    """Write TRACE (measured or a saved replay) as Chrome Trace Event Format JSON, or as Chakra
    execution traces."""
    if (out is None) == (chakra_dir is None):
        raise click.UsageError("give one of --chrome FILE or --chakra DIR")
    with _reader(db) as store:
        if out is not None:
            size = store.export_chrome(trace, out)
            click.echo(f"wrote {out} ({human_bytes(size)})")
            return
        for path, counts in store.export_chakra(trace, chakra_dir):
            click.echo(f"wrote {path} ({counts['nodes']:,} nodes, {counts['ctrl_deps'] + counts['data_deps']:,} "
                       f"dependencies, {human_bytes(counts['bytes'])})")


@main.command()
@click.argument("trace")
@db_option
@click.option("--html", "out", required=True, type=click.Path(path_type=Path), help="Where to write the page.")
def report(trace: str, db: str, out: Path) -> None:
    """Write one self-contained HTML page of TRACE's stress points (works offline)."""
    with _reader(db) as store:
        page = store.report(trace, out)
    click.echo(f"wrote {out} ({human_bytes(len(page.encode()))})")


@main.command()
@click.argument("trace")
@db_option
@format_option
def info(trace: str, db: str, fmt: str) -> None:
    """Summary of one trace (by id, sha256 prefix or path): span, lanes, event kinds, devices."""
    with _reader(db) as store:
        parts = store.info(trace)
    if fmt == "json":
        click.echo(json.dumps({k: v.to_dicts() for k, v in parts.items()}, default=str, indent=1))
        return
    for title, df in parts.items():
        if fmt == "table":
            click.echo(f"\n== {title}")
            if title == "trace":
                row = df.to_dicts()[0]
                for key, value in row.items():
                    click.echo(f"  {key:<16} {value}")
                continue
        click.echo(render(df, fmt))


if __name__ == "__main__":
    main()
