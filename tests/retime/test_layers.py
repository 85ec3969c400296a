"""The house's layers, read from the imports: the library below the front door never imports it
(retime/api.py, retime/cli.py, the package's `retime.open`), and neither the replay graph nor the
store imports the query library."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = [ROOT / "retime" / "ingest", ROOT / "retime" / "replay", ROOT / "retime" / "store", ROOT / "retime" / "export",
           ROOT / "retime" / "foundation", ROOT / "retime" / "queries"]
FRONT_DOOR = {"retime", "retime.open", "retime.open_lake", "retime.Store", "retime.api", "retime.cli",
              "retime.report", "retime.render"}


def imported(path: Path) -> set[str]:
    """Every module or name a file imports ('from retime import api' counts as retime.api,
    'import retime' as retime)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def modules(folders: list[Path]) -> list[Path]:
    return [p for folder in folders for p in sorted(folder.rglob("*.py"))]


def test_no_library_module_reaches_back_through_the_front_door():
    offenders = {str(p.relative_to(ROOT)): sorted(imported(p) & FRONT_DOOR) for p in modules(LIBRARY)}
    assert {p: names for p, names in offenders.items() if names} == {}


def test_the_replay_graph_and_the_store_do_not_import_the_query_library():
    below = [ROOT / "retime" / "replay", ROOT / "retime" / "store"]
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in imported(p) if n.startswith("retime.queries"))
                 for p in modules(below)}
    assert {p: names for p, names in offenders.items() if names} == {}


def test_the_core_imports_nothing_above_it():
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in imported(p)
                                                  if n.startswith("retime") and not n.startswith("retime.core"))
                 for p in modules([ROOT / "retime" / "core"])}
    assert {p: names for p, names in offenders.items() if names} == {}


def layout() -> dict[str, str]:
    """CONTRIBUTING.md's layout block: each folder named at a line's start, with its description."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    block = text.split("## How the code is laid out", 1)[1].split("```", 2)[1]
    entries: dict[str, str] = {}
    folder = None
    for line in block.splitlines():
        if line and not line[0].isspace():
            folder, _, rest = line.partition(" ")
            entries[folder] = rest
        elif folder:
            entries[folder] += " " + line.strip()
    return entries


def test_the_layout_names_every_package_and_only_files_that_exist():
    import re
    entries = layout()
    packages = {f"{p.parent.relative_to(ROOT)}/" for p in (ROOT / "retime").rglob("__init__.py")}
    assert packages <= set(entries), sorted(packages - set(entries))
    missing = []
    for folder, text in entries.items():
        base = ROOT / folder.split()[0].rstrip("/") if folder.endswith("/") else (ROOT / folder).parent
        for name in re.findall(r"[\w./-]+\.(?:py|sql|toml|md)\b", text):
            if "*" in name or name.startswith("../"):
                continue
            if not ((base / name).exists() or (ROOT / name).exists() or list(base.rglob(name))):
                missing.append(f"{folder} {name}")
    assert missing == []
