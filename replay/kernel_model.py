"""The per-kernel performance model: how long one GPU kernel takes on another GPU.

A kernel's measured time t on the source GPU is a fixed floor (launch-to-retire latency of a tiny
kernel of its class on that GPU) plus its work. On the target:

    t' = floor_target[class] + (t - floor_source[class]) x ratio[class]     (t at or above the floor)
    t' = t x floor_target[class] / floor_source[class]                       (t below it)
    ratio[class] = (peak_source x efficiency_source[class]) / (peak_target x efficiency_target[class])

where peak is dense BF16 FLOP/s for the compute classes (gemm, attention, convolution) and HBM
bandwidth for the rest (retime/foundation/gpus.toml), and efficiency is the fraction of that peak the
class reaches on each GPU, relative to the H100's (1.0). So a latency-bound kernel stays at the
target's floor, and a GEMM library's real fraction of peak carries over instead of the datasheet
ratio. Floors and efficiencies are data (replay/presets/kernel_model.toml), calibrated by
`calibrate` from measured pairs of the same workload on two GPUs only (bench/calibrate.py writes the
file; bench/fidelity.py holds each pair out of its own calibration). Copies, memsets and
collectives are not kernels of this model: links and the network retarget them.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from retime import foundation
from retime.replay import presets
from retime.replay.scenario import GPU_CLASSES

MODELLED = ("gemm", "attention", "convolution", "reduction", "elementwise", "other")
COMPUTE = ("gemm", "attention", "convolution")  # bounded by tensor FLOP/s; the rest by HBM bandwidth
ANCHOR = "h100"              # efficiencies are relative to this GPU's
FLOOR_QUANTILE = 0.05        # a class's floor: this quantile of its kernels' durations on a GPU
MIN_KERNELS = 10             # fewer kernels of a class than this: the GPU's floor over all classes


@dataclass(frozen=True)
class RetargetModel:
    """The model moving a trace from GPU preset `source` to `target`."""
    source: str
    target: str
    floor_ns: dict[str, dict[str, float]]     # gpu -> class -> floor
    efficiency: dict[str, dict[str, float]]   # gpu -> class -> fraction of peak relative to ANCHOR's

    def ratio(self, cls: str) -> float:
        field = "bf16_tflops" if cls in COMPUTE else "hbm_tb_s"
        a, b = presets.presets()[self.source], presets.presets()[self.target]
        eff_a = self.efficiency.get(self.source, {}).get(cls, 1.0)
        eff_b = self.efficiency.get(self.target, {}).get(cls, 1.0)
        return (a[field] * eff_a) / (b[field] * eff_b)

    def floor(self, gpu: str, cls: str) -> float:
        """A GPU's floor for a class; a GPU with no measured traces takes the other GPU's (no floor
        change can be predicted without a measurement)."""
        known = self.floor_ns.get(gpu) or self.floor_ns.get(self.source if gpu == self.target else self.target, {})
        return known.get(cls, 0.0)

    def times(self, durations: np.ndarray, cls: str) -> np.ndarray:
        """Predicted target times (ns, float) of kernels of one class that took `durations` on the
        source: the target's floor plus the work above the source's floor at the class's ratio; a
        kernel shorter than the source's floor scales by the ratio of the floors."""
        floor_s, floor_t = self.floor(self.source, cls), self.floor(self.target, cls)
        durations = np.asarray(durations, np.float64)
        above = floor_t + (durations - floor_s) * self.ratio(cls)
        below = durations * (floor_t / floor_s) if floor_s > 0 else durations
        return np.where(durations >= floor_s, above, below)


def kernel_durations(con, trace_id: int) -> dict[str, np.ndarray]:
    """Every kernel's duration (ns, float) of a stored trace, by gpu_class: what `calibrate` reads."""
    from retime.sqlfiles import load_sql
    foundation.load(con, "gpu")
    rows = con.execute(load_sql("retime.replay", "kernel_durations"), {"trace_id": trace_id}).fetchnumpy()
    return {cls: rows["dur_ns"][rows["class"] == cls].astype(np.float64) for cls in np.unique(rows["class"])}


@lru_cache(maxsize=1)
def shipped() -> dict:
    """replay/presets/kernel_model.toml: floors, efficiencies and where they come from."""
    return tomllib.loads(resources.files("retime.replay").joinpath("presets", "kernel_model.toml").read_text())


def retarget_model(source: str, target: str, calibration: dict | None = None) -> RetargetModel:
    data = calibration or shipped()
    return RetargetModel(source, target, data.get("floor_ns", {}), data.get("efficiency", {}))


def edge_factors(graph, model: RetargetModel, multiplier: np.ndarray, gpu_op_classes: np.ndarray) -> np.ndarray:
    """float64[m]: the factor that turns each kernel-duration edge's lag (its base lag times its edge
    class's multiplier) into the model's time; 1 on every other edge. A PDL offset edge starting at
    a kernel's start scales as that kernel does."""
    factor = np.ones(len(graph.src))
    if graph.point_gpu_class is None:
        return factor
    dst = graph.dst
    from_op_start = (np.isin(graph.edge_class, gpu_op_classes) & graph.point_is_gpu[graph.src]
                     & ~graph.point_is_end[graph.src])
    duration = from_op_start & (graph.point_event[dst] == graph.point_event[graph.src]) & (graph.base_lag > 0)
    point_factor = np.ones(len(graph.measured))
    source_class = graph.point_gpu_class[graph.src]
    base = graph.base_lag.astype(np.float64)
    for code, cls in enumerate(GPU_CLASSES):
        if cls not in MODELLED:
            continue
        edges = np.flatnonzero(duration & (source_class == code))
        if len(edges) == 0:
            continue
        durations = base[edges]
        point_factor[graph.src[edges]] = model.times(durations, cls) / (durations * multiplier[graph.edge_class[edges]])
    # the duration edge and any PDL offset edge from the same kernel's start scale alike
    factor[from_op_start] = point_factor[graph.src[from_op_start]]
    return factor


def calibrate(pairs: list[tuple[str, str, dict[str, np.ndarray], dict[str, np.ndarray]]],
              traces: list[tuple[str, dict[str, np.ndarray]]] = ()) -> dict:
    """Floors and efficiencies from measured pairs: (gpu_a, gpu_b, kernel durations per class on a,
    the same workload's on b), and for floors also single traces (gpu, durations per class).
    Floors: per GPU and class, the FLOOR_QUANTILE of its kernels over all its traces here.
    Efficiency of b relative to a per class: peak ratio over the measured ratio of work above the
    floors, averaged (geometric mean) over pairs, then chained from ANCHOR."""
    per_gpu: dict[str, dict[str, list[np.ndarray]]] = {}
    for gpu, durations in [(g, d) for ga, gb, a, b in pairs for g, d in ((ga, a), (gb, b))] + list(traces):
        for cls, values in durations.items():
            per_gpu.setdefault(gpu, {}).setdefault(cls, []).append(np.asarray(values, np.float64))
    floors: dict[str, dict[str, float]] = {}
    for gpu, by_class in per_gpu.items():
        every = np.concatenate([v for lists in by_class.values() for v in lists])
        overall = float(np.quantile(every, FLOOR_QUANTILE)) if len(every) else 0.0
        floors[gpu] = {}
        for cls in MODELLED:
            values = np.concatenate(by_class.get(cls, [np.empty(0)]))
            floors[gpu][cls] = round(float(np.quantile(values, FLOOR_QUANTILE)) if len(values) >= MIN_KERNELS else overall)
    logs: dict[tuple[str, str, str], list[float]] = {}
    for gpu_a, gpu_b, a, b in pairs:
        for cls in MODELLED:
            ta, tb = np.asarray(a.get(cls, []), np.float64), np.asarray(b.get(cls, []), np.float64)
            if min(len(ta), len(tb)) < 3:
                continue
            work_a = np.maximum(0.0, ta - floors[gpu_a][cls]).sum()
            work_b = np.maximum(0.0, tb - floors[gpu_b][cls]).sum()
            if work_a <= 0 or work_b <= 0:
                continue
            model = RetargetModel(gpu_a, gpu_b, {}, {})
            peak_ratio = model.ratio(cls)  # peak_a / peak_b with equal efficiencies
            # work_b / work_a = peak_ratio * eff_a / eff_b  ->  log(eff_b / eff_a)
            logs.setdefault((gpu_a, gpu_b, cls), []).append(math.log(peak_ratio * work_a / work_b))
    efficiency: dict[str, dict[str, float]] = {}
    for cls in MODELLED:
        edges: dict[str, list[tuple[str, float]]] = {}
        for (a, b, c), values in logs.items():
            if c == cls:
                mean = sum(values) / len(values)
                edges.setdefault(a, []).append((b, mean))
                edges.setdefault(b, []).append((a, -mean))
        known = {ANCHOR: 0.0} if ANCHOR in edges else ({next(iter(edges)): 0.0} if edges else {})
        frontier = list(known)
        while frontier:
            gpu = frontier.pop()
            for other, log_ratio in edges.get(gpu, []):
                if other not in known:
                    known[other] = known[gpu] + log_ratio
                    frontier.append(other)
        for gpu, value in known.items():
            efficiency.setdefault(gpu, {})[cls] = round(math.exp(value), 4)
    return {"floor_ns": floors, "efficiency": efficiency}
