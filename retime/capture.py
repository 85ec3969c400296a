"""`retime capture`: run a PyTorch script under torch.profiler with what a replay needs, then hand
its traces to ingest. The profiling itself happens inside the script's processes
(retime/capture_boot/sitecustomize.py, first on their PYTHONPATH); this module launches the command,
waits for it and reads what each process wrote. torch is the script's dependency, not retime's."""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from retime.errors import RetimeError


STATUS_PREFIX = "capture-status-"  # what each captured process writes beside its trace (capture_boot)


class CaptureError(RetimeError):
    """The command could not be run, or it wrote no trace."""


@dataclass
class CaptureResult:
    returncode: int                # the command's exit status
    traces: list[Path]             # one per captured process (rank<R>.pt.trace.json.gz, or pid<P>...)
    notes: list[str] = field(default_factory=list)  # what a person should know (steps too few, no optimizer)
    ranked: bool = False           # every trace is a rank of one torchrun job


def run(command: list[str], out_dir: Path, steps: int = 3, wait: int = 1, warmup: int = 1,
        with_stack: bool = False) -> CaptureResult:
    """Run `command` with every Python process it starts profiled: `steps` optimizer steps recorded
    after `wait` skipped and `warmup` warmed up (steps=0: the whole run). Traces land in out_dir."""
    if not command:
        raise CaptureError("no command to capture (retime capture -- python train.py ...)")
    out_dir.mkdir(parents=True, exist_ok=True)
    boot = str(resources.files("retime").joinpath("capture_boot"))
    env = dict(os.environ, RETIME_CAPTURE_DIR=str(out_dir.resolve()), RETIME_CAPTURE_PID=str(os.getpid()),
               RETIME_CAPTURE_STEPS=str(steps), RETIME_CAPTURE_WAIT=str(wait), RETIME_CAPTURE_WARMUP=str(warmup),
               RETIME_CAPTURE_STACK="1" if with_stack else "0",
               PYTHONPATH=os.pathsep.join([boot] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    try:
        returncode = subprocess.call(command, env=env)
    except OSError as exc:
        raise CaptureError(f"{command[0]}: cannot run it ({exc.strerror or exc})") from None
    statuses = []
    for path in sorted(out_dir.glob(f"{STATUS_PREFIX}*.json")):  # read, then gone: the folder holds traces only
        statuses.append(json.loads(path.read_text()))
        path.unlink()
    written = [s for s in statuses if s["trace"] and Path(s["trace"]).is_file()]
    notes = [note for note in map(_note, statuses) if note]
    if not statuses:
        notes.append("no process of the command imported retime's capture hook: is it a Python command "
                     "(python SCRIPT, python -m MODULE, torchrun ...)?")
    return CaptureResult(returncode, sorted(Path(s["trace"]) for s in written), notes,
                         ranked=bool(written) and all(s["rank"] is not None for s in written))


def _note(status: dict) -> str | None:
    """What a process's status says a person should know, or None when it recorded as asked."""
    who = f"rank {status['rank']}" if status["rank"] is not None else f"process {status['pid']}"
    wanted, seen = status["steps_wanted"], status["optimizer_steps"]
    if wanted == 0:
        return None if status["trace"] else f"{who}: no trace written"
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
