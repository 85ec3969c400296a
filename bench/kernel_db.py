"""Write retime's measured-kernel tables (retime/replay/presets/kernel_db/) from the measured databases
installed from the package index, without importing their code: NVIDIA's `aiconfigurator-core`
(GEMM latencies measured per part on a grid of m, n, k) and AMD's `amd-aiter` (tuned MI300X and
MI355X GEMMs: BF16 batched, FP8 with a scale per row). `retime replay --to` reads the tables (retime/replay/kernel_db.py);
bench/kernel_validation.py scores the model built on them, each part held out in turn.

    pip install -e '.[kerneldb]'
    python bench/kernel_db.py

What is kept, per part: NCCL's all-reduce, all-gather, reduce-scatter and all-to-all on 2, 4 and 8
GPUs of one node (GB200 / GB300: 2 and 4) by message size, from the part's newest NCCL collection
(FP16 buffers: aiconfigurator's message_size counts elements, so bytes are twice it; the median of
repeated rows); context (prefill) attention by batch, sequence length and heads, TensorRT-LLM's torch
flow in BF16 with head size 128 and as many KV heads as query heads (the one collection every part
has); and BF16 GEMMs as `torch.nn.functional.linear` ran them (cuBLAS, what a PyTorch
trace's GEMMs are) and FP8 GEMMs (TensorRT-LLM's torch flow), the median latency of each (m, n, k)
over the package's collections of that kernel source. A100 has no collection of the torch linear
with the grid the others share except SGLang's: that one is taken. AMD rows (MI300X: 304 CUs, MI355X: 256) are
the least tuned time per shape over aiter's tables of the type, and fold a batch into m (B x [m, k] x [k, n] -> [B m, k] x [k, n]: the same FLOPs and weight bytes).
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "retime" / "replay" / "presets" / "kernel_db"
PROVENANCE = ROOT / "retime" / "replay" / "presets" / "kernel_db.toml"
NETWORK = ROOT / "retime" / "replay" / "presets" / "network.toml"

# retime preset <- aiconfigurator-core's system name, and which kernel source per data type
NVIDIA_PARTS = {"a100": "a100_sxm", "h100": "h100_sxm", "h200": "h200_sxm", "b200": "b200_sxm", "b300": "b300_sxm",
                "gb200": "gb200", "gb300": "gb300", "l40s": "l40s", "rtx_pro_6000": "rtx_pro_6000_server"}
SOURCES = {"bf16": ("bfloat16", ["torch.nn.functional.linear", "sglang"]), "fp8": ("fp8", ["torch_flow"])}
AMD_PARTS = {"mi300x": 304, "mi355x": 256}  # retime preset <- aiter's cu_num (MI308's 80 CUs: no preset)
# aiter's tuned tables kept, by data type: BF16 batched GEMMs, and FP8 GEMMs with one scale per row
# (a8w8: as NVIDIA's FP8 GEMMs, a scale per tensor or row; block-scaled FP8 and FP4 are other kernels)
AMD_TABLES = {"bf16": ["bf16_tuned_batched_gemm.csv"],
              "fp8": ["a8w8_tuned_gemm.csv", "a8w8_bpreshuffle_tuned_gemm.csv", "a8w8_tuned_batched_gemm.csv"]}


def package_dir(name: str) -> Path:
    """Where an installed package's files are, found without running its code."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{name} is not installed: pip install -e '.[kerneldb]'")
    return Path(list(spec.submodule_search_locations)[0])


def nvidia_rows(con: duckdb.DuckDBPyConnection, data: Path) -> list[str]:
    """Load aiconfigurator-core's GEMM tables into `gemm`, each part's files read once; returns the
    files rows came from (relative). Per data type the first kernel source of SOURCES with rows wins."""
    wanted = [(dtype, their, rank, source) for dtype, (their, sources) in SOURCES.items()
              for rank, source in enumerate(sources)]
    con.execute("CREATE TEMP TABLE wanted (dtype VARCHAR, their VARCHAR, rank INT, source VARCHAR)")
    con.executemany("INSERT INTO wanted VALUES (?, ?, ?, ?)", wanted)
    files = []
    for preset, system in NVIDIA_PARTS.items():
        paths = [str(p) for p in sorted((data / system / "gemm").glob("*/*/gemm_perf.parquet"))]
        con.execute("""
            CREATE OR REPLACE TEMP TABLE picked AS
            SELECT w.dtype, w.rank, r.filename, r.m, r.n, r.k, r.latency
            FROM read_parquet($paths, filename = true) r
            JOIN wanted w ON w.their = r.gemm_dtype AND w.source = r.kernel_source
            QUALIFY w.rank = min(w.rank) OVER (PARTITION BY w.dtype)""", {"paths": paths})
        con.execute("INSERT INTO gemm SELECT $preset, dtype, m, n, k, median(latency) * 1000, count(*) "
                    "FROM picked GROUP BY dtype, m, n, k", {"preset": preset})
        files += [str(Path(f).relative_to(data.parents[1]))
                  for (f,) in con.execute("SELECT DISTINCT filename FROM picked").fetchall()]
    return sorted(files)


def version_key(folder: Path) -> tuple:
    """A collection folder's version as numbers, so 2.29.2 sorts after 2.27.3 and 2.3 before 2.23."""
    return tuple(int(p) if p.isdigit() else -1 for p in folder.name.replace("rc", ".").split("."))


def nccl_rows(con: duckdb.DuckDBPyConnection, data: Path) -> list[str]:
    """Load each NVIDIA part's newest NCCL collection into `nccl`; returns the files rows came from."""
    files = []
    for preset, system in NVIDIA_PARTS.items():
        folders = sorted((data / system / "comm" / "nccl").glob("*/nccl_perf.parquet"), key=lambda f: version_key(f.parent))
        if not folders:
            continue
        newest = folders[-1]
        con.execute("INSERT INTO nccl SELECT $preset, op_name, num_gpus, message_size * 2, median(latency) * 1000, count(*) "
                    "FROM read_parquet($path) WHERE nccl_dtype = 'half' AND kernel_source = 'NCCL' GROUP BY ALL",
                    {"preset": preset, "path": str(newest)})
        files.append(str(newest.relative_to(data.parents[1])))
    return files


def attention_rows(con: duckdb.DuckDBPyConnection, data: Path) -> list[str]:
    """Load each NVIDIA part's context (prefill) attention into `attention`: TensorRT-LLM's torch
    flow, BF16, as many KV heads as query heads, head size 128 (the one collection every part has);
    returns the files rows came from."""
    files = []
    for preset, system in NVIDIA_PARTS.items():
        paths = sorted((data / system / "attention" / "trtllm").glob("*/context_attention_perf.parquet"),
                       key=lambda f: version_key(f.parent))
        if not paths:
            continue
        newest = paths[-1]
        con.execute("INSERT INTO attention SELECT $preset, batch_size, isl, num_heads, median(latency) * 1000, count(*) "
                    "FROM read_parquet($path) WHERE kernel_source = 'torch_flow' AND attn_dtype = 'bfloat16' "
                    "AND kv_cache_dtype = 'bfloat16' AND num_key_value_heads = num_heads AND head_dim = 128 "
                    "GROUP BY ALL", {"preset": preset, "path": str(newest)})
        files.append(str(newest.relative_to(data.parents[1])))
    return files


def amd_rows(con: duckdb.DuckDBPyConnection, configs: Path) -> list[str]:
    """Load aiter's tuned GEMMs of each AMD part into `gemm` (AMD_TABLES): per shape the least tuned
    time over the tables of its type, a batch folded into m."""
    files = []
    for dtype, names in AMD_TABLES.items():
        reads = []
        for name in names:
            path = configs / name
            columns = [c[0] for c in con.execute("SELECT * FROM read_csv($p) LIMIT 0", {"p": str(path)}).description]
            batch = "B * M" if "B" in columns else "M"
            reads.append(f"SELECT cu_num, {batch} AS m, N AS n, K AS k, us FROM read_csv('{path}') WHERE us > 0")
            files.append(str(path.relative_to(configs.parents[1])))
        for preset, cus in AMD_PARTS.items():
            con.execute(f"INSERT INTO gemm SELECT $preset, $dtype, m, n, k, min(us), count(*) "
                        f"FROM ({' UNION ALL '.join(reads)}) WHERE cu_num = $cus GROUP BY m, n, k",
                        {"preset": preset, "dtype": dtype, "cus": cus})
    return files


def network_rows(systems: Path) -> list[str]:
    """Each NVIDIA part's network between servers as aiconfigurator-core's system files state it:
    `inter_node_bw` (bytes/s per GPU, one direction) and `p2p_latency` (s), read as text (the
    package's code is not run); written to retime/replay/presets/network.toml for jobs grown across servers."""
    import re
    lines = ["# Between servers, per GPU: written by `python bench/kernel_db.py` from aiconfigurator-core's",
             "# systems/<part>.yaml (do not edit). inter_node_gb_s: `inter_node_bw` (one direction, per GPU; the",
             "# file's comment names the NIC it assumes); step_latency_us: `p2p_latency`, which the package's",
             "# comments call a correction based on observations, not a measurement of a named fabric.", ""]
    for preset, system in NVIDIA_PARTS.items():
        path = systems / f"{system}.yaml"
        if not path.exists():
            continue
        text = path.read_text()
        bw = re.search(r"^\s*inter_node_bw:\s*([0-9.eE+]+)\s*(#.*)?$", text, re.M)
        latency = re.search(r"^\s*p2p_latency:\s*([0-9.eE+-]+)", text, re.M)
        if bw and latency:
            note = (bw.group(2) or "").lstrip("# ").replace('"', "'")
            lines += [f"[{preset}]", f"inter_node_gb_s = {float(bw.group(1)) / 1e9:g}",
                      f"step_latency_us = {float(latency.group(1)) * 1e6:g}",
                      f'source = "aiconfigurator-core systems/{system}.yaml: {note}"', ""]
    NETWORK.write_text("\n".join(lines))
    return [f"systems/{system}.yaml" for system in NVIDIA_PARTS.values() if (systems / f"{system}.yaml").exists()]


def main() -> None:
    aic, aiter = package_dir("aiconfigurator_core"), package_dir("aiter")
    con = duckdb.connect()
    con.execute("CREATE TABLE gemm (gpu VARCHAR, dtype VARCHAR, m BIGINT, n BIGINT, k BIGINT, latency_us FLOAT, samples INT)")
    con.execute("CREATE TABLE nccl (gpu VARCHAR, op VARCHAR, ranks INT, bytes BIGINT, latency_us FLOAT, samples INT)")
    nvidia_files = nvidia_rows(con, aic / "systems" / "data")
    nccl_files = nccl_rows(con, aic / "systems" / "data")
    con.execute("CREATE TABLE attention (gpu VARCHAR, batch INT, seq INT, heads INT, latency_us FLOAT, samples INT)")
    attention_files = attention_rows(con, aic / "systems" / "data")
    amd_files = amd_rows(con, aiter / "configs")
    network_files = network_rows(aic / "systems")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / "gemm.parquet"
    con.execute(f"COPY (SELECT gpu, dtype, m, n, k, latency_us FROM gemm ORDER BY gpu, dtype, m, n, k) "
                f"TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
    nccl_out = OUT_DIR / "nccl.parquet"
    con.execute(f"COPY (SELECT gpu, op, ranks, bytes, latency_us FROM nccl ORDER BY gpu, op, ranks, bytes) "
                f"TO '{nccl_out}' (FORMAT parquet, COMPRESSION zstd)")
    attention_out = OUT_DIR / "attention.parquet"
    con.execute(f"COPY (SELECT gpu, batch, seq, heads, latency_us FROM attention ORDER BY ALL) "
                f"TO '{attention_out}' (FORMAT parquet, COMPRESSION zstd)")
    attention_counts = con.execute("SELECT gpu, count(*) FROM attention GROUP BY ALL ORDER BY ALL").fetchall()
    counts = con.execute("SELECT gpu, dtype, count(*) FROM gemm GROUP BY ALL ORDER BY ALL").fetchall()
    nccl_counts = con.execute("SELECT gpu, list(DISTINCT ranks ORDER BY ranks), count(*) FROM nccl GROUP BY ALL ORDER BY ALL").fetchall()
    versions = {name: importlib.metadata.version(name) for name in ("aiconfigurator-core", "amd-aiter")}
    lines = [
        "# Where retime/replay/presets/kernel_db/ comes from: written by `python bench/kernel_db.py` (do not edit).",
        "# Latencies are medians over a package's collections of one kernel source (aiter: the tuned time).",
        "",
        "[gemm]",
        'file = "kernel_db/gemm.parquet"',
        'columns = "gpu (retime preset), dtype (bf16 | fp8), m, n, k, latency_us"',
        "",
        "[attention]",
        'file = "kernel_db/attention.parquet"',
        'columns = "gpu (retime preset), batch, seq (query and key length), heads (query = KV heads, head size 128, BF16, causal prefill), latency_us"',
        "",
        "[nccl]",
        'file = "kernel_db/nccl.parquet"',
        'columns = "gpu (retime preset), op (all_reduce | all_gather | reduce_scatter | alltoall), ranks, bytes (the buffer), latency_us"',
        "",
        "[sources.aiconfigurator-core]",
        f'version = "{versions["aiconfigurator-core"]}"',
        'licence = "Apache-2.0"',
        'publisher = "NVIDIA"',
        'what = "measured GEMM latencies per part: BF16 as torch.nn.functional.linear (A100: SGLang\'s collection), FP8 as TensorRT-LLM torch_flow; NCCL collectives within a node (nccl-tests style, FP16 buffers), the newest NCCL collection per part; context attention, TensorRT-LLM torch_flow, BF16, head size 128; the network between servers per part (systems/*.yaml: inter_node_bw, p2p_latency) into network.toml"',
        "files = [" + ", ".join(f'"{f}"' for f in nvidia_files + nccl_files + attention_files + network_files) + "]",
        "",
        "[sources.amd-aiter]",
        f'version = "{versions["amd-aiter"]}"',
        'licence = "MIT (BSD family; the wheel\'s LICENSE file)"',
        'publisher = "AMD"',
        'what = "tuned GEMMs of MI300X (cu_num 304) and MI355X (cu_num 256): batched BF16, FP8 with a scale per row (a8w8, plain and pre-shuffled B, batched); the least tuned time per shape, batch folded into m"',
        "files = [" + ", ".join(f'"{f}"' for f in amd_files) + "]",
        "",
        "[rows]",
    ] + [f'"{gpu}.{dtype}" = {n}' for gpu, dtype, n in counts] + [f'"{gpu}.nccl" = {n}' for gpu, _, n in nccl_counts] \
      + [f'"{gpu}.attention" = {n}' for gpu, n in attention_counts]
    PROVENANCE.write_text("\n".join(lines) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) and {PROVENANCE}")
    for gpu, dtype, n in counts:
        print(f"  {gpu:14s} {dtype:5s} {n:7,d} shapes")
    for gpu, n in attention_counts:
        print(f"  {gpu:14s} attn  {n:7,d} batch x seq x heads")
    for gpu, ranks, n in nccl_counts:
        print(f"  {gpu:14s} nccl  {n:7,d} sizes x ops x GPU counts ({', '.join(map(str, ranks))} GPUs)")


if __name__ == "__main__":
    sys.exit(main())
