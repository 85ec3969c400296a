"""The measured pairs the fidelity table and the kernel-model calibration read: the same workload
recorded on two GPUs (../shared/traces/tracelens), and one workload run two ways on one GPU
(sample_traces/gpu_h100)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from retime.queries import runner

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "traces"
SAMPLES = ROOT / "sample_traces" / "gpu_h100"

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

KERNEL_DURATIONS = (ROOT / "bench" / "kernel_durations.sql").read_text()


def kernel_durations(store, trace_id: int) -> dict[str, np.ndarray]:
    """Every kernel's duration (ns) of a trace, by gpu_class."""
    runner.load_foundation(store.con)
    rows = store.con.execute(KERNEL_DURATIONS, {"trace_id": trace_id}).fetchnumpy()
    classes = rows["class"]
    return {cls: rows["dur_ns"][classes == cls].astype(np.float64) for cls in np.unique(classes)}


def ingest_cross_hardware(store) -> list[tuple[str, str, int, str, int]]:
    """The cross-hardware pairs present here, ingested: (name, gpu_a, trace_a, gpu_b, trace_b)."""
    pairs = []
    for name, gpu_a, file_a, gpu_b, file_b in CROSS_HARDWARE:
        if not (SHARED / file_a).is_file() or not (SHARED / file_b).is_file():
            continue
        ids = [r.trace_id for r in store.ingest([SHARED / file_a, SHARED / file_b])]
        pairs.append((name, gpu_a, ids[0], gpu_b, ids[1]))
    return pairs
