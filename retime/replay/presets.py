"""Hardware presets: public peak numbers per accelerator (retime/foundation/gpus.toml), turned into the
scenario knobs that retarget a trace from the part it ran on to another (`--from h100 --to h200`)."""
from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

from retime import foundation
from retime.core.errors import ScenarioError

# knob <- the preset field whose ratio (target / source) sets it
KNOB_FIELDS = {"hbm": "hbm_tb_s", "gpu.flops": "bf16_tflops", "nvlink": "interconnect_gb_s",
               "net": "interconnect_gb_s", "pcie.h2d": "pcie_gb_s", "pcie.d2h": "pcie_gb_s"}


@lru_cache(maxsize=1)
def shipped() -> dict[str, dict]:
    """The shipped GPU presets by key (a100, h100, ...): peaks per data type, HBM, links, with
    sources (retime/foundation/gpus.toml)."""
    return foundation.gpu_presets()


_DEFINED: dict[str, dict] = {}  # parts known by their specs only (define), by key, for this process


def presets() -> dict[str, dict]:
    """Every GPU part retime knows by key: the shipped presets, and the parts defined from a file
    of specs in this process (define)."""
    return {**shipped(), **_DEFINED} if _DEFINED else shipped()


NEEDED = ("name", "hbm_tb_s", "bf16_tflops", "interconnect_gb_s", "pcie_gb_s")  # what a retarget reads of every part


def define(path: Path) -> str:
    """A part known by its specs only (a hypothetical Maia 200, a B300 with twice the HBM), from a
    TOML file holding one table in gpus.toml's fields, its key the table's name:

        [b300_2x_hbm]
        based_on = "b300"     # optional: every field the table does not give is this preset's
        hbm_tb_s = 16.0

    A part based on a preset also keeps its calibration (launch floor, efficiencies per class). `name`
    (its first word is the vendor), hbm_tb_s, bf16_tflops, interconnect_gb_s and pcie_gb_s
    are needed, given or inherited; fp8_tflops, tf32_tflops, fp32_tflops and sms are used where
    given. Returns the key, under which presets() holds the part from then on (a later file of
    the same key replaces it). ScenarioError naming the file where it cannot be read or is not one
    such part; a shipped preset's key cannot be redefined."""
    where = f"GPU part file {path}"
    try:
        doc = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{where}: not TOML ({exc})") from None
    tables = [k for k, v in doc.items() if isinstance(v, dict)]
    if len(doc) != 1 or len(tables) != 1:
        raise ScenarioError(f"{where}: needs exactly one table, named by the part's key ([maia200]), "
                            f"with its specs; found {', '.join(doc) or 'nothing'}")
    key, given = tables[0].strip().lower(), dict(doc[tables[0]])
    if key in shipped():
        raise ScenarioError(f"{where}: {key!r} is a shipped preset; give the part another key")
    part = {}
    if "based_on" in given:
        base = str(given.pop("based_on")).strip().lower()
        if base not in shipped():
            raise ScenarioError(f"{where}: based_on names no preset ({base!r}); presets: {', '.join(shipped())}")
        changed = ", ".join(f"{f} {given[f]:g}" for f in foundation.PEAK_FIELDS + ("sms",) if isinstance(given.get(f), (int, float)))
        part = {f: v for f, v in shipped()[base].items() if f not in ("match", "source", "dtype_source")}
        part["name"] = f"{shipped()[base]['name']} ({key}: {changed or 'as shipped'})"
        part["source"] = f"{path}, based on the {base} preset"
        part["based_on"] = base  # its measured floor and efficiencies are the preset's (kernel_model.retarget_model)
    part.update(given)
    part.setdefault("source", str(path))
    missing = [f for f in NEEDED if f not in part]
    wrong = [f for f in foundation.PEAK_FIELDS + ("sms",) if f in part
             and not (isinstance(part[f], (int, float)) and not isinstance(part[f], bool) and part[f] > 0)]
    if missing or wrong:
        raise ScenarioError(f"{where}: " + "; ".join(
            ([f"needs {', '.join(missing)} (given, or from a preset by based_on)"] if missing else [])
            + ([f"{', '.join(wrong)}: not a positive number"] if wrong else [])))
    _DEFINED[key] = part
    return key


def vendor(gpu: str) -> str:
    """The maker of a preset's part: the first word of its name ("NVIDIA", "AMD"); "" for no preset."""
    part = presets().get(gpu)
    return part["name"].split()[0] if part else ""


def preset_key(name: str) -> str:
    """The preset a user named, in any letter case (`H100` -> h100), or the part a file of specs
    defines (`maia200.toml`: define); ScenarioError naming the presets where none is called so."""
    if name.strip().lower().endswith(".toml"):
        return define(Path(name.strip()))
    key = name.strip().lower()
    if key not in presets():
        raise ScenarioError(f"unknown hardware preset {name!r}; presets: {', '.join(presets())}, "
                            f"or a file of a part's specs (PART.toml)")
    return key


def trace_gpu_names(con: duckdb.DuckDBPyConnection, trace_id: int) -> list[str]:
    """The GPU names a stored trace recorded ([] when it names none)."""
    from retime.core.sqlfiles import load_sql
    rows = con.execute(load_sql("retime.reads", "trace_gpus"), {"trace_id": trace_id}).fetchall()
    return (rows[0][0] or []) if rows else []


def detect(gpu_names: list[str] | None) -> str | None:
    """The preset whose pattern matches the trace's GPU name (e.g. 'NVIDIA H100 80GB HBM3' -> h100)."""
    for name in gpu_names or []:
        for key, preset in shipped().items():  # parts defined from specs name no trace's GPU
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
