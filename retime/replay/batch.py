"""A batch this many times the measured one (`--set batch=2x`): each GPU op's own time at the new
batch, the host unchanged (weak scaling of one rank: the same steps, each over more data).

How each GPU op's duration moves, in this order:

- a GEMM whose launching operator recorded its shapes (m, n, k; a batch folded into m, `gemm_shape`
  in retime/foundation/ops.sql) on a part the measured GEMM tables answer for (retime/replay/kernel_db.py,
  NVIDIA parts, BF16/FP16 and FP8): the ratio of the measured latencies at (m x f, n, k) and at
  (m, n, k) on the trace's GPU, so a small GEMM that was latency-bound stays nearly as fast and a
  large one grows with its work. m is the batch's dimension in a matmul of activations by weights
  (a linear layer); a GEMM of weights by weights or of gradients of weights (m independent of the
  batch) is moved as if it were one, which overstates its growth;
- a forward attention kernel whose operator recorded its query's shape (batch, sequence, heads; SDPA
  or flash attention, BF16/FP16) on such a part: the ratio of the measured attention latencies at
  (batch x f, sequence, heads) and at the measured shape (kernel_db.attention_latency: TensorRT-LLM's
  causal prefill attention, head size 128, standing for the trace's own kernels);
- host-to-device and device-to-host copies: their bytes are the batch's inputs and outputs, so
  their time grows by f;
- collectives and peer copies keep their time: gradients keep their size (a tensor-parallel
  all-reduce of activations would grow; the trace does not say which a collective is);
- every other kernel, copy on the device and memset, by rule: the trace's latency floor (the 5th
  percentile of its kernels' durations, as kernel_model.py takes a GPU's) plus its time above the
  floor times f: work that is memory- or compute-bound grows with the data, launch latency does not.

On a trace with no GPU ops (the CPU build of PyTorch), the host's operators are the work: the host
time inside each operator's span moves segment by segment (a segment: the time between two of the
thread's points, an operator's start, a child's end) by the same rule, the floor being the
FLOOR_QUANTILE of those segments; the time outside operators (Python, module calls, the profiler's
bookkeeping) and collectives over the host's network keep theirs (retime/replay/presets/batch.toml).

The replay says how much of the time moved by each (`notes`). Host-run traces are validated on measured
pairs of batch sizes (sample_traces/batch, bench/fidelity.py); the GPU path is not: its error bar
says so.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from retime.replay import kernel_db, presets, spans
from retime.replay.kernel_model import FLOOR_QUANTILE  # a trace's floor is this quantile of its kernels' durations
from retime.replay.graph import ReplayGraph
from retime.replay.scenario import EDGE_CLASSES, GPU_CLASSES, ROOF_TYPES

GROWS = ("h2d", "d2h")  # copies of the batch's own data
KEEPS = ("comm", "p2p")  # collectives and peer copies: gradients keep their size


@dataclass
class BatchShares:
    """Measured GPU time (ns) of the ops each way of moving them applied to."""
    by_shape: float = 0.0
    by_bytes: float = 0.0
    by_rule: float = 0.0
    kept: float = 0.0

    def text(self, factor: float) -> str:
        total = self.by_shape + self.by_bytes + self.by_rule + self.kept or 1.0
        pct = lambda ns: f"{100 * ns / total:.0f}%"
        return (f"batch={factor:g}x moved {pct(self.by_shape)} of the GPU time by measured GEMM and attention "
                f"latencies at the new shapes, {pct(self.by_bytes)} by bytes (host copies), {pct(self.by_rule)} by rule (the trace's "
                f"floor plus the time above it x {factor:g}), and kept {pct(self.kept)} (collectives, peer copies)")


@dataclass
class HostShares:
    """Measured host time (ns) of a trace with no GPU ops, inside operators and outside them."""
    by_rule: float = 0.0
    kept: float = 0.0

    def text(self, factor: float) -> str:
        total = self.by_rule + self.kept or 1.0
        return (f"batch={factor:g}x moved {100 * self.by_rule / total:.0f}% of the host's time, the time inside its "
                f"operators, by rule (the trace's floor plus the time above it x {factor:g}), and kept "
                f"{100 * self.kept / total:.0f}% (Python and framework time outside operators, host collectives): "
                f"the trace has no GPU ops, so its operators are its work")


@lru_cache(maxsize=1)
def host_rules() -> dict:
    """retime/replay/presets/batch.toml's [host] table: which host time is a host-run trace's work."""
    return tomllib.loads(resources.files("retime.replay").joinpath("presets", "batch.toml").read_text())["host"]


def host_work_edges(graph: ReplayGraph) -> np.ndarray:
    """The host edges that move with the batch on a trace with no GPU ops: the time inside its
    operators' spans but not inside a kept one (retime/replay/presets/batch.toml). Empty on a trace with GPU ops."""
    if graph.point_is_gpu.any():
        return np.zeros(0, np.int64)
    rules = host_rules()
    work = spans.own_time_edges(graph, rules["operators"])
    for keep in rules.get("keep", []):
        work &= ~spans.own_time_edges(graph, keep["pattern"])
    host = np.isin(graph.edge_class, [EDGE_CLASSES.index(c) for c in spans.HOST_CLASSES])
    return np.flatnonzero(work & host & (graph.base_lag > 0))


def host_shares(graph: ReplayGraph) -> HostShares:
    host = np.isin(graph.edge_class, [EDGE_CLASSES.index(c) for c in spans.HOST_CLASSES])
    moved = float(graph.base_lag[host_work_edges(graph)].sum())
    return HostShares(by_rule=moved, kept=float(graph.base_lag[host].sum()) - moved)


def by_rule(durations: np.ndarray, floor: float, factor: float) -> np.ndarray:
    """Each duration's factor at `factor` times the batch: the floor stays, the work above it scales."""
    return (np.minimum(durations, floor) + np.maximum(durations - floor, 0.0) * factor) / durations


def duration_edges(graph: ReplayGraph) -> np.ndarray:
    """The edges that are a GPU op's own duration (from its start to its end)."""
    src = graph.src
    return np.flatnonzero(graph.point_is_gpu[src] & ~graph.point_is_end[src]
                          & (graph.point_event[graph.dst] == graph.point_event[src]) & (graph.base_lag > 0))


def trace_floor(graph: ReplayGraph, edges: np.ndarray) -> float:
    """The trace's latency floor: the FLOOR_QUANTILE of its kernels' durations."""
    kernels = np.isin(graph.point_gpu_class[graph.src[edges]],
                      [GPU_CLASSES.index(c) for c in GPU_CLASSES if c not in ("memory", "communication")])
    durations = graph.base_lag[edges[kernels]]
    return float(np.quantile(durations, FLOOR_QUANTILE)) if len(durations) else 0.0


@dataclass
class _Ops:
    """The GPU ops' duration edges and how each moves with the batch."""
    edges: np.ndarray
    kept: np.ndarray     # bool per edge: collectives, peer copies
    grows: np.ndarray    # host copies
    gemm: np.ndarray     # GEMMs of recorded shape the measured tables answer for
    attention: np.ndarray  # forward attention likewise


def _ops(graph: ReplayGraph, gpu: str | None) -> _Ops:
    edges = duration_edges(graph)
    starts = graph.src[edges]
    edge_class = graph.edge_class[edges]
    kept = np.isin(edge_class, [EDGE_CLASSES.index(c) for c in KEEPS])
    grows = np.isin(edge_class, [EDGE_CLASSES.index(c) for c in GROWS])
    shaped = ~kept & ~grows & (graph.point_shape[starts] >= 0)
    gemm = np.zeros(len(edges), bool)
    attention = np.zeros(len(edges), bool)
    if gpu is not None:
        specs = presets.presets()
        roof = graph.point_roof[starts]
        covered = [ROOF_TYPES.index(d) for d in kernel_db.DTYPES if kernel_db.covers(gpu, d, specs)]
        gemm = shaped & (graph.point_gpu_class[starts] == GPU_CLASSES.index("gemm")) & np.isin(roof, covered)
        if kernel_db.covers_attention(gpu, specs):
            attention = shaped & (graph.point_gpu_class[starts] == GPU_CLASSES.index("attention")) \
                & (roof == ROOF_TYPES.index("bf16"))
    return _Ops(edges, kept, grows, gemm, attention)


def _at_new_batch(gpu: str, factor: float):
    """ratio(shapes, roofs): latency at `factor` times the batch over the measured one, per shape row
    (a GEMM's batch is folded into m, an attention's is its first axis)."""
    specs = presets.presets()

    def ratio(shapes: np.ndarray, roofs: np.ndarray) -> np.ndarray:
        out = np.ones(len(shapes))
        for code in np.unique(roofs):
            rows = roofs == code
            a, b, c = shapes[rows].T
            if ROOF_TYPES[code] in kernel_db.DTYPES and np.isfinite(a).all() and a.size:
                dtype = ROOF_TYPES[code]
                out[rows] = (kernel_db.latency(gpu, dtype, np.maximum(a * factor, 1.0), b, c, specs)
                             / kernel_db.latency(gpu, dtype, a, b, c, specs))
        return out

    def attention(shapes: np.ndarray, _) -> np.ndarray:
        b, s, h = shapes.T
        return (kernel_db.attention_latency(gpu, np.maximum(b * factor, 1.0), s, h, specs)
                / kernel_db.attention_latency(gpu, b, s, h, specs))
    return ratio, attention


def edge_factors(graph: ReplayGraph, factor: float, gpu: str | None) -> np.ndarray:
    """float64[m]: what each edge's lag is multiplied by at `factor` times the batch (1 off the GPU
    ops' durations). `gpu`: the trace's GPU preset, whose measured GEMM and attention latencies time
    the ops of known shape (None: they move by rule)."""
    out = np.ones(len(graph.src))
    ops = _ops(graph, gpu)
    if len(ops.edges) == 0:
        host = host_work_edges(graph)
        if len(host):
            durations = graph.base_lag[host].astype(np.float64)
            out[host] = by_rule(durations, float(np.quantile(durations, FLOOR_QUANTILE)), factor)
        return out
    starts = graph.src[ops.edges]
    durations = graph.base_lag[ops.edges].astype(np.float64)
    point_factor = np.ones(len(ops.edges))
    point_factor[ops.grows] = factor
    if ops.gemm.any() or ops.attention.any():
        gemm_ratio, attention_ratio = _at_new_batch(gpu, factor)
        point_factor[ops.gemm] = graph.by_shape(starts[ops.gemm], gemm_ratio)
        point_factor[ops.attention] = graph.by_shape(starts[ops.attention], attention_ratio)
    # the rest by rule: the floor stays, the work above it scales
    rule = ~(ops.kept | ops.grows | ops.gemm | ops.attention)
    point_factor[rule] = by_rule(durations[rule], trace_floor(graph, ops.edges), factor)
    out[ops.edges] = point_factor
    # a PDL offset edge from the same op's start scales as the op does
    by_point = np.ones(len(graph.measured))
    by_point[starts] = point_factor
    offsets = graph.point_is_gpu[graph.src] & ~graph.point_is_end[graph.src]
    offsets[ops.edges] = False
    out[offsets] = by_point[graph.src[offsets]]
    return out


def shares(graph: ReplayGraph, gpu: str | None) -> BatchShares | HostShares:
    """How much measured GPU time each way of moving it applies to (no latency is looked up); on a
    trace with no GPU ops, how much host time moved."""
    ops = _ops(graph, gpu)
    if len(ops.edges) == 0:
        return host_shares(graph)
    durations = graph.base_lag[ops.edges].astype(np.float64)
    shaped = ops.gemm | ops.attention
    return BatchShares(by_shape=float(durations[shaped].sum()), by_bytes=float(durations[ops.grows].sum()),
                       by_rule=float(durations[~(ops.kept | ops.grows | shaped)].sum()),
                       kept=float(durations[ops.kept].sum()))
