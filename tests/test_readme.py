"""The README's first command, as a newcomer runs it (install steps aside): ingest the sample traces,
replay with a changed link bandwidth against the measured run, ask a stress-point question."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _first_command() -> list[str]:
    block = ROOT.joinpath("README.md").read_text().split("```bash", 1)[1].split("```", 1)[0]
    line = next(l for l in block.splitlines() if l.startswith("python3 -m venv") and "retime ingest" in l)
    steps = [s.strip() for s in line.split("&&")]
    return [s for s in steps if s.startswith("retime ")]


def test_the_readme_main_job_runs_as_written(tmp_path):
    retime = shutil.which("retime") or str(Path(sys.executable).with_name("retime"))
    if not Path(retime).exists():
        pytest.skip("the retime command is not installed in this environment")
    outputs = []
    for step in _first_command():
        command = step.replace("demo.duckdb", str(tmp_path / "demo.duckdb")).split()
        command = [c.strip("'") for c in command]
        done = subprocess.run([retime, *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (step, done.stderr)
        outputs.append(done.stdout)
    replay = outputs[1]
    assert re.search(r"speedup \d+\.\d+x", replay) and "expected error ±" in replay and "against    trace" in replay
    assert "achieved_gbps" in outputs[2]


def test_the_readme_python_example_runs_as_written(tmp_path, monkeypatch):
    """The Python block, run on a fresh store from the repository root (its paths are relative)."""
    text = ROOT.joinpath("README.md").read_text()
    block = text.split("```python\nimport retime\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    code = ("import retime\n" + block).replace('"api.duckdb"', repr(str(tmp_path / "api.duckdb")))
    exec(compile(code, "README.md (Python example)", "exec"), {})
