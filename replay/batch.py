"""A batch this many times the measured one (`--set batch=2x`): each GPU op's own time at the new
batch, the host unchanged (weak scaling of one rank: the same steps, each over more data).

How each GPU op's duration moves, in this order:

- a GEMM whose launching operator recorded its shapes (m, n, k; a batch folded into m, `gemm_shape`
  in retime/foundation/ops.sql) on a part the measured GEMM tables answer for (replay/kernel_db.py,
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

The replay says how much of the GPU's time moved by each (`notes`). Nothing here is validated
against a measured pair of batch sizes: the error bar says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retime.replay import kernel_db, presets
from retime.replay.graph import ReplayGraph
from retime.replay.scenario import EDGE_CLASSES, GPU_CLASSES, ROOF_TYPES

FLOOR_QUANTILE = 0.05  # as kernel_model.FLOOR_QUANTILE: a trace's floor is this quantile of its kernels' durations
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


def edge_factors(graph: ReplayGraph, factor: float, gpu: str | None) -> tuple[np.ndarray, BatchShares]:
    """float64[m]: what each edge's lag is multiplied by at `factor` times the batch (1 off the GPU
    ops' durations), and how much measured GPU time each way moved. `gpu`: the trace's GPU preset,
    whose measured GEMM latencies time GEMMs of known shape (None: they move by rule)."""
    out = np.ones(len(graph.src))
    shares = BatchShares()
    edges = duration_edges(graph)
    if len(edges) == 0:
        return out, shares
    starts = graph.src[edges]
    durations = graph.base_lag[edges].astype(np.float64)
    edge_class = graph.edge_class[edges]
    point_factor = np.full(len(edges), np.nan)
    # collectives and peer copies keep their time; host copies grow with the batch's bytes
    kept = np.isin(edge_class, [EDGE_CLASSES.index(c) for c in KEEPS])
    point_factor[kept] = 1.0
    grows = np.isin(edge_class, [EDGE_CLASSES.index(c) for c in GROWS])
    point_factor[grows] = factor
    # GEMMs of recorded shape, from the measured latencies at the new shape
    shaped = np.zeros(len(edges), bool)
    if gpu is not None:
        gemm = (graph.point_gpu_class[starts] == GPU_CLASSES.index("gemm")) & np.isnan(point_factor)
        mnk = graph.shape_of(starts)
        specs = presets.presets()
        for code, dtype in enumerate(ROOF_TYPES):
            if dtype not in kernel_db.DTYPES or not kernel_db.covers(gpu, dtype, specs):
                continue
            rows = np.flatnonzero(gemm & (graph.point_roof[starts] == code) & np.isfinite(mnk).all(axis=1)
                                  & (mnk > 0).all(axis=1))
            if len(rows):
                m, n, k = (mnk[rows, i] for i in range(3))
                point_factor[rows] = (kernel_db.latency(gpu, dtype, np.maximum(m * factor, 1.0), n, k, specs)
                                      / kernel_db.latency(gpu, dtype, m, n, k, specs))
                shaped[rows] = True
        # forward attention of recorded shape (batch, sequence, heads), from the measured attention at the new batch
        attention = (graph.point_gpu_class[starts] == GPU_CLASSES.index("attention")) & np.isnan(point_factor) \
            & (graph.point_roof[starts] == ROOF_TYPES.index("bf16"))
        if kernel_db.covers_attention(gpu, specs):
            rows = np.flatnonzero(attention & np.isfinite(mnk).all(axis=1) & (mnk > 0).all(axis=1))
            if len(rows):
                b, seq, heads = (mnk[rows, i] for i in range(3))
                point_factor[rows] = (kernel_db.attention_latency(gpu, np.maximum(b * factor, 1.0), seq, heads, specs)
                                      / kernel_db.attention_latency(gpu, b, seq, heads, specs))
                shaped[rows] = True
    # the rest by rule: the floor stays, the work above it scales
    rule = np.isnan(point_factor)
    floor = trace_floor(graph, edges)
    above = np.maximum(durations[rule] - floor, 0.0)
    point_factor[rule] = (np.minimum(durations[rule], floor) + above * factor) / durations[rule]
    out[edges] = point_factor
    # a PDL offset edge from the same op's start scales as the op does
    by_point = np.ones(len(graph.measured))
    by_point[starts] = point_factor
    offsets = graph.point_is_gpu[graph.src] & ~graph.point_is_end[graph.src]
    offsets[edges] = False
    out[offsets] = by_point[graph.src[offsets]]
    shares.by_shape, shares.by_bytes = float(durations[shaped].sum()), float(durations[grows].sum())
    shares.kept, shares.by_rule = float(durations[kept].sum()), float(durations[rule].sum())
    return out, shares
