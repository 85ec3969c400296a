"""Loaded at start-up by every Python process that `retime capture` launches (retime/capture.py puts
this folder first on PYTHONPATH). In the captured script, or in each rank torchrun starts, it runs
torch.profiler with what a replay needs (shapes, FLOPs, CUDA sync events) over a wait / warm-up /
active schedule that advances at every optimizer step (or over the whole run), and writes one trace
per process plus a small status file the launcher reads. Launchers (torchrun) and multiprocessing
children (data loader workers) are left alone. A sitecustomize this one shadows still runs."""
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
    return "RANK" in os.environ or str(os.getppid()) == os.environ.get("RETIME_CAPTURE_PID")


def _capture() -> None:
    import torch
    from torch.profiler import ProfilerActivity, profile, schedule

    folder = os.environ["RETIME_CAPTURE_DIR"]
    steps, wait, warmup = (int(os.environ[k]) for k in ("RETIME_CAPTURE_STEPS", "RETIME_CAPTURE_WAIT",
                                                         "RETIME_CAPTURE_WARMUP"))
    rank = os.environ.get("RANK")
    name = f"rank{rank}" if rank is not None else f"pid{os.getpid()}"
    trace = os.path.join(folder, f"{name}.pt.trace.json.gz")
    status = {"pid": os.getpid(), "rank": None if rank is None else int(rank), "trace": None, "optimizer_steps": 0,
              "steps_wanted": steps, "wait": wait, "warmup": warmup}
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
            with open(os.path.join(folder, f"capture-status-{os.getpid()}.json"), "w") as fh:
                json.dump(status, fh)

    atexit.register(finish)


_chain_other_sitecustomize()
if _is_captured():
    _capture()
