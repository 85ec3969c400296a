"""Growing a measured job (`retime replay TRACE --all-ranks --ranks N`): how well a job grown from
some of its ranks predicts the measured job, and what growing costs.

Validation: the real 8-rank DLRM job (../shared/traces/param/dlrm_8rank, one server of V100s)
grown to 8 ranks from every subset of R of its ranks (R = 1, 2, 4: 8, 28 and 70 subsets; rank i
copies the subset's (i mod R)-th rank), against its measured 8 ranks: the job's span (the slowest
rank's) and each rank's span, beside the naive baseline that predicts every rank at the subset's
median span. Its ranks already ran 8-rank collectives, so this scores the copies (the measured
spread of host and GPU time carried over), not the collectives' re-timing: that one is scored at
the collective level by bench/kernel_validation.py (each GPU count of a part held out).

Speed: the job grown to 8 ... 1,024 ranks across servers of a DGX H100 topology, cold (the 8 rank
graphs built) and warm, with this process's peak memory.

    python bench/grow.py
"""
from __future__ import annotations

import itertools
import time

import numpy as np
from common import fresh_store_path, peak_kb  # bench/common.py
from jobs import DLRM  # bench/jobs.py

import retime


def validate(store, first: int) -> list[dict]:
    measured = {rank: r for rank, r in store.replay(first, all_ranks=True)}
    ranks = sorted(measured)
    spans = np.array([measured[r].measured_ns for r in ranks], np.float64)
    job_span = spans.max()
    rows = []
    for size in (1, 2, 4):
        job_err, rank_err, naive_err = [], [], []
        for subset in itertools.combinations(ranks, size):
            grown = store.replay(first, ranks=len(ranks), copy_ranks=list(subset), all_ranks=True)
            by_rank = {rank: r.predicted_ns for rank, r in grown.results}
            predicted = np.array([by_rank[subset[i % size]] for i in range(len(ranks))], np.float64)
            job_err.append(100 * (grown.predicted_ns / job_span - 1))
            rank_err += list(100 * (predicted / spans - 1))
            naive_err += list(100 * (np.median([measured[r].measured_ns for r in subset]) / spans - 1))
        rows.append({"size": size, "subsets": len(job_err), "job": np.abs(job_err), "rank": np.abs(rank_err),
                     "naive": np.abs(naive_err)})
    return rows


def speed(store, first: int) -> list[tuple]:
    """The first grow of the fresh store builds the 8 rank graphs (cold); later ones read them back."""
    out = []
    for n, state in ((1024, "cold"), (8, "warm"), (64, "warm"), (1024, "warm")):
        t = time.perf_counter()
        grown = store.replay(first, ["cpu.speed=2x"], ranks=n, topology="dgx-h100", all_ranks=True)
        out.append((n, state, time.perf_counter() - t, grown.growth.servers, grown.predicted_ns / 1e6))
    return out


def main() -> None:
    db = fresh_store_path("grow")
    with retime.open(db) as store:
        [first, *_] = [r.trace_id for r in store.ingest(DLRM)]
        timings = speed(store, first)
        t = time.perf_counter()
        rows = validate(store, first)
        validate_s = time.perf_counter() - t
    print("DLRM 8-rank job (V100, one server) grown to 8 ranks from R of its ranks, every subset: absolute error "
          "of the span, median / p80 / max\n")
    print("| grown from | subsets | job span | each rank's span | each rank at the subset's median span |")
    print("|---|---|---|---|---|")
    for r in rows:
        cells = [" / ".join(f"{np.percentile(r[k], q):.1f}%" for q in (50, 80, 100)) for k in ("job", "rank", "naive")]
        print(f"| {r['size']} rank{'s' if r['size'] > 1 else ''} | {r['subsets']} | " + " | ".join(cells) + " |")
    print(f"\n({sum(r['subsets'] for r in rows)} grown jobs in {validate_s:.1f} s)\n")
    print("Growing the job (cpu.speed=2x) onto DGX H100 servers: the 8 rank graphs are built once (cold) and read "
          "back from the graph cache after (warm)\n")
    print("| ranks | servers | state | seconds | predicted job span (ms) |")
    print("|---|---|---|---|---|")
    for n, state, seconds, servers, span in timings:
        print(f"| {n:,} | {servers} | {state} | {seconds:.2f} | {span:.3f} |")
    print(f"\npeak memory of this process: {peak_kb() / 1024:.0f} MB")


if __name__ == "__main__":
    main()
