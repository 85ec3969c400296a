"""Hardware presets: public peak numbers per accelerator (retime/foundation/gpus.toml), turned into the
scenario knobs that retarget a trace from the part it ran on to another (`--from h100 --to h200`)."""
from __future__ import annotations

import re
from functools import lru_cache

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

from retime import foundation
from retime.errors import ScenarioError

# knob <- the preset field whose ratio (target / source) sets it
KNOB_FIELDS = {"hbm": "hbm_tb_s", "gpu.flops": "bf16_tflops", "nvlink": "interconnect_gb_s",
               "net": "interconnect_gb_s", "pcie.h2d": "pcie_gb_s", "pcie.d2h": "pcie_gb_s"}


@lru_cache(maxsize=1)
def presets() -> dict[str, dict]:
    """Every GPU preset by key (a100, h100, ...): peaks per data type, HBM, links, with sources
    (retime/foundation/gpus.toml)."""
    return foundation.gpu_presets()


def vendor(gpu: str) -> str:
    """The maker of a preset's part: the first word of its name ("NVIDIA", "AMD"); "" for no preset."""
    part = presets().get(gpu)
    return part["name"].split()[0] if part else ""


def preset_key(name: str) -> str:
    """The preset a user named, in any letter case (`H100` -> h100); ScenarioError naming the presets
    where none is called so."""
    key = name.strip().lower()
    if key not in presets():
        raise ScenarioError(f"unknown hardware preset {name!r}; presets: {', '.join(presets())}")
    return key


def trace_gpu_names(con: duckdb.DuckDBPyConnection, trace_id: int) -> list[str]:
    """The GPU names a stored trace recorded ([] when it names none)."""
    from retime.sqlfiles import load_sql
    rows = con.execute(load_sql("retime.reads", "trace_gpus"), {"trace_id": trace_id}).fetchall()
    return (rows[0][0] or []) if rows else []


def detect(gpu_names: list[str] | None) -> str | None:
    """The preset whose pattern matches the trace's GPU name (e.g. 'NVIDIA H100 80GB HBM3' -> h100)."""
    for name in gpu_names or []:
        for key, preset in presets().items():
            if re.search(preset["match"], name, re.I):
                return key
    return None


def retarget(source: str, target: str) -> dict[str, str]:
    """Scenario settings that move a trace from part `source` to part `target`."""
    a, b = presets()[preset_key(source)], presets()[preset_key(target)]
    return {knob: f"{b[field] / a[field]:.6g}x" for knob, field in KNOB_FIELDS.items()}


DEFAULT_RIDGE_PRESET = "h100"  # when the trace names no GPU retime knows


def ridge_flop_per_byte(gpu_names: list[str] | None) -> float:
    """The roofline's ridge point of the trace's GPU: dense BF16 FLOP/s over HBM bytes/s (H100: 295).
    Kernels of lower arithmetic intensity are bounded by memory bandwidth, higher by compute."""
    part = presets()[detect(gpu_names) or DEFAULT_RIDGE_PRESET]
    return part["bf16_tflops"] / part["hbm_tb_s"]
