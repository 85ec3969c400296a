"""`retime capture`: run a PyTorch script under torch.profiler (or under Nsight Systems, `nsys`) with
what a replay needs, then hand its traces to ingest. The profiling itself happens inside the script's
processes (retime/capture_boot/sitecustomize.py, first on their PYTHONPATH): torch.profiler over a
step schedule, or, under nsys, the recorded steps as NVTX ranges between cudaProfilerStart and Stop.
This module launches the command, waits for it and reads what each process wrote. torch is the
script's dependency, not retime's."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from retime.core.errors import arg, RetimeError


STATUS_PREFIX = "capture-status-"  # what each captured process writes beside its trace (capture_boot)


class CaptureError(RetimeError):
    """The command could not be run, or it wrote no trace (`result`, where it ran: its exit status and
    notes say why)."""

    def __init__(self, message: str, result: "CaptureResult | None" = None):
        super().__init__(message)
        self.result = result


@dataclass
class CaptureResult:
    returncode: int                # the command's exit status
    traces: list[Path]             # one per captured process (rank<R>.pt.trace.json.gz, or pid<P>...)
    notes: list[str] = field(default_factory=list)  # what a person should know (steps too few, no optimizer)
    ranked: bool = False           # every trace is a rank of one torchrun job
    out_dir: Path | None = None    # where the traces were written
    ingested: list = field(default_factory=list)  # Store.capture: an IngestResult per trace


def nsys_report(out_dir: Path) -> Path:
    """Where --nsys leaves its SQLite export (beside nsys's own .nsys-rep): named after the folder, so
    a report of several processes is ingested as the job of that name, as the folder's traces are."""
    folder = out_dir.resolve()
    return folder / f"{folder.name}.sqlite"


def nsys_command(nsys: str, command: list[str], out_dir: Path, steps: int) -> list[str]:
    """The `nsys profile` line that records `command` and exports it as SQLite: CUDA API calls,
    kernels, copies and syncs, NVTX ranges and OS runtime calls, no CPU sampling. With steps > 0 nsys
    records between the first cudaProfilerStart and cudaProfilerStop (the capture hook calls them
    around the recorded optimizer steps); with 0, the whole run."""
    line = [nsys, "profile", "--trace=cuda,nvtx,osrt", "--sample=none", "--cpuctxsw=none",
            f"--output={nsys_report(out_dir).with_suffix('')}", "--force-overwrite=true", "--export=sqlite"]
    if steps > 0:
        line += ["--capture-range=cudaProfilerApi", "--capture-range-end=stop"]
    return line + list(command)


def run(command: list[str], out_dir: Path | None = None, steps: int = 3, wait: int = 1, warmup: int = 1,
        with_stack: bool = False, nsys: bool = False) -> CaptureResult:
    """Run `command` with every Python process it starts profiled: `steps` optimizer steps recorded
    after `wait` skipped and `warmup` warmed up (steps=0: the whole run). Traces land in out_dir: a
    Kineto trace per process, or with `nsys` one Nsight Systems export of them all (any command,
    Python or not, with steps=0). `out_dir` defaults to capture-DATE-TIME. CaptureError where no trace was written (its `result` says why)."""
    if out_dir is None:
        from datetime import datetime
        out_dir = Path(f"capture-{datetime.now():%Y%m%d-%H%M%S}")
    if not command:
        raise CaptureError("no command to capture (retime capture -- python train.py ...)")
    nsys_path = shutil.which("nsys") if nsys else None
    if nsys and nsys_path is None:
        raise CaptureError("nsys is not on PATH: install Nsight Systems' CLI, or capture with torch.profiler "
                           f"(without {arg('nsys', 'True')})")
    if nsys and with_stack:
        raise CaptureError(f"{arg('with_stack', 'True')} records torch.profiler's Python stacks: not with {arg('nsys', 'True')}")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = nsys_report(out_dir)
    boot = str(resources.files("retime").joinpath("capture_boot"))
    env = dict(os.environ, RETIME_CAPTURE_DIR=str(out_dir.resolve()),
               RETIME_CAPTURE_STEPS=str(steps), RETIME_CAPTURE_WAIT=str(wait), RETIME_CAPTURE_WARMUP=str(warmup),
               RETIME_CAPTURE_STACK="1" if with_stack else "0",
               PYTHONPATH=os.pathsep.join([boot] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    env.pop("RETIME_CAPTURE_OWNER", None)  # set by the command's first captured process, for its children
    env.pop("RETIME_CAPTURE_NSYS", None)
    if nsys:  # the hook marks the steps for nsys instead of profiling; nsys starts the command itself
        env.update(RETIME_CAPTURE_NSYS=str(report))
        if report.exists():
            report.unlink()  # a reused --out: only this run's export is ingested
    line = nsys_command(nsys_path, command, out_dir, steps) if nsys else list(command)
    try:
        returncode = subprocess.call(line, env=env)
    except OSError as exc:
        raise CaptureError(f"{line[0]}: cannot run it ({exc.strerror or exc})") from None
    statuses = []
    for path in sorted(out_dir.glob(f"{STATUS_PREFIX}*.json")):  # read, then gone: the folder holds traces only
        statuses.append(json.loads(path.read_text()))
        path.unlink()
    written = [s for s in statuses if s["trace"] and Path(s["trace"]).is_file()]
    notes = [note for note in map(_note, statuses) if note]
    if not statuses and not (nsys and steps == 0):  # nsys records any command's whole run
        notes.append("no process of the command imported retime's capture hook: is it a Python command "
                     "(python SCRIPT, python -m MODULE, torchrun ...)?")
    if nsys:  # one export holds every process; with steps=0 it needs no hook
        traces = [report] if report.is_file() and (written or steps == 0) else []
    else:
        traces = sorted(Path(s["trace"]) for s in written)
    result = CaptureResult(returncode, traces, notes, ranked=bool(written) and all(s["rank"] is not None for s in written),
                           out_dir=out_dir)
    if not traces:
        raise CaptureError(f"{out_dir}: no trace was written", result)
    return result


def _note(status: dict) -> str | None:
    """What a process's status says a person should know, or None when it recorded as asked."""
    who = f"rank {status['rank']}" if status["rank"] is not None else f"process {status['pid']}"
    wanted, seen = status["steps_wanted"], status["optimizer_steps"]
    if wanted == 0:
        return None if status["trace"] else f"{who}: no trace written"
    if status.get("nsys") and not status.get("cuda"):
        return (f"{who}: no CUDA device, so nsys's capture range (cudaProfilerStart) never started; "
                "--steps 0 records the whole run")
    needed = status["wait"] + status["warmup"] + wanted
    if seen == 0:
        return (f"{who}: made no optimizer step, so the schedule never started; for a script without "
                "an optimizer (inference), capture the whole run with --steps 0")
    if seen < needed:
        recorded = max(0, seen - status["wait"] - status["warmup"])
        return (f"{who}: made {seen} optimizer steps, the schedule needs {needed} (wait {status['wait']}, "
                f"warm-up {status['warmup']}, {wanted} recorded): "
                + (f"{recorded} recorded" if status["trace"] else "nothing recorded; lower --wait/--warmup/--steps"))
    return None
