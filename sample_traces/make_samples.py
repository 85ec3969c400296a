"""Record the sample traces retime ships, with torch.profiler on the CPU build of PyTorch.

Run from the repository root (needs `pip install torch==2.13.0`, which retime itself does not):
    python sample_traces/make_samples.py
Writes, next to this script:
    cpu_mlp_train_step.pt.trace.json.gz    3 profiled training steps of a small MLP (ProfilerStep windows)
    cpu_convnet_inference.pt.trace.json.gz 2 profiled inference batches of a small CNN, with Python stacks
    ddp_gloo_2rank/rank{0,1}.pt.trace.json.gz  one job: 2 processes, DistributedDataParallel over gloo
                                            on loopback, 2 profiled steps each (all-reduce collectives)
    input_pipeline/loader_{1x,2x}.pt.trace.json.gz  a measured pair: one training loop fed by a DataLoader
                                            whose per-sample decoding costs 2 units, then 1 (an input
                                            pipeline twice as fast), 6 profiled steps each
    batch/{mlp_train,cnn_infer,encoder_infer}_bs*.pt.trace.json.gz  measured pairs: three workloads, each
                                            at three batch sizes doubling (6 profiled steps each)
Give workload names (mlp, convnet, ddp, input, batch) to record only those.
"""
from __future__ import annotations

import gzip
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function, schedule

HERE = Path(__file__).resolve().parent


def save(prof, target: Path) -> None:
    """export_chrome_trace writes plain JSON; ship it gzipped with a fixed mtime."""
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "trace.json"
        prof.export_chrome_trace(str(plain))
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(plain, "rb") as src, gzip.GzipFile(target, "wb", mtime=0) as dst:
            shutil.copyfileobj(src, dst)
    print(f"wrote {target} ({target.stat().st_size:,} bytes)")


def mlp_train_step() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(64, 512), torch.randint(0, 10, (64,))
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True,
                 schedule=schedule(wait=1, warmup=1, active=3)) as prof:
        for _ in range(5):
            with record_function("forward"):
                loss = nn.functional.cross_entropy(model(x), y)
            with record_function("backward"):
                opt.zero_grad()
                loss.backward()
            with record_function("optimizer"):
                opt.step()
            prof.step()
    save(prof, HERE / "cpu_mlp_train_step.pt.trace.json.gz")


def convnet_inference() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(32, 10)).eval()
    batch = torch.randn(8, 3, 64, 64)
    model(batch)  # warm up outside the profile
    # no profiler schedule here: with with_stack=True, 2.13's scheduled steps recorded no cpu_op events
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU], record_shapes=True, with_stack=True) as prof:
        for n in range(2):
            with record_function(f"batch#{n}"):
                with record_function("preprocess"):
                    inputs = (batch - batch.mean()) / batch.std()
                model(inputs)
    save(prof, HERE / "cpu_convnet_inference.pt.trace.json.gz")


def _ddp_rank(rank: int, world_size: int, port: int, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = nn.parallel.DistributedDataParallel(
        nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 256)), bucket_cap_mb=1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(32, 256) * (rank + 1)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True,
                 schedule=schedule(wait=1, warmup=1, active=2)) as prof:
        for _ in range(4):
            loss = model(x).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            prof.step()
    save(prof, Path(out_dir) / f"rank{rank}.pt.trace.json.gz")
    dist.destroy_process_group()


def ddp_gloo_job(world_size: int = 2) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_ddp_rank, args=(world_size, port, str(HERE / "ddp_gloo_2rank")), nprocs=world_size, join=True)


class DecodedSamples(torch.utils.data.Dataset):
    """Samples that cost host work to produce, as decoding and augmenting a record does: `rounds`
    sorts of 60,000 floats each, then a 256-float feature vector and a label."""

    def __init__(self, rounds: int, size: int = 512):
        self.rounds, self.size = rounds, size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int):
        rng = np.random.default_rng(i)
        for _ in range(self.rounds):
            np.sort(rng.random(60_000))
        return torch.from_numpy(rng.standard_normal(256).astype(np.float32)), i % 10


def input_pipeline(rounds: int, target: Path) -> None:
    """A training loop fed by a DataLoader (num_workers=0: the batches are made on the training
    thread, inside its `enumerate(DataLoader)#...__next__` spans), batch 16, one thread."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = nn.Sequential(nn.Linear(256, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loader = torch.utils.data.DataLoader(DecodedSamples(rounds), batch_size=16, num_workers=0)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True,
                 schedule=schedule(wait=2, warmup=2, active=6)) as prof:
        for step, (x, y) in enumerate(loader):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            prof.step()
            if step == 9:
                break
    save(prof, target)


def _batch_models():
    """The three workloads of the batch-size pairs: (name, model, input of one sample, train)."""
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))
    cnn = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Linear(32, 10)).eval()
    encoder = nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024, batch_first=True).eval()
    return [("mlp_train", mlp, (512,), True), ("cnn_infer", cnn, (3, 64, 64), False),
            ("encoder_infer", encoder, (64, 256), False)]


BATCH_SIZES = {"mlp_train": (32, 64, 128), "cnn_infer": (4, 8, 16), "encoder_infer": (4, 8, 16)}


def batch_pairs() -> None:
    """One workload at three batch sizes, each doubling the last: measured pairs for `--set batch=`.
    One thread, 6 profiled steps each, recorded back to back."""
    torch.set_num_threads(1)
    for name, model, sample, train in _batch_models():
        for size in BATCH_SIZES[name]:
            torch.manual_seed(0)
            x = torch.randn(size, *sample)
            y = torch.randint(0, 10, (size,))
            opt = torch.optim.SGD(model.parameters(), lr=0.01) if train else None
            with torch.set_grad_enabled(train), profile(activities=[ProfilerActivity.CPU], record_shapes=True,
                                                        schedule=schedule(wait=2, warmup=2, active=6)) as prof:
                for _ in range(10):
                    if train:
                        loss = nn.functional.cross_entropy(model(x), y)
                        opt.zero_grad()
                        loss.backward()
                        opt.step()
                    else:
                        model(x)
                    prof.step()
            save(prof, HERE / "batch" / f"{name}_bs{size}.pt.trace.json.gz")


WORKLOADS = {
    "mlp": mlp_train_step,
    "convnet": convnet_inference,
    "ddp": ddp_gloo_job,
    "input": lambda: (input_pipeline(2, HERE / "input_pipeline" / "loader_1x.pt.trace.json.gz"),
                      input_pipeline(1, HERE / "input_pipeline" / "loader_2x.pt.trace.json.gz")),
    "batch": batch_pairs,
}


if __name__ == "__main__":
    for name in sys.argv[1:] or list(WORKLOADS):
        WORKLOADS[name]()
