"""Loaded at start-up by every Python process that `retime capture` launches (retime/capture.py puts
this folder first on PYTHONPATH). In the captured script, or in each rank torchrun starts, it runs
torch.profiler with what a replay needs (shapes, FLOPs, CUDA sync events) over a wait / warm-up /
active schedule that advances at every optimizer step (or over the whole run), and writes one trace
per process plus a small status file the launcher reads. Under Nsight Systems (`--nsys`) it profiles
nothing itself: it brackets the recorded steps with cudaProfilerStart/Stop, nsys's capture range, and
marks each as an NVTX range `ProfilerStep#N`, the step windows a replay reports. Launchers (torchrun),
multiprocessing children (data loader workers) and the processes a captured one starts are left
alone. A sitecustomize this one shadows still runs."""
import atexit
import json
import os
import sys


def _chain_other_sitecustomize() -> None:
    """Run the sitecustomize module this file shadows, if the path holds one."""
    import importlib.machinery
    import importlib.util
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


def _is_captured() -> bool:
    if "RETIME_CAPTURE_DIR" not in os.environ:
        return False
    argv = getattr(sys, "orig_argv", sys.argv)
    if "--multiprocessing-fork" in argv or any("multiprocessing" in a and "spawn_main" in a for a in argv):
        return False  # a worker process of the script (a data loader, a pool)
    launcher = any(os.path.basename(a) == "torchrun" or a in ("torch.distributed.run", "torch.distributed.launch")
                   for a in argv[:4])
    if launcher:
        return False  # torchrun itself: its ranks are captured, each with RANK set
    # the first Python process of the command (or each rank, siblings under torchrun) claims the capture;
    # the processes it starts inherit the claim and are left alone
    return "RETIME_CAPTURE_OWNER" not in os.environ


def _settings() -> tuple[int, int, int]:
    return tuple(int(os.environ[k]) for k in ("RETIME_CAPTURE_STEPS", "RETIME_CAPTURE_WAIT", "RETIME_CAPTURE_WARMUP"))


def _status(steps: int, wait: int, warmup: int) -> dict:
    rank = os.environ.get("RANK")
    return {"pid": os.getpid(), "rank": None if rank is None else int(rank), "trace": None, "optimizer_steps": 0,
            "steps_wanted": steps, "wait": wait, "warmup": warmup}


def _write_status(status: dict) -> None:
    with open(os.path.join(os.environ["RETIME_CAPTURE_DIR"], f"capture-status-{os.getpid()}.json"), "w") as fh:
        json.dump(status, fh)


def _capture() -> None:
    import torch
    from torch.profiler import ProfilerActivity, profile, schedule

    steps, wait, warmup = _settings()
    status = _status(steps, wait, warmup)
    name = f"rank{status['rank']}" if status["rank"] is not None else f"pid{os.getpid()}"
    trace = os.path.join(os.environ["RETIME_CAPTURE_DIR"], f"{name}.pt.trace.json.gz")
    cuda = torch.cuda.is_available()
    options = {"activities": [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else []),
               "record_shapes": True, "with_flops": True,
               "with_stack": os.environ.get("RETIME_CAPTURE_STACK") == "1"}
    if cuda:  # cudaStreamSynchronize / cudaEventSynchronize waits as events: the replay's sync edges
        options["experimental_config"] = torch._C._profiler._ExperimentalConfig(enable_cuda_sync_events=True)

    def write(prof) -> None:
        prof.export_chrome_trace(trace)
        status["trace"] = trace

    if steps > 0:
        options["schedule"] = schedule(wait=wait, warmup=warmup, active=steps, repeat=1)
        options["on_trace_ready"] = write
    prof = profile(**options)
    prof.start()

    def on_step(*_) -> None:
        status["optimizer_steps"] += 1
        if steps > 0:
            prof.step()

    from torch.optim.optimizer import register_optimizer_step_post_hook
    register_optimizer_step_post_hook(on_step)

    def finish() -> None:
        try:
            prof.stop()
            if steps == 0:
                write(prof)
        finally:
            _write_status(status)

    atexit.register(finish)


def _mark_steps_for_nsys() -> None:
    """Under nsys: cudaProfilerStart after `wait` + `warmup` optimizer steps (nsys has no warm-up of
    its own: those steps are simply not recorded), an NVTX range ProfilerStep#N over each of the
    `steps` steps after, cudaProfilerStop after the last; the whole run (nothing called) with 0."""
    steps, wait, warmup = _settings()
    status = dict(_status(steps, wait, warmup), nsys=True, cuda=None)
    atexit.register(_write_status, status)
    if steps == 0:
        status["trace"] = os.environ["RETIME_CAPTURE_NSYS"]  # nsys records the whole run, torch or not
        return
    import torch
    status["cuda"] = torch.cuda.is_available()
    if not status["cuda"]:
        return  # no capture range without a CUDA context: the launcher says so
    skip, recording = wait + warmup, [False]

    def begin(step: int) -> None:
        torch.cuda.nvtx.range_push(f"ProfilerStep#{step}")

    def end() -> None:
        torch.cuda.nvtx.range_pop()
        torch.cuda.synchronize()  # the last step's GPU work inside the range
        torch.cuda.profiler.stop()
        recording[0] = False

    def at_step(done: int) -> None:  # `done` optimizer steps have finished
        if recording[0] and done == skip + steps:
            end()
        elif recording[0]:
            torch.cuda.nvtx.range_pop()
            begin(done)
        elif done == skip:
            torch.cuda.profiler.start()
            status["trace"] = os.environ["RETIME_CAPTURE_NSYS"]
            recording[0] = True
            begin(done)

    def on_step(*_) -> None:
        status["optimizer_steps"] += 1
        at_step(status["optimizer_steps"])

    def close() -> None:  # a run with fewer steps than asked: what was recorded still counts
        if recording[0]:
            end()

    from torch.optim.optimizer import register_optimizer_step_post_hook
    register_optimizer_step_post_hook(on_step)
    atexit.register(close)  # runs before the status is written (atexit is last in, first out)
    at_step(0)


_chain_other_sitecustomize()
if _is_captured():
    os.environ["RETIME_CAPTURE_OWNER"] = str(os.getpid())
    _mark_steps_for_nsys() if "RETIME_CAPTURE_NSYS" in os.environ else _capture()
