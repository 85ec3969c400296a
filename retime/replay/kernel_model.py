"""The per-kernel performance model: how long one GPU kernel takes on another GPU.

A kernel's measured time t on the source GPU is a fixed floor (launch-to-retire latency of a tiny
kernel on that GPU) plus its work. On the target:

    t' = floor_target + (t - floor_source) x ratio     (t at or above the source's floor)
    t' = t x floor_target / floor_source               (t below it)

The ratio is the roofline's where the trace recorded the shapes of the operator that launched the
kernel (its FLOPs and bytes, kernel_work in retime/foundation/ops.sql, as the roofline queries count
them): the time per FLOP on a GPU is

    max(1 / (compute peak x compute_efficiency[class]), 1 / (intensity x HBM x memory_efficiency[class]))

with the compute peak of the kernel's data type (roof_type: BF16, FP8, TF32 or FP32 from
retime/foundation/gpus.toml), and ratio = target's / source's. So a kernel's own intensity decides
which roof binds on each GPU: a large GEMM follows the tensor peaks, a batched matmul of low
intensity the HBM ratio, and a GPU whose ridge point differs can move a kernel across it. Kernels
without recorded shapes take their class's roof (dense BF16 FLOP/s for gemm, attention and
convolution, HBM bandwidth for the rest) at the class's pooled efficiency.

A GEMM kernel whose operator recorded its shapes (m, n, k: gemm_shape in retime/foundation/ops.sql)
in BF16/FP16 or FP8 instead takes the ratio of measured latencies of that shape on the two parts
(retime/replay/kernel_db.py: NVIDIA's aiconfigurator-core grids, interpolated; a part without a grid from
its specs and the measured parts), t' = t x latency_target / latency_source, so what the tables
cannot know (this kernel's library, epilogue, cache state) carries over from the trace.

Efficiencies are the fraction of a peak a class reaches on a GPU, relative to the H100's (1.0);
floors and efficiencies are data (retime/replay/presets/kernel_model.toml), calibrated by `calibrate` from
measured pairs of the same workload on two GPUs only (bench/calibrate.py writes the file;
bench/fidelity.py holds each pair out of its own calibration). An efficiency by bound is measured
on kernels matched one to one across the pair (the same operator shape, in the same order) that
are throughput-bound on both GPUs; a class and bound with no such measurement takes the
datasheet ratio (efficiency 1). Copies, memsets and collectives are not kernels of this model:
links and the network retarget them.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

from retime import foundation
from retime.core.errors import ScenarioError
from retime.replay import kernel_db, presets
from retime.replay.scenario import GPU_CLASSES, ROOF_TYPES

MODELLED = ("gemm", "attention", "convolution", "reduction", "elementwise", "other")
MAX_NODE_GPUS = 8  # the measured NCCL curves are of one node's GPUs (2, 4, 8): larger groups cross NICs
COMPUTE = ("gemm", "attention", "convolution")  # without shapes: bounded by tensor FLOP/s; the rest by HBM bandwidth
ANCHOR = "h100"              # efficiencies are relative to this GPU's
FLOOR_QUANTILE = 0.05        # a GPU's floor: this quantile of its kernels' durations, over every class
THROUGHPUT_FLOORS = 2.0      # a kernel this many floors long or longer spends most of its time on work
# a part without a peak of that type runs the work at the first of these it has: FP8 on the BF16
# units, TF32 on the FP32 ones, and, on a part that states neither (Maia 100 publishes BF16 only),
# on its BF16 tensor peak, every preset having one
ROOF_FALLBACK = {"bf16": (), "fp8": ("bf16",), "tf32": ("fp32", "bf16"), "fp32": ("bf16",)}


def compute_peak(gpu: str, roof: str) -> float:
    """TFLOPS of a preset for work of a roof type (ROOF_TYPES), through ROOF_FALLBACK where the
    preset lacks that peak."""
    part = presets.presets()[gpu]
    for kind in (roof, *ROOF_FALLBACK[roof]):
        if part.get(f"{kind}_tflops"):
            return float(part[f"{kind}_tflops"])
    raise ScenarioError(f"GPU preset {gpu!r} has no bf16_tflops: every preset needs its dense BF16 peak")


@dataclass
class Kernels:
    """The kernels of one trace as calibration reads them (kernel_samples.sql), one entry each."""
    cls: np.ndarray             # str: gpu_class
    dur_ns: np.ndarray          # float64
    flop_per_byte: np.ndarray   # float64, NaN where the operator's shapes are unknown
    roof: np.ndarray            # int: index into ROOF_TYPES, -1 where unknown
    op_key: np.ndarray          # str: operator shape and occurrence, '' where unknown

    def durations(self, cls: str) -> np.ndarray:
        """The measured durations of this trace's kernels of one class."""
        return self.dur_ns[self.cls == cls]

    def predicted(self, model: "RetargetModel", cls: str) -> np.ndarray:
        """The model's target times of this trace's kernels of one class."""
        mine = self.cls == cls
        return model.times(self.dur_ns[mine], cls, self.flop_per_byte[mine], self.roof[mine])


@dataclass(frozen=True)
class RetargetModel:
    """The model moving a trace from GPU preset `source` to `target`."""
    source: str
    target: str
    floor_ns: dict[str, float]                # gpu -> floor
    efficiency: dict[str, dict[str, float]]   # gpu -> class -> pooled fraction of the class's peak relative to ANCHOR's
    compute_efficiency: dict[str, dict[str, float]] = field(default_factory=dict)  # gpu -> class -> of the compute peak
    memory_efficiency: dict[str, dict[str, float]] = field(default_factory=dict)   # gpu -> class -> of HBM bandwidth

    @staticmethod
    def _pair(table: dict[str, dict[str, float]], source: str, target: str, cls: str) -> tuple[float, float]:
        """A class's efficiencies on source and target: measured where both GPUs have one, else
        the datasheet's (1, 1)."""
        return table.get(source, {}).get(cls, 1.0), table.get(target, {}).get(cls, 1.0)

    def ratio(self, cls: str) -> float:
        """Target over source time of a class's work whose shapes are unknown: its class's roof."""
        field_name = "bf16_tflops" if cls in COMPUTE else "hbm_tb_s"
        a, b = presets.presets()[self.source], presets.presets()[self.target]
        eff_a, eff_b = self._pair(self.efficiency, self.source, self.target, cls)
        return (a[field_name] * eff_a) / (b[field_name] * eff_b)

    def _seconds_per_flop(self, gpu: str, cls: str, intensity: np.ndarray, roof: np.ndarray) -> np.ndarray:
        side = 0 if gpu == self.source else 1
        compute_eff = self._pair(self.compute_efficiency, self.source, self.target, cls)[side]
        memory_eff = self._pair(self.memory_efficiency, self.source, self.target, cls)[side]
        compute = np.array([compute_peak(gpu, r) for r in ROOF_TYPES])[roof] * compute_eff
        memory = presets.presets()[gpu]["hbm_tb_s"] * memory_eff
        return np.maximum(1.0 / compute, 1.0 / (intensity * memory))

    def ratios(self, cls: str, intensity: np.ndarray, roof: np.ndarray) -> np.ndarray:
        """Target over source time of each kernel's work: the roofline's at the kernel's intensity
        and roof where known (finite intensity, roof >= 0), the class's pooled ratio elsewhere."""
        out = np.full(len(intensity), self.ratio(cls))
        known = np.isfinite(intensity) & (intensity > 0) & (roof >= 0)
        if known.any():
            i, r = intensity[known].astype(np.float64), roof[known].astype(np.int64)
            out[known] = self._seconds_per_flop(self.target, cls, i, r) / self._seconds_per_flop(self.source, cls, i, r)
        return out

    def floor(self, gpu: str) -> float:
        """A GPU's floor. A GPU with no measured traces takes a measured part's of the same vendor
        (the launch path is the vendor's driver and runtime: H100 2,240 ns and B300 2,272 ns over
        all their kernels here), else the other GPU's (no floor change can be predicted without a
        measurement)."""
        if gpu in self.floor_ns:
            return self.floor_ns[gpu]
        kin = [g for g in sorted(self.floor_ns, key=lambda g: (g != ANCHOR, g)) if presets.vendor(g) == presets.vendor(gpu)]
        other = self.source if gpu == self.target else self.target
        return self.floor_ns[kin[0]] if kin else self.floor_ns.get(other, 0.0)

    def gemm_ratios(self, mnk: np.ndarray, roof: np.ndarray) -> np.ndarray:
        """Target over source time of GEMM kernels of known shape (m, n, k rows; roof index into
        ROOF_TYPES) from measured GEMM latencies (retime/replay/kernel_db.py); NaN where the tables do not
        answer for that data type on both parts (kernel_db.covers: FP32 and TF32 matmuls, a part of
        another vendor than the measured ones, where the calibrated roofline model answers instead)."""
        out = np.full(len(mnk), np.nan)
        specs = presets.presets()
        for code, dtype in enumerate(ROOF_TYPES):
            if not (kernel_db.covers(self.source, dtype, specs) and kernel_db.covers(self.target, dtype, specs)):
                continue
            rows = np.flatnonzero((roof == code) & np.isfinite(mnk).all(axis=1) & (mnk > 0).all(axis=1))
            if len(rows):
                m, n, k = (mnk[rows, i].astype(np.float64) for i in range(3))
                out[rows] = (kernel_db.latency(self.target, dtype, m, n, k, specs)
                             / kernel_db.latency(self.source, dtype, m, n, k, specs))
        return out

    def attention_ratios(self, shapes: np.ndarray, roof: np.ndarray) -> np.ndarray:
        """Target over source time of forward attention kernels of known shape (batch, sequence,
        heads; BF16/FP16) from the measured causal prefill attention of both parts
        (retime/replay/kernel_db.py: TensorRT-LLM's kernels, head size 128, standing for the trace's own at
        that shape); NaN where the tables do not answer for both parts or the type."""
        out = np.full(len(shapes), np.nan)
        specs = presets.presets()
        if not (kernel_db.covers_attention(self.source, specs) and kernel_db.covers_attention(self.target, specs)):
            return out
        rows = np.flatnonzero((roof == ROOF_TYPES.index("bf16")) & np.isfinite(shapes).all(axis=1) & (shapes > 0).all(axis=1))
        if len(rows):
            b, s, h = (shapes[rows, i] for i in range(3))
            out[rows] = (kernel_db.attention_latency(self.target, b, s, h, specs)
                         / kernel_db.attention_latency(self.source, b, s, h, specs))
        return out

    def collective_ratios(self, shapes: np.ndarray) -> np.ndarray:
        """Target over source time of collectives of known shape (op index into kernel_db.COLLECTIVES,
        GPUs, buffer bytes) within one node (2 to MAX_NODE_GPUS GPUs) from the measured NCCL curves
        (retime/replay/kernel_db.py); NaN where the curves do not answer on both parts (another vendor, a
        part without a link bandwidth, a group larger than a node), where the link ratio does."""
        out = np.full(len(shapes), np.nan)
        specs = presets.presets()
        if not (kernel_db.covers_collectives(self.source, specs) and kernel_db.covers_collectives(self.target, specs)):
            return out
        known = np.isfinite(shapes).all(axis=1) & (shapes[:, 1] >= 2) & (shapes[:, 1] <= MAX_NODE_GPUS)
        for code, op in enumerate(kernel_db.COLLECTIVES):
            for ranks in np.unique(shapes[known & (shapes[:, 0] == code), 1]):
                rows = np.flatnonzero(known & (shapes[:, 0] == code) & (shapes[:, 1] == ranks))
                nbytes = shapes[rows, 2]
                out[rows] = (kernel_db.collective_latency(self.target, op, int(ranks), nbytes, specs)
                             / kernel_db.collective_latency(self.source, op, int(ranks), nbytes, specs))
        return out

    def times(self, durations: np.ndarray, cls: str, intensity: np.ndarray | None = None,
              roof: np.ndarray | None = None) -> np.ndarray:
        """Predicted target times (ns, float) of kernels of one class that took `durations` on the
        source: the target's floor plus the work above the source's floor at each kernel's ratio
        (`intensity` FLOP/byte and `roof` index into ROOF_TYPES where known: NaN / -1 elsewhere); a
        kernel shorter than the source's floor scales by the ratio of the floors."""
        floor_s, floor_t = self.floor(self.source), self.floor(self.target)
        durations = np.asarray(durations, np.float64)
        ratio = self.ratios(cls, intensity, roof) if intensity is not None else self.ratio(cls)
        above = floor_t + (durations - floor_s) * ratio
        below = durations * (floor_t / floor_s) if floor_s > 0 else durations
        return np.where(durations >= floor_s, above, below)


def kernel_samples(con, trace_id: int) -> Kernels:
    """Every kernel of a stored trace with its class, duration and recorded work: what `calibrate` reads."""
    from retime.core.sqlfiles import load_sql
    foundation.load(con, "gpu", "ops")
    rows = con.execute(load_sql("retime.replay", "kernel_samples"),
                       {"trace_id": trace_id, "roof_types": list(ROOF_TYPES)}).fetchnumpy()
    return Kernels(cls=np.asarray(rows["class"], str), dur_ns=rows["dur_ns"].astype(np.float64),
                   flop_per_byte=rows["flop_per_byte"].astype(np.float64), roof=rows["roof"].astype(np.int64),
                   op_key=np.asarray(rows["op_key"], str))


@lru_cache(maxsize=1)
def shipped() -> dict:
    """retime/replay/presets/kernel_model.toml: floors, efficiencies and where they come from."""
    return tomllib.loads(resources.files("retime.replay").joinpath("presets", "kernel_model.toml").read_text())


def retarget_model(source: str, target: str, calibration: dict | None = None) -> RetargetModel:
    """The per-kernel model from preset `source` to `target`, with the shipped calibration
    (retime/replay/presets/kernel_model.toml) unless another is given."""
    data = calibration or shipped()
    tables = [dict(data.get(name, {})) for name in ("floor_ns", "efficiency", "compute_efficiency", "memory_efficiency")]
    for gpu in (source, target):  # a part defined on a preset (presets.define's based_on) runs as that preset does
        base = presets.presets().get(gpu, {}).get("based_on")
        for table in tables:
            if base in table and gpu not in table:
                table[gpu] = table[base]
    return RetargetModel(source, target, *tables)


def edge_factors(graph, model: RetargetModel, multiplier: np.ndarray, gpu_op_classes: np.ndarray,
                 bandwidth: np.ndarray | None = None) -> np.ndarray:
    """float64[m]: the factor that turns each kernel-duration edge's lag (its base lag times its edge
    class's multiplier) into the model's time (a collective's: its measured NCCL curves' ratio where
    both parts have them, else the multiplier of the `net` knob the retarget set; an absolute `net`
    bandwidth, `bandwidth` per edge class, wins over both); 1 on every other edge. A PDL offset edge starting at
    a kernel's start scales as that kernel does."""
    factor = np.ones(len(graph.src))
    dst = graph.dst
    from_op_start = (np.isin(graph.edge_class, gpu_op_classes) & graph.point_is_gpu[graph.src]
                     & ~graph.point_is_end[graph.src])
    duration = from_op_start & (graph.point_event[dst] == graph.point_event[graph.src]) & (graph.base_lag > 0)
    point_factor = np.ones(len(graph.measured))
    source_class = graph.point_gpu_class[graph.src]
    base = graph.base_lag.astype(np.float64)
    for code, cls in enumerate(GPU_CLASSES):
        if cls not in MODELLED + ("communication",):
            continue
        edges = np.flatnonzero(duration & (source_class == code))
        if len(edges) == 0:
            continue
        durations = base[edges]
        starts = graph.src[edges]
        if cls == "communication":  # measured NCCL curves of both parts where they answer; else the link ratio (net)
            ratio = graph.by_shape(starts, lambda shapes, _: model.collective_ratios(shapes))
            measured = np.isfinite(ratio)
            if bandwidth is not None:
                measured &= bandwidth[graph.edge_class[edges]] <= 0
            point_factor[starts[measured]] = ratio[measured] / multiplier[graph.edge_class[edges[measured]]]
            continue
        predicted = model.times(durations, cls, graph.point_flop_per_byte[starts], graph.point_roof[starts])
        if cls in ("gemm", "attention"):  # measured latencies of the same shape on both parts, where the tables have them
            ratios = model.gemm_ratios if cls == "gemm" else model.attention_ratios
            ratio = graph.by_shape(starts, ratios)
            measured = np.isfinite(ratio)
            predicted[measured] = durations[measured] * ratio[measured]
        point_factor[starts] = predicted / (durations * multiplier[graph.edge_class[edges]])
    # the duration edge and any PDL offset edge from the same kernel's start scale alike
    factor[from_op_start] = point_factor[graph.src[from_op_start]]
    return factor


def _floors(pairs: list[tuple[str, str, Kernels, Kernels]], traces: list[tuple[str, Kernels]]) -> dict[str, float]:
    """Per GPU, the FLOOR_QUANTILE of its kernels' durations over all its traces here. One floor per
    GPU, not per class: a class with few kernels would give its kernels' typical time (the H100's
    flash-attention kernels here, 9 µs), not a latency."""
    per_gpu: dict[str, list[np.ndarray]] = {}
    for gpu, kernels in [(g, k) for ga, gb, a, b in pairs for g, k in ((ga, a), (gb, b))] + list(traces):
        per_gpu.setdefault(gpu, []).append(kernels.dur_ns)
    return {gpu: round(float(np.quantile(np.concatenate(sets), FLOOR_QUANTILE))) for gpu, sets in per_gpu.items()
            if sum(len(s) for s in sets)}


def _pooled_logs(gpu_a: str, gpu_b: str, a: Kernels, b: Kernels, floors: dict) -> dict[str, float]:
    """log(eff_b / eff_a) per class from all of a class's kernels: work above the floors summed on
    each side against the class's peak ratio."""
    logs = {}
    for cls in MODELLED:
        ta, tb = a.durations(cls), b.durations(cls)
        if min(len(ta), len(tb)) < 3:
            continue
        work_a = np.maximum(0.0, ta - floors[gpu_a]).sum()
        work_b = np.maximum(0.0, tb - floors[gpu_b]).sum()
        if work_a > 0 and work_b > 0:
            # work_b / work_a = peak_ratio * eff_a / eff_b  ->  log(eff_b / eff_a)
            logs[cls] = math.log(RetargetModel(gpu_a, gpu_b, {}, {}).ratio(cls) * work_a / work_b)
    return logs


def _grouped(k: Kernels) -> dict[str, tuple[int, float, float, int]]:
    """Kernels with an operator key, summed per (operator occurrence, class): key -> (kernels,
    total ns, intensity, roof)."""
    shaped = np.flatnonzero(k.op_key != "")
    keys = np.char.add(np.char.add(k.op_key[shaped], " # "), k.cls[shaped])
    unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(unique))
    totals = np.bincount(inverse, weights=k.dur_ns[shaped], minlength=len(unique))
    rows = shaped[first]
    return {key: (int(n), float(s), float(k.flop_per_byte[i]), int(k.roof[i]))
            for key, n, s, i in zip(unique, counts, totals, rows)}


def _bound_logs(gpu_a: str, gpu_b: str, a: Kernels, b: Kernels, floors: dict) -> dict[tuple[str, str], float]:
    """log(eff_b / eff_a) per (class, bound) from operator occurrences matched across the pair whose
    kernels are throughput-bound on both GPUs and bound by the same roof on both (intensity at or
    above both ridge points: compute; at or below both: memory)."""
    ga, gb = _grouped(a), _grouped(b)
    sums: dict[tuple[str, str], list[tuple[float, float]]] = {}  # (class, bound) -> (log ratio, work on a) per occurrence
    hbm_a, hbm_b = presets.presets()[gpu_a]["hbm_tb_s"], presets.presets()[gpu_b]["hbm_tb_s"]
    for key in ga.keys() & gb.keys():
        (n_a, s_a, intensity, roof), (n_b, s_b, _, _) = ga[key], gb[key]
        cls = key.rsplit(" # ", 1)[1]
        if cls not in MODELLED or roof < 0 or not math.isfinite(intensity):
            continue
        floor_a, floor_b = floors[gpu_a], floors[gpu_b]
        if s_a < THROUGHPUT_FLOORS * n_a * floor_a or s_b < THROUGHPUT_FLOORS * n_b * floor_b:
            continue
        peak_a, peak_b = compute_peak(gpu_a, ROOF_TYPES[roof]), compute_peak(gpu_b, ROOF_TYPES[roof])
        ridges = (peak_a / hbm_a, peak_b / hbm_b)
        if intensity >= max(ridges):
            bound, peak_ratio = "compute", peak_a / peak_b
        elif intensity <= min(ridges):
            bound, peak_ratio = "memory", hbm_a / hbm_b
        else:
            continue
        sums.setdefault((cls, bound), []).append(
            (math.log((s_a - n_a * floor_a) * peak_ratio / (s_b - n_b * floor_b)), s_a - n_a * floor_a))
    return {key: weighted_median(np.array(values)) for key, values in sums.items()}


def weighted_median(values_weights: np.ndarray) -> float:
    """The median of column 0 with column 1 as weights: the value at half the total weight."""
    order = np.argsort(values_weights[:, 0])
    cumulative = np.cumsum(values_weights[order, 1])
    return float(values_weights[order[np.searchsorted(cumulative, 0.5 * cumulative[-1])], 0])


def _chain(logs: dict[tuple[str, str], list[float]]) -> dict[str, float]:
    """Efficiencies relative to ANCHOR from measured log ratios between GPU pairs: (gpu_a, gpu_b) ->
    [log(eff_b / eff_a) per pair], averaged per GPU pair (a geometric mean) and chained outwards
    from ANCHOR (nothing where no pair reaches it). Only GPUs linked to ANCHOR get a value: a prediction uses an efficiency only where source and target both have
    one (RetargetModel._pair), so values from pairs that never meet are never compared."""
    edges: dict[str, list[tuple[str, float]]] = {}
    for (a, b), values in logs.items():
        mean = sum(values) / len(values)
        edges.setdefault(a, []).append((b, mean))
        edges.setdefault(b, []).append((a, -mean))
    known = {ANCHOR: 0.0} if ANCHOR in edges else {}
    frontier = list(known)
    while frontier:
        gpu = frontier.pop()
        for other, log_ratio in edges.get(gpu, []):
            if other not in known:
                known[other] = known[gpu] + log_ratio
                frontier.append(other)
    return {gpu: round(math.exp(value), 4) for gpu, value in known.items()}


def calibrate(pairs: list[tuple[str, str, Kernels, Kernels]], traces: list[tuple[str, Kernels]] = ()) -> dict:
    """Floors and efficiencies from measured pairs: (gpu_a, gpu_b, the kernels of a workload on a,
    the same workload's on b), and for floors also single traces (gpu, kernels).
    Floors: per GPU, the FLOOR_QUANTILE of its kernels over all its traces here.
    Pooled efficiency of b relative to a per class: the class's peak ratio over the measured ratio
    of its work above the floors. Efficiency by bound (compute, memory) per class: the same over
    matched, throughput-bound operator occurrences bound by that roof on both GPUs. Each is
    averaged (geometric mean) over the pairs of two GPUs, then chained from ANCHOR."""
    floors = _floors(pairs, list(traces))
    pooled: dict[str, dict[tuple[str, str], list[float]]] = {}
    by_bound: dict[tuple[str, str], dict[tuple[str, str], list[float]]] = {}
    for gpu_a, gpu_b, a, b in pairs:
        for cls, value in _pooled_logs(gpu_a, gpu_b, a, b, floors).items():
            pooled.setdefault(cls, {}).setdefault((gpu_a, gpu_b), []).append(value)
        for key, value in _bound_logs(gpu_a, gpu_b, a, b, floors).items():
            by_bound.setdefault(key, {}).setdefault((gpu_a, gpu_b), []).append(value)
    out: dict = {"floor_ns": floors, "efficiency": {}, "compute_efficiency": {}, "memory_efficiency": {}}
    for cls in MODELLED:
        for gpu, value in _chain(pooled.get(cls, {})).items():
            out["efficiency"].setdefault(gpu, {})[cls] = value
        for bound in ("compute", "memory"):
            for gpu, value in _chain(by_bound.get((cls, bound), {})).items():
                out[f"{bound}_efficiency"].setdefault(gpu, {})[cls] = value
    return out
