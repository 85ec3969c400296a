"""Measured GEMM latencies per GPU part, and the model that predicts a part from the others' measurements.

The tables (retime/replay/presets/kernel_db/, written by bench/kernel_db.py from NVIDIA's aiconfigurator-core
and AMD's amd-aiter; provenance in retime/replay/presets/kernel_db.toml) hold GEMM latencies measured on
each part, for NVIDIA parts on one grid of (m, n, k). `latency` answers, for any part and shape:

- a part measured on the grid: its own latencies, interpolated linearly in log space over
  log m, log n, log k (beyond the grid: the edge's latency scaled by the shape's excess, latency being
  proportional to size there);
- any other part, a hypothetical one included, from its public specs (gpus.toml: dense peak of the
  data type, HBM bandwidth, SMs/CUs): each gridded part's measured latency moved by the roofline's
  ratio with wave quantisation,

      t_T(s) = floor + (t_q(s) - floor_q) x R_T(s) / R_q(s),   R_g(s) = max(F / (P_g x waves_g(s)), B / H_g)

  (F, B: the shape's FLOPs and bytes; waves_g: the share of the last wave of 128 x 128 tiles over
  the part's SMs that is used), geometrically averaged over the gridded parts with weights that fall
  with the distance between specs (1 / (0.1 + |log P_q/P_T| + |log H_q/H_T|)). Only parts of the
  grids' vendor are answered (`covers`): on the other vendor's measured GEMMs (aiter's tuned MI300X
  and MI355X rows, kept in the table off the grid) it does worse than the calibrated roofline model
  (bench/kernel_validation.py), so no prediction reads those rows.

bench/kernel_validation.py holds each gridded part out in turn and scores this model on it.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from retime.replay import presets

TILE = 128                 # a GEMM's output tile edge for wave quantisation (cuBLAS's common 128 x 128)
DTYPES = ("bf16", "fp8")   # roof types the tables measure; fp16 runs as bf16 on every part here
PEAK_FIELD = {"bf16": "bf16_tflops", "fp8": "fp8_tflops"}
ELEMENT_BYTES = {"bf16": 2, "fp8": 1}


@dataclass(frozen=True)
class Grid:
    """One part's latencies of one data type on the shared grid: axes in log2, latency in log (µs)."""
    log_m: np.ndarray
    log_n: np.ndarray
    log_k: np.ndarray
    log_latency: np.ndarray    # [m, n, k]

    @property
    def floor_us(self) -> float:
        """The part's least GEMM latency on the grid: launch to retire of the smallest GEMM."""
        return float(np.exp(self.log_latency.min()))


@lru_cache(maxsize=1)
def provenance() -> dict:
    """retime/replay/presets/kernel_db.toml: packages, versions, licences and files of the tables."""
    return tomllib.loads(resources.files("retime.replay").joinpath("presets", "kernel_db.toml").read_text())


@lru_cache(maxsize=None)
def _rows(kind: str) -> dict[str, np.ndarray]:
    """One of the measured tables (kernel_db.toml's [gemm], [nccl], [attention]) as columns."""
    import duckdb  # pyarrow's Parquet reader imports pandas where it is installed (retime/core/arrow.py)
    path = resources.files("retime.replay").joinpath("presets", provenance()[kind]["file"])
    with duckdb.connect() as con:
        return con.execute("SELECT * FROM read_parquet($path)", {"path": str(path)}).fetchnumpy()


def table() -> dict[str, np.ndarray]:
    """The measured GEMM rows as columns: gpu, dtype, m, n, k, latency_us."""
    return _rows("gemm")


def _fill_missing(values: np.ndarray, log_k: np.ndarray) -> np.ndarray:
    """A grid's missing cells (NaN, log latency) filled from the nearest measured m of the same
    (n, k), and where a whole (n, k) was not measured (the largest n x k on some parts), from the
    nearest measured k of the same (m, n) scaled by the k ratio (latency grows with k there)."""
    out = values.copy()
    for j, kk in zip(*np.nonzero(np.isnan(values).any(axis=0))):
        column = values[:, j, kk]
        have = np.flatnonzero(~np.isnan(column))
        if len(have):
            gaps = np.flatnonzero(np.isnan(column))
            out[gaps, j, kk] = column[have[np.abs(have[None, :] - gaps[:, None]).argmin(axis=1)]]
    for i, j in zip(*np.nonzero(np.isnan(out).any(axis=2))):
        row = out[i, j, :].copy()
        have = np.flatnonzero(~np.isnan(row))
        if len(have):
            gaps = np.flatnonzero(np.isnan(row))
            near = have[np.abs(have[None, :] - gaps[:, None]).argmin(axis=1)]
            out[i, j, gaps] = row[near] + (log_k[gaps] - log_k[near]) * np.log(2.0)
    return out


@lru_cache(maxsize=None)
def grid(gpu: str, dtype: str) -> Grid | None:
    """A part's measured grid of one data type, or None where the tables have no grid for it
    (fewer rows than a full grid's axes need)."""
    rows = table()
    mine = (rows["gpu"] == gpu) & (rows["dtype"] == dtype)
    if mine.sum() < 1000:
        return None
    return _grid_of(rows["m"][mine], rows["n"][mine], rows["k"][mine], rows["latency_us"][mine])


def _grid_of(a: np.ndarray, b: np.ndarray, c: np.ndarray, latency_us: np.ndarray) -> Grid:
    """A part's measured rows on three axes as a Grid, the cells it did not measure filled."""
    axes = [np.unique(x) for x in (a, b, c)]
    values = np.full([len(x) for x in axes], np.nan)
    values[np.searchsorted(axes[0], a), np.searchsorted(axes[1], b), np.searchsorted(axes[2], c)] = \
        np.log(latency_us.astype(np.float64))
    log_axes = [np.log2(x.astype(np.float64)) for x in axes]
    return Grid(*log_axes, _fill_missing(values, log_axes[2]))


def gridded_parts(dtype: str) -> list[str]:
    """The parts with a measured grid of a data type."""
    return [g for g in dict.fromkeys(table()["gpu"]) if grid(g, dtype) is not None]


def _axis(log_axis: np.ndarray, log_x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each value: the lower grid index, the weight of the upper one, and the log2 excess beyond the grid's end."""
    clipped = np.clip(log_x, log_axis[0], log_axis[-1])
    i = np.clip(np.searchsorted(log_axis, clipped, side="right") - 1, 0, len(log_axis) - 2)
    w = (clipped - log_axis[i]) / (log_axis[i + 1] - log_axis[i])
    return i, w, np.maximum(log_x - log_axis[-1], 0.0)


def interpolate(g: Grid, m: np.ndarray, n: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Latency (µs) of each shape on a gridded part: trilinear in log latency over log2 m, n, k."""
    (im, wm, em), (i_n, wn, en), (ik, wk, ek) = (_axis(a, np.log2(np.maximum(x, 1.0)))
                                                 for a, x in ((g.log_m, m), (g.log_n, n), (g.log_k, k)))
    out = np.zeros(len(im))
    for dm, fm in ((0, 1 - wm), (1, wm)):
        for dn, fn in ((0, 1 - wn), (1, wn)):
            for dk, fk in ((0, 1 - wk), (1, wk)):
                out += fm * fn * fk * g.log_latency[im + dm, i_n + dn, ik + dk]
    return np.exp(out + (em + en + ek) * np.log(2.0))  # beyond the grid, latency grows with the size


def roofline_us(spec: dict, dtype: str, m: np.ndarray, n: np.ndarray, k: np.ndarray) -> np.ndarray:
    """R_g(s): the roofline time (µs) of each shape on a part of these specs, the compute side
    stretched by wave quantisation over its SMs where the spec gives them."""
    flops = 2.0 * m * n * k
    bytes_moved = ELEMENT_BYTES[dtype] * (m * k + k * n + m * n)
    peak = spec.get(PEAK_FIELD[dtype]) or spec["bf16_tflops"]
    used = 1.0
    if spec.get("sms"):
        tiles = np.ceil(m / TILE) * np.ceil(n / TILE)
        used = tiles / (np.ceil(tiles / spec["sms"]) * spec["sms"])
    return np.maximum(flops / (peak * 1e6 * used), bytes_moved / (spec["hbm_tb_s"] * 1e6))


def spec_distance(a: dict, b: dict, dtype: str) -> float:
    """How far apart two parts' specs are: |log peak ratio| of the type + |log HBM ratio|."""
    peak = PEAK_FIELD[dtype]
    pa, pb = a.get(peak) or a["bf16_tflops"], b.get(peak) or b["bf16_tflops"]
    return abs(np.log(pa / pb)) + abs(np.log(a["hbm_tb_s"] / b["hbm_tb_s"]))


def from_specs(spec: dict, dtype: str, m, n, k, anchors: list[str], specs: dict[str, dict]) -> np.ndarray:
    """Latency (µs) on a part known by its specs only, from the measured grids of `anchors`."""
    m, n, k = (np.asarray(x, np.float64) for x in (m, n, k))
    return _moved_by_roofline({q: grid(q, dtype) for q in anchors}, (m, n, k),
                              lambda part: roofline_us(part, dtype, m, n, k), spec, specs, dtype)


def _moved_by_roofline(grids: dict[str, Grid], shape: tuple, roofline, spec: dict, specs: dict[str, dict],
                       dtype: str) -> np.ndarray:
    """The spec model: each measured part's latency at `shape` moved by the ratio of `roofline`
    (part specs -> µs) on the target and on it, above a floor (the median of the parts' floors),
    geometrically averaged with weights 1 / (0.1 + spec distance)."""
    floor = float(np.median([g.floor_us for g in grids.values()]))
    target = roofline(spec)
    logs, weights = [], []
    for q, g in grids.items():
        measured = interpolate(g, *shape)
        logs.append(np.log(floor + np.maximum(measured - g.floor_us, 0.0) * target / roofline(specs[q])))
        weights.append(1.0 / (0.1 + spec_distance(specs[q], spec, dtype)))
    weights = np.array(weights)
    return np.exp((np.array(logs) * weights[:, None]).sum(axis=0) / weights.sum())


def latency(gpu: str, dtype: str, m, n, k, specs: dict[str, dict], exclude: tuple[str, ...] = ()) -> np.ndarray:
    """Predicted latency (µs) of GEMMs of shapes (m, n, k) on preset `gpu` (specs: the presets by
    key): measured where the part has a grid (and is not excluded), else from its specs.
    `exclude` holds parts out (validation)."""
    m, n, k = (np.asarray(x, np.float64) for x in (m, n, k))
    own = grid(gpu, dtype) if gpu not in exclude else None
    if own is not None:
        return interpolate(own, m, n, k)
    anchors = [q for q in gridded_parts(dtype) if q not in exclude and q != gpu and q in specs]
    return from_specs(specs[gpu], dtype, m, n, k, anchors, specs)


def covers(gpu: str, dtype: str, specs: dict[str, dict]) -> bool:
    """Whether `latency` answers for a part and data type: it has a measured grid of the type, or it
    is of the vendor whose grids the tables hold (NVIDIA) and has the specs the model needs (a peak
    of that type, or BF16's, and HBM bandwidth). The model from specs is validated holding NVIDIA
    parts out of NVIDIA grids (bench/kernel_validation.py), never across vendors."""
    if dtype not in DTYPES:
        return False
    if grid(gpu, dtype) is not None:
        return True
    spec = specs.get(gpu, {})
    return _measured_vendor(gpu, gridded_parts(dtype)) and bool(
        spec.get("hbm_tb_s") and (spec.get(PEAK_FIELD[dtype]) or spec.get("bf16_tflops")))


def _measured_vendor(gpu: str, parts: list[str]) -> bool:
    """Whether a part is of a vendor some measured part is of: the spec models are validated
    holding parts of the measured vendor out, never across vendors."""
    return presets.vendor(gpu) in {presets.vendor(q) for q in parts}


# -- collectives ---------------------------------------------------------------------------------
# NCCL within one node, measured per part (nccl.parquet): latency by operation, GPU count and buffer
# size. `collective_latency` answers for any part and size:
#
# - a measured part: its own curve at the trace's GPU count, interpolated linearly in log latency
#   over log bytes; below the smallest size the smallest's latency, beyond the largest the largest's
#   scaled by the size (bandwidth-bound). At a count it was not measured at (GB200 / GB300 have 2
#   and 4, not 8), its nearest measured count's curve moved as the nearest parts measured at both
#   counts move (count_ratio);
# - any other part of the vendor, from its scale-up link bandwidth (gpus.toml interconnect_gb_s):
#   the measured part nearest in link bandwidth (of several as near, the geometric mean of their
#   curves), scaled by the ratio of link bandwidths, t_T(s) = t_q(s) x B_q / B_T. A model that kept
#   each part's small-message latency and moved only the rest, averaged over all parts by distance,
#   did worse held out (A100: 16.9% median against 9.2%): small-message latency changes across
#   generations about as the links do, and parts far apart in bandwidth differ in more than it.
COLLECTIVES = ("all_reduce", "all_gather", "reduce_scatter", "alltoall")  # a collective's op code: its index
NEAR_LINK = 0.1  # parts within this |log| of the nearest link bandwidth count as as near (H100 and H200)


def nccl_table() -> dict[str, np.ndarray]:
    """The measured collective rows as columns: gpu, op, ranks, bytes, latency_us."""
    return _rows("nccl")


@lru_cache(maxsize=None)
def nccl_curve(gpu: str, op: str, ranks: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(log bytes, log latency µs) of one part's measured curve, by size; None where not measured."""
    rows = nccl_table()
    mine = (rows["gpu"] == gpu) & (rows["op"] == op) & (rows["ranks"] == ranks)
    if not mine.any():
        return None
    order = np.argsort(rows["bytes"][mine])
    return (np.log(rows["bytes"][mine][order].astype(np.float64)),
            np.log(rows["latency_us"][mine][order].astype(np.float64)))


def nccl_parts() -> list[str]:
    """The parts with measured collectives."""
    return list(dict.fromkeys(nccl_table()["gpu"]))


def measured_ranks(gpu: str, op: str, ranks: int) -> int | None:
    """The GPU count of a part's measured curves nearest `ranks` (in ratio), None without curves."""
    rows = nccl_table()
    have = np.unique(rows["ranks"][(rows["gpu"] == gpu) & (rows["op"] == op)])
    if not len(have):
        return None
    return int(have[np.abs(np.log(have / max(ranks, 2))).argmin()])


def _on_curve(curve: tuple[np.ndarray, np.ndarray], nbytes: np.ndarray) -> np.ndarray:
    log_bytes, log_latency = curve
    x = np.log(np.maximum(nbytes, 1.0))
    inside = np.exp(np.interp(x, log_bytes, log_latency))
    beyond = np.exp(log_latency[-1] + x - log_bytes[-1])  # bandwidth-bound: time grows with the size
    return np.where(x > log_bytes[-1], beyond, inside)


def collective_from_specs(spec: dict, op: str, ranks: int, nbytes: np.ndarray, anchors: list[str],
                          specs: dict[str, dict]) -> np.ndarray:
    """Latency (µs) of collectives of `nbytes` on a part known by its link bandwidth only: the
    measured part nearest in link bandwidth (of several as near, their geometric mean) scaled by
    the ratio of link bandwidths; parts measured at the GPU count asked for first."""
    counts = {q: measured_ranks(q, op, ranks) for q in anchors}
    exact = [q for q, n in counts.items() if n == ranks]  # parts measured at this GPU count answer first
    logs = [np.log(_on_curve(nccl_curve(q, op, counts[q]), nbytes) * specs[q]["interconnect_gb_s"] / spec["interconnect_gb_s"])
            for q in nearest_in_link(spec, exact or [q for q, n in counts.items() if n is not None], specs)]
    return np.exp(np.mean(logs, axis=0))


def nearest_in_link(spec: dict, parts: list[str], specs: dict[str, dict]) -> list[str]:
    """Of `parts`, those nearest a part of these specs in scale-up link bandwidth (|log ratio|),
    with every part within NEAR_LINK of the nearest (H100 and H200 alike)."""
    distance = {q: abs(np.log(specs[q]["interconnect_gb_s"] / spec["interconnect_gb_s"])) for q in parts}
    nearest = min(distance.values())
    return [q for q, d in distance.items() if d <= nearest + NEAR_LINK]


def collective_latency(gpu: str, op: str, ranks: int, nbytes, specs: dict[str, dict],
                       exclude: tuple[str, ...] = ()) -> np.ndarray:
    """Predicted latency (µs) of `op` collectives over `ranks` GPUs of one node moving buffers of
    `nbytes` on preset `gpu`: its measured curve where the tables have it (and it is not excluded),
    else from its link bandwidth. `exclude` holds parts out (validation)."""
    nbytes = np.asarray(nbytes, np.float64)
    if gpu not in exclude:
        own = measured_ranks(gpu, op, ranks)
        if own is not None:
            return _on_curve(nccl_curve(gpu, op, own), nbytes) * count_ratio(gpu, op, own, ranks, nbytes, specs, exclude)
    anchors = [q for q in nccl_parts() if q not in exclude and q != gpu and q in specs]
    return collective_from_specs(specs[gpu], op, ranks, nbytes, anchors, specs)


def count_ratio(gpu: str, op: str, measured: int, ranks: int, nbytes: np.ndarray, specs: dict[str, dict],
                exclude: tuple[str, ...] = ()) -> np.ndarray:
    """How a part's collective latency moves from a GPU count it was measured at to one it was not
    (GB200 / GB300 at 8): as it moves on the measured parts nearest in link bandwidth that were
    measured at both counts (their geometric mean), size by size; 1 where the counts are equal or
    no such part exists. bench/kernel_validation.py holds each measured count out and scores this."""
    if measured == ranks:
        return np.ones(len(nbytes))
    both = [q for q in nccl_parts() if q not in exclude and q != gpu and q in specs
            and nccl_curve(q, op, measured) is not None and nccl_curve(q, op, ranks) is not None]
    if not both:
        return np.ones(len(nbytes))
    return np.exp(np.mean([np.log(_on_curve(nccl_curve(q, op, ranks), nbytes) / _on_curve(nccl_curve(q, op, measured), nbytes))
                           for q in nearest_in_link(specs[gpu], both, specs)], axis=0))


def covers_collectives(gpu: str, specs: dict[str, dict]) -> bool:
    """Whether `collective_latency` answers for a part: measured, or of the measured parts' vendor
    with a link bandwidth (validated holding each measured part out, bench/kernel_validation.py)."""
    if gpu in nccl_parts():
        return True
    return _measured_vendor(gpu, nccl_parts()) and bool(specs.get(gpu, {}).get("interconnect_gb_s"))


# -- attention -----------------------------------------------------------------------------------
# Causal prefill attention measured per part (attention.parquet): TensorRT-LLM's torch flow, BF16,
# head size 128, as many KV heads as query heads, on a grid of batch x sequence length x heads.
# `attention_latency` answers as `latency` does for GEMMs: a part's own grid, interpolated in log
# space, else the measured parts' latencies moved by the attention roofline's ratio with wave
# quantisation and averaged with weights that fall with spec distance. bench/kernel_validation.py
# holds each part out. These are TensorRT-LLM's kernels: `--to` reads their ratio across parts at a
# trace's attention shape as a proxy for the trace's own kernels (flash attention, SDPA's).
HEAD_DIM = 128


def attention_table() -> dict[str, np.ndarray]:
    """The measured attention rows as columns: gpu, batch, seq, heads, latency_us."""
    return _rows("attention")


@lru_cache(maxsize=None)
def attention_grid(gpu: str) -> Grid | None:
    """A part's measured attention grid (axes batch, seq, heads in log2); None where not measured."""
    rows = attention_table()
    mine = rows["gpu"] == gpu
    if mine.sum() < 100:
        return None
    return _grid_of(rows["batch"][mine], rows["seq"][mine], rows["heads"][mine], rows["latency_us"][mine])


def attention_parts() -> list[str]:
    return [g for g in dict.fromkeys(attention_table()["gpu"]) if attention_grid(g) is not None]


def attention_roofline_us(spec: dict, batch, seq, heads) -> np.ndarray:
    """The roofline time (µs) of causal prefill attention: 2 x b x h x s^2 x d FLOPs (QK^T and PV,
    half of each under the causal mask) against the BF16 peak, with wave quantisation of 128-row
    query tiles over the SMs; or its q, k, v and output in BF16 against HBM."""
    b, s, h = (np.asarray(x, np.float64) for x in (batch, seq, heads))
    flops = 2.0 * b * h * s * s * HEAD_DIM
    bytes_moved = 2.0 * 4 * b * s * h * HEAD_DIM
    used = 1.0
    if spec.get("sms"):
        tiles = np.ceil(s / TILE) * b * h
        used = tiles / (np.ceil(tiles / spec["sms"]) * spec["sms"])
    return np.maximum(flops / (spec["bf16_tflops"] * 1e6 * used), bytes_moved / (spec["hbm_tb_s"] * 1e6))


def attention_latency(gpu: str, batch, seq, heads, specs: dict[str, dict], exclude: tuple[str, ...] = ()) -> np.ndarray:
    """Predicted latency (µs) of causal prefill attention on preset `gpu`: measured where the part
    has a grid (and is not excluded), else from its specs and the other parts' grids."""
    b, s, h = (np.asarray(x, np.float64) for x in (batch, seq, heads))
    own = attention_grid(gpu) if gpu not in exclude else None
    if own is not None:
        return interpolate(own, b, s, h)
    anchors = [q for q in attention_parts() if q not in exclude and q != gpu and q in specs]
    return _moved_by_roofline({q: attention_grid(q) for q in anchors}, (b, s, h),
                              lambda part: attention_roofline_us(part, b, s, h), specs[gpu], specs, "bf16")


def covers_attention(gpu: str, specs: dict[str, dict]) -> bool:
    """Whether `attention_latency` answers for a part: measured, or of the measured parts' vendor
    with a BF16 peak and HBM bandwidth (validated holding each measured part out)."""
    if gpu in attention_parts():
        return True
    spec = specs.get(gpu, {})
    return _measured_vendor(gpu, attention_parts()) and bool(spec.get("bf16_tflops") and spec.get("hbm_tb_s"))
