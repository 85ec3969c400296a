"""`retime capture` runs a real PyTorch script (the CPU build) under torch.profiler and ingests what
it wrote: the recorded optimizer steps as ProfilerStep windows, shapes on, one trace per rank of a
torchrun job; with --nsys, under Nsight Systems. Tests that run a PyTorch script are skipped where
torch is not installed (retime does not depend on it)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import retime
from retime import capture as capture_mod
from retime.cli import main

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")

TRAIN = """
import torch
from torch import nn
model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for step in range(STEPS):
    x, y = torch.randn(32, 64), torch.randint(0, 10, (32,))
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
"""
INFER = """
import torch
from torch import nn
model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
with torch.no_grad():
    for _ in range(2):
        model(torch.randn(4, 3, 32, 32))
"""
DDP = """
import torch, torch.distributed as dist
from torch import nn
dist.init_process_group("gloo")
model = nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for step in range(4):
    x, y = torch.randn(32, 64), torch.randint(0, 10, (32,))
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
dist.destroy_process_group()
"""


def script(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def capture(*args):
    return CliRunner().invoke(main, ["capture", *map(str, args)])


@needs_torch
def test_a_training_script_is_recorded_over_its_optimizer_steps_and_ingested(tmp_path):
    train = script(tmp_path, "train.py", TRAIN.replace("STEPS", "6"))
    db = tmp_path / "s.duckdb"
    result = capture("--out", tmp_path / "out", "--db", db, "--steps", 2, "--", "python", train)
    assert result.exit_code == 0, result.output
    assert "wrote 1 trace to" in result.output
    with retime.open(db, read_only=True) as store:
        [trace_id] = store.traces()["trace_id"].to_list()
        steps = store.query("step_times", trace_id)
        assert steps.height == 2 and all(n > 0 for n in steps["cpu_ops"])
        shapes = store.sql(f"SELECT count(*) AS n FROM op_shapes WHERE trace_id = {trace_id}")["n"][0]
        assert shapes > 0  # record_shapes on: the roofline and the replay's intensities have their inputs
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [p.name for p in (tmp_path / "out").glob("*.pt.trace.json.gz")]


@needs_torch
def test_too_few_steps_or_no_optimizer_is_said_and_the_whole_run_can_be_taken(tmp_path):
    short = script(tmp_path, "short.py", TRAIN.replace("STEPS", "2"))
    result = capture("--out", tmp_path / "a", "--no-ingest", "--steps", 3, "--", "python", short)
    assert "made 2 optimizer steps, the schedule needs 5" in result.output
    infer = script(tmp_path, "infer.py", INFER)
    none = capture("--out", tmp_path / "b", "--no-ingest", "--", "python", infer)
    assert none.exit_code == 2 and "made no optimizer step" in none.output and "--steps 0" in none.output
    assert "error: " in none.output and "no trace was written" in none.output
    whole = capture("--out", tmp_path / "c", "--db", tmp_path / "s.duckdb", "--steps", 0, "--", "python", infer)
    assert whole.exit_code == 0, whole.output
    with retime.open(tmp_path / "s.duckdb", read_only=True) as store:
        names = store.sql("SELECT DISTINCT name FROM events WHERE kind = 'cpu_op'")["name"].to_list()
        assert "aten::conv2d" in names


@needs_torch
@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun is not on PATH")
def test_each_rank_of_a_torchrun_job_is_one_trace_of_one_job(tmp_path):
    ddp = script(tmp_path, "ddp.py", DDP)
    db = tmp_path / "s.duckdb"
    result = capture("--out", tmp_path / "job", "--db", db, "--steps", 2, "--", "torchrun", "--nproc-per-node", 2, ddp)
    assert result.exit_code == 0, result.output
    with retime.open(db, read_only=True) as store:
        traces = store.traces()
        assert traces["rank"].to_list() == [0, 1] and traces["job"].to_list() == ["job", "job"]
        assert store.job_ranks(1) == {0: 1, 1: 2}
        steps = store.query("step_times", 1, all_ranks=True)
        assert steps["rank"].to_list() == [0, 0, 1, 1]  # two recorded steps on each rank


STAND_IN_NSYS = """#!/bin/sh
# Stands in for Nsight Systems' CLI where it is not installed: runs the application the way
# `nsys profile` does (its environment, its exit status) and leaves the export named in $EXPORT, a
# real nsys SQLite export, where --output asked for it.
echo "$@" > "$NSYS_LINE"
shift
out=""
while [ $# -gt 0 ]; do case "$1" in --output=*) out="${1#--output=}"; shift;; --*) shift;; *) break;; esac; done
"$@"; rc=$?
if [ -n "$EXPORT" ]; then cp "$EXPORT" "$out.sqlite"; fi
exit $rc
"""


def stand_in_nsys(tmp_path, monkeypatch, export=None) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nsys").write_text(STAND_IN_NSYS)
    (bin_dir / "nsys").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("NSYS_LINE", str(tmp_path / "line.txt"))
    monkeypatch.setenv("EXPORT", str(export or ""))
    return tmp_path / "line.txt"


def test_the_nsys_line_records_the_steps_capture_range_and_exports_sqlite(tmp_path):
    line = capture_mod.nsys_command("nsys", ["python", "train.py", "--lr", "1"], tmp_path / "run7", steps=3)
    assert line[:2] == ["nsys", "profile"] and line[-4:] == ["python", "train.py", "--lr", "1"]
    assert {"--trace=cuda,nvtx,osrt", "--export=sqlite", "--capture-range=cudaProfilerApi"} <= set(line)
    assert f"--output={tmp_path / 'run7' / 'run7'}" in line  # run7.sqlite: a job of several processes is 'run7'
    whole = capture_mod.nsys_command("nsys", ["./app"], tmp_path / "run7", steps=0)
    assert not any(arg.startswith("--capture-range") for arg in whole)


def test_capture_with_nsys_needs_nsys_on_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = capture("--out", tmp_path / "out", "--no-ingest", "--nsys", "--", sys.executable, "-c", "pass")
    assert result.exit_code == 2 and "nsys is not on PATH" in result.output


@needs_torch
def test_under_nsys_a_cpu_only_run_is_told_its_steps_cannot_start_a_capture_range(tmp_path, monkeypatch):
    line = stand_in_nsys(tmp_path, monkeypatch)
    train = script(tmp_path, "train.py", TRAIN.replace("STEPS", "6"))
    result = capture("--out", tmp_path / "out", "--no-ingest", "--nsys", "--steps", 2, "--", sys.executable, train)
    assert line.read_text().split()[-2:] == [sys.executable, train]
    assert "no CUDA device, so nsys's capture range (cudaProfilerStart) never started" in result.output
    assert result.exit_code == 2 and "no trace was written" in result.output


NSYS_EXPORT = Path(__file__).parents[2].parent / "shared" / "traces" / "nsys" / "rtx3080_tiny.sqlite"


@pytest.mark.skipif(not NSYS_EXPORT.is_file(), reason="../shared/traces is not here")
def test_the_whole_run_under_nsys_is_ingested_from_the_export_it_leaves(tmp_path, monkeypatch):
    stand_in_nsys(tmp_path, monkeypatch, export=NSYS_EXPORT)
    db = tmp_path / "s.duckdb"
    result = capture("--out", tmp_path / "out", "--db", db, "--nsys", "--steps", 0, "--", sys.executable, "-c", "pass")
    assert result.exit_code == 0, result.output
    with retime.open(db, read_only=True) as store:
        [fmt] = store.traces()["format"].to_list()
        assert fmt == "nsys"


@needs_torch
def test_capture_in_python_records_and_ingests_as_the_cli_does(tmp_path):
    train = script(tmp_path, "train.py", TRAIN.replace("STEPS", "6"))
    infer = script(tmp_path, "infer.py", INFER)
    with retime.open(tmp_path / "s.duckdb") as store:
        result = store.capture(["python", train], out=tmp_path / "out", steps=2)
        assert result.returncode == 0 and len(result.traces) == 1 and result.notes == []
        [ingested] = result.ingested
        assert ingested.status == "ingested" and store.query("step_times", ingested.trace_id).height == 2
        with pytest.raises(capture_mod.CaptureError, match="no trace was written") as refused:
            store.capture(["python", infer], out=tmp_path / "none")
        assert any("made no optimizer step" in note for note in refused.value.result.notes)
    if shutil.which("nsys") is None:  # the argument named as Python writes it, and as the CLI's flag
        with pytest.raises(capture_mod.CaptureError, match=r"without nsys=True\)$") as refused:
            capture_mod.run(["python", train], tmp_path / "x", nsys=True, steps=0)
        assert refused.value.cli_message().endswith("(without --nsys)")
