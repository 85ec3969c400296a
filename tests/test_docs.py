"""The docs stay true: every `$ retime ...` command shown in README.md and docs/*.md runs as written
(and prints what the page shows, where its output is shown and holds no timings), every relative
link resolves, and the generated references (docs/cli.md, docs/python.md, docs/schema.md's table
index) are what docs/make_docs.py writes from the code now."""
from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from retime.cli import main
from tests.conftest import ROOT, SHARED_TRACES

PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "sample_traces" / "README.md",
         *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"```text\n(.*?)```", re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def examples(page: Path) -> list[tuple[list[str], str | None]]:
    """Each `$ retime` command of a page's text blocks, as argument lists, with the output the page
    shows for it (None where it shows none, or shows a summary of several runs: `...` after the
    command, then one line of flags per run)."""
    found = []
    for block in FENCE.findall(page.read_text()):
        lines = block.splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith("$ retime ")]
        for n, i in enumerate(starts):
            command = lines[i][2:].split("  #", 1)[0].split("   ", 1)[0] if "..." not in lines[i] else lines[i][2:]
            shown = lines[i + 1:starts[n + 1] if n + 1 < len(starts) else len(lines)]
            if "..." in command:
                base = command.split("...", 1)[0].strip()
                for variant in shown:
                    flags = variant.strip().split("  ", 1)[0]
                    if variant.startswith("    ") and (flags.startswith("--") or flags.startswith("(")):
                        found.append((shlex.split(base) + ([] if flags.startswith("(") else shlex.split(flags)), None))
                continue
            found.append((shlex.split(command.strip()), "\n".join(shown).strip() or None))
    return found


def databases(args: list[str]) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--db"]


CASES = [(page, examples(page)) for page in PAGES]


@pytest.mark.parametrize("page", [p for p, found in CASES if found], ids=lambda p: p.name)
def test_every_command_on_the_page_runs_as_written(page, tmp_path, monkeypatch):
    found = dict(CASES)[page]
    needs_shared = any(a.startswith("../shared") for args, _ in found for a in args)
    if needs_shared and not SHARED_TRACES.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    made = set()
    for args, shown in found:
        assert args[0] == "retime"
        args = args[1:]
        for db in databases(args):
            if db not in made and args[0] != "ingest" and db == "demo.duckdb":  # README command 1's store
                assert runner.invoke(main, ["ingest", "sample_traces/", "--db", str(tmp_path / db)]).exit_code == 0
            made.add(db)
        args = [str(tmp_path / a) if a in made else a for a in args]
        done = runner.invoke(main, args)
        assert done.exit_code == 0, (page.name, args, done.output[-2000:])
        if shown is not None and args[0] not in ("ingest",) and not re.search(r"\d s\b", shown):
            assert shows(done.output, shown), (page.name, args, done.output)


def shows(output: str, shown: str) -> bool:
    """Whether `output` is what the page shows: the same text, but where the page has a line `...`
    (rows left out), each part in order."""
    parts = [p.strip("\n") for p in re.split(r"^\.\.\.$", shown, flags=re.M)]
    if len(parts) == 1:
        return output.strip() == shown.strip()
    at = 0
    for part in parts:
        at = output.find(part, at)
        if at < 0:
            return False
        at += len(part)
    return True


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if target.startswith(("http://", "https://", "mailto:", "#")):
                continue
            path = target.split("#", 1)[0]
            if not (page.parent / path).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []


def test_the_generated_references_are_current():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import make_docs
    finally:
        sys.path.remove(str(ROOT / "docs"))
    assert make_docs.stale() == [], "run python docs/make_docs.py"
