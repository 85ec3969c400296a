"""The measured pairs the fidelity table and the kernel-model calibration read: the same workload
recorded on two GPUs (../shared/traces/tracelens), one workload run two ways on one GPU
(sample_traces/gpu_h100), one training loop fed by input pipelines of two speeds on a CPU
(sample_traces/input_pipeline), and three workloads each at three batch sizes on a CPU
(sample_traces/batch)."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "traces"
SAMPLES = ROOT / "sample_traces" / "gpu_h100"
INPUT_PAIR = ROOT / "sample_traces" / "input_pipeline"
BATCH_PAIRS = ROOT / "sample_traces" / "batch"  # WORKLOAD_bsN.pt.trace.json.gz

# (name, source GPU preset, source file, target GPU preset, target file), under ../shared/traces
CROSS_HARDWARE = [
    ("Falconsai nsfw ViT", "h100", "tracelens/h100_Falconsai_nsfw_image_detection__1016002.json.gz",
     "mi300x", "tracelens/mi300_Falconsai_nsfw_image_detection__1016002.json.gz"),
    ("bert-small", "h100", "tracelens/h100_gaunernst_bert-small-uncased__1016001.json.gz",
     "mi300x", "tracelens/mi300_gaunernst_bert-small-uncased__1016001.json.gz"),
    ("TimeSformer", "h100", "tracelens/h100_facebook_timesformer-base-finetuned-k400__1016002.json.gz",
     "mi300x", "tracelens/mi300_facebook_timesformer-base-finetuned-k400__1016002.json.gz"),
    ("Qwen3-30B-A3B decode", "b300", "tracelens/b300_sglang_qwen3_30b_a3b_decode.json.gz",
     "mi300x", "tracelens/mi300_sglang_qwen3_30b_a3b_decode.json.gz"),
]

def whatif_pairs(store) -> list[tuple[str, str, int, int, dict[str, str], list[tuple[str, float]], bool]]:
    """The measured what-if pairs of sample_traces/gpu_h100, ingested: (knob, direction, base trace,
    target trace, knobs, duration rules, fair). A pair is not fair where its scenario takes a number
    from the target's own trace (the pageable copies' bandwidth as the pageable run shows it)."""
    measured = tomllib.loads((SAMPLES / "measurements.toml").read_text())
    pinned_bw, pageable_bw = measured["h2d_pinned"]["copy_gb_per_s"], measured["h2d_pageable"]["copy_gb_per_s"]
    files = sorted(SAMPLES.glob("*.json.gz")) + sorted(INPUT_PAIR.glob("*.json.gz")) + sorted(BATCH_PAIRS.glob("*.json.gz"))
    t = {Path(r.path).name.split(".")[0]: r.trace_id for r in store.ingest(files)}
    seen_pageable = store.sql("SELECT sum(bytes) / sum(dur_ns) AS bw FROM events WHERE trace_id = $t "
                              "AND copy_kind = 'H2D' AND bytes > 1e6", params={"t": t["h2d_pageable"]})["bw"][0]
    return [
        ("pcie.h2d", "pageable -> pinned", t["h2d_pageable"], t["h2d_pinned"], {"pcie.h2d": f"{pinned_bw:.1f}GB/s"}, [], True),
        ("pcie.h2d", "pinned -> pageable", t["h2d_pinned"], t["h2d_pageable"], {"pcie.h2d": f"{pageable_bw:.1f}GB/s"}, [], True),
        ("pcie.h2d", "pinned -> pageable*", t["h2d_pinned"], t["h2d_pageable"], {"pcie.h2d": f"{seen_pageable:.2f}GB/s"}, [],
         False),
        ("scale", "1x -> 2x host work", t["hostwork_1x"], t["hostwork_2x"], {}, [("^host_prep$", 2.0)], True),
        ("scale", "2x -> 1x host work", t["hostwork_2x"], t["hostwork_1x"], {}, [("^host_prep$", 0.5)], True),
        ("host.input", "1x -> 2x input speed", t["loader_1x"], t["loader_2x"], {"host.input": "2x"}, [], True),
        ("host.input", "2x -> 1x input speed", t["loader_2x"], t["loader_1x"], {"host.input": "0.5x"}, [], True),
    ] + batch_pairs(t)


def batch_pairs(t: dict[str, int]) -> list[tuple]:
    """Every ordered pair of one workload's batch sizes (sample_traces/batch): the first trace
    replayed at the second's batch, as whatif_pairs' rows of the kind `batch.host`."""
    sizes: dict[str, list[int]] = {}
    for name in t:
        workload, _, size = name.rpartition("_bs")
        if workload and size.isdigit():
            sizes.setdefault(workload, []).append(int(size))
    return [("batch.host", f"{w} {a} -> {b}", t[f"{w}_bs{a}"], t[f"{w}_bs{b}"], {"batch": f"{b / a:g}x"}, [], True)
            for w, found in sorted(sizes.items()) for a in sorted(found) for b in sorted(found) if a != b]


def ingest_cross_hardware(store) -> list[tuple[str, str, int, str, int]]:
    """The cross-hardware pairs present here, ingested: (name, gpu_a, trace_a, gpu_b, trace_b)."""
    pairs = []
    for name, gpu_a, file_a, gpu_b, file_b in CROSS_HARDWARE:
        if not (SHARED / file_a).is_file() or not (SHARED / file_b).is_file():
            continue
        ids = [r.trace_id for r in store.ingest([SHARED / file_a, SHARED / file_b])]
        pairs.append((name, gpu_a, ids[0], gpu_b, ids[1]))
    return pairs
