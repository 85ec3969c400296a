"""`retime capture` runs a real PyTorch script (the CPU build) under torch.profiler and ingests what
it wrote: the recorded optimizer steps as ProfilerStep windows, shapes on, one trace per rank of a
torchrun job. Skipped where torch is not installed (retime does not depend on it)."""
from __future__ import annotations

import shutil
import textwrap

import pytest
from click.testing import CliRunner

import retime
from retime.cli import main

pytest.importorskip("torch")

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
        steps = store.query_ranks("step_times", 1)
        assert steps["rank"].to_list() == [0, 0, 1, 1]  # two recorded steps on each rank
