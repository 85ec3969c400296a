"""Record the GPU sample traces and the measured what-if pairs, with torch.profiler on a CUDA GPU.

Run from the repository root on a machine with one NVIDIA GPU and a CUDA build of PyTorch:
    python sample_traces/make_gpu_samples.py [OUT_DIR]
Writes into OUT_DIR (default: sample_traces/gpu):
    h2d_pageable.pt.trace.json.gz   MLP training steps whose batch is copied from pageable host memory
    h2d_pinned.pt.trace.json.gz     the same steps, the batch copied from pinned (page-locked) memory
    hostwork_1x.pt.trace.json.gz    GPU matmuls overlapped with host-side preparation ("host_prep")
    hostwork_2x.pt.trace.json.gz    the same steps with twice the host-side preparation
    streams_graph.pt.trace.json.gz  a side-stream copy joined by an event wait, and a CUDA graph replay
    measurements.toml               the GPU, the software, copy bandwidths, and step times without a profiler

Each pair changes one hardware-facing factor, so that a replay of the first trace can be checked
against the second one (bench/whatif.py): the host memory the batch is copied from (pageable
copies are staged by the driver and run at a lower bandwidth than pinned ones), and the host time
spent per step. Both copies are synchronous (non_blocking=False), so the dependency graph is the
same in both traces of a pair.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function, schedule

from make_samples import save  # the same gzip export as the CPU samples (this folder is on sys.path)

STEPS = dict(wait=1, warmup=2, active=4)
UNPROFILED_STEPS = 30


def experimental_config():
    """Ask Kineto for the 'Stream Wait Event' sync events, which carry cross-stream waits."""
    try:
        return torch._C._profiler._ExperimentalConfig(enable_cuda_sync_events=True)
    except (AttributeError, TypeError):
        return None


def to_toml(results: dict) -> str:
    """Flat TOML: top-level scalars, then one table per dict (enough for these numbers)."""
    def value(v):
        return json.dumps(v) if isinstance(v, str) else repr(v)
    top = [f"{k} = {value(v)}" for k, v in results.items() if not isinstance(v, dict)]
    tables = [f"\n[{k}]\n" + "\n".join(f"{kk} = {value(vv)}" for kk, vv in v.items())
              for k, v in results.items() if isinstance(v, dict)]
    return "\n".join(top) + "\n" + "\n".join(tables) + "\n"


def profiled(step, target: Path) -> None:
    """Run `step` under the profiler for the schedule's steps, then export its trace."""
    total = sum(STEPS.values())
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA], record_shapes=True,
                 schedule=schedule(**STEPS), experimental_config=experimental_config()) as prof:
        for _ in range(total):
            step()
            prof.step()
    torch.cuda.synchronize()
    save(prof, target)


def unprofiled_ms(step) -> float:
    """Median wall time of one step with no profiler attached (the profiler's own cost left out)."""
    for _ in range(3):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(UNPROFILED_STEPS):
        t0 = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def copy_bandwidth_gbs(host: torch.Tensor) -> float:
    """Median H2D bandwidth of a synchronous copy of `host`, in GB/s (1e9 bytes per second)."""
    dev = torch.empty(host.shape, dtype=host.dtype, device="cuda")
    for _ in range(3):
        dev.copy_(host)
    torch.cuda.synchronize()
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        dev.copy_(host)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return host.numel() * host.element_size() / statistics.median(times) / 1e9


def h2d_pair(out: Path, results: dict) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4096, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                          nn.Linear(1024, 16)).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    batch = torch.randn(4096, 4096)  # 64 MiB of float32 on the host
    labels = torch.randint(0, 16, (4096,))
    sources = {"pageable": batch, "pinned": batch.pin_memory()}
    for memory, host in sources.items():
        def step(host=host):
            with record_function("h2d_batch"):
                x = host.to("cuda")
                y = labels.to("cuda")
            with record_function("forward"):
                loss = nn.functional.cross_entropy(model(x), y)
            with record_function("backward"):
                opt.zero_grad(set_to_none=True)
                loss.backward()
            with record_function("optimizer"):
                opt.step()
            loss.item()
        results[f"h2d_{memory}"] = {"step_ms_unprofiled": unprofiled_ms(step),
                                    "copy_gb_per_s": copy_bandwidth_gbs(host),
                                    "batch_bytes": host.numel() * host.element_size()}
        profiled(step, out / f"h2d_{memory}.pt.trace.json.gz")


def host_prep(rounds: int, data: np.ndarray) -> None:
    with record_function("host_prep"):
        for _ in range(rounds):
            np.sort(data)


def hostwork_pair(out: Path, results: dict) -> None:
    torch.manual_seed(0)
    a = torch.randn(4096, 4096, device="cuda")
    b = torch.randn(4096, 4096, device="cuda")
    small = torch.randn(256, 256, device="cuda")
    data = np.random.default_rng(0).random(400_000)

    def gpu_then_host(rounds: int):
        def step():
            with record_function("gpu_matmuls"):
                c = a @ b
                c = c @ b
            host_prep(rounds, data)
            with record_function("small_kernels"):
                t = small
                for _ in range(60):
                    t = t * 1.0001 + 0.0001
            (c.sum() + t.sum()).item()
        return step

    # one round of host work is sized to about 60% of the two matmuls, so that one round hides
    # behind the GPU and two rounds do not
    gpu_ms = unprofiled_ms(lambda: (a @ b) @ b)
    t0 = time.perf_counter()
    for _ in range(5):
        np.sort(data)
    sort_ms = (time.perf_counter() - t0) / 5 * 1e3
    rounds = max(1, round(0.6 * gpu_ms / sort_ms))
    results["hostwork"] = {"gpu_matmuls_ms": gpu_ms, "sort_ms": sort_ms, "rounds_1x": rounds}
    for factor in (1, 2):
        step = gpu_then_host(rounds * factor)
        results[f"hostwork_{factor}x"] = {"step_ms_unprofiled": unprofiled_ms(step), "host_rounds": rounds * factor}
        profiled(step, out / f"hostwork_{factor}x.pt.trace.json.gz")


def streams_graph(out: Path, results: dict) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1024, 1024), nn.GELU(), nn.Linear(1024, 1024)).cuda().eval()
    static_in = torch.randn(512, 1024, device="cuda")
    side = torch.cuda.Stream()
    with torch.no_grad():
        warm = torch.cuda.Stream()
        warm.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(warm):
            for _ in range(3):
                model(static_in)
        torch.cuda.current_stream().wait_stream(warm)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = model(static_in)
    next_batch = torch.randn(512, 1024).pin_memory()

    def step():
        with record_function("prefetch_on_side_stream"):
            with torch.cuda.stream(side):
                staged = next_batch.to("cuda", non_blocking=True)
        with record_function("eager_forward"), torch.no_grad():
            eager = model(static_in)
        torch.cuda.current_stream().wait_stream(side)
        with record_function("graph_replay"):
            static_in.copy_(staged)
            graph.replay()
        (eager.sum() + static_out.sum()).item()

    results["streams_graph"] = {"step_ms_unprofiled": unprofiled_ms(step)}
    profiled(step, out / "streams_graph.pt.trace.json.gz")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "gpu"
    out.mkdir(parents=True, exist_ok=True)
    props = torch.cuda.get_device_properties(0)
    results: dict = {"gpu": props.name, "sm_count": props.multi_processor_count,
                     "torch": torch.__version__, "cuda": torch.version.cuda,
                     "profiler_schedule": STEPS, "unprofiled_steps": UNPROFILED_STEPS}
    h2d_pair(out, results)
    hostwork_pair(out, results)
    streams_graph(out, results)
    (out / "measurements.toml").write_text(to_toml(results))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
