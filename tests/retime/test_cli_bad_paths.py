"""Every path a user gives any command, given wrong (a folder that is not there, a folder where a
file belongs, a file where a folder belongs, a file that is not what it should be), ends in one
readable line naming it, never a traceback. The walk covers every command and every path the CLI
takes: a new command or path option fails the first test until it is walked here too."""
from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from retime.cli import main
from tests.conftest import SAMPLE_TRACES

TRACE = SAMPLE_TRACES / "gpu_h100" / "streams_graph.pt.trace.json.gz"

# what each command needs besides its paths, to get as far as using them
BASE = {
    "ingest": [],
    "traces": [],
    "sql": ["SELECT 1 AS a"],
    "query": ["kernel_breakdown", "1"],
    "replay": ["1", "--set", "hbm=2x"],
    "sweep": ["1", "--grid", "hbm=1x,2x"],
    "export-lake": [],
    "export": ["1"],
    "report": ["1"],
    "info": ["1"],
    "capture": ["--", sys.executable, "-c", "pass"],  # what follows "--" is the command captured: kept last
}
OUTPUT_FILES = {("sql", "out"): "--out", ("query", "out"): "--out", ("export", "out"): "--chrome",
                ("report", "out"): "--html"}
INPUT_FILES = {("replay", "scenario_file"): "--scenario", ("sweep", "scenario_file"): "--scenario"}
FOLDERS_WRITTEN = {("export-lake", "out_dir"), ("capture", "out_dir"), ("export", "chakra_dir")}
TRACES_READ = {("ingest", "paths")}
NO_PATHS = {"topology"}  # reads only the shipped presets: no store; writes only a drawing (GROUP_OUTPUT_FILES)
GROUP_OUTPUT_FILES = {("topology", "show", "svg_path"): "--svg"}


def path_params() -> set[tuple[str, str]]:
    return {(name, p.name) for name, command in main.commands.items() for p in command.params
            if isinstance(p.type, click.Path)}


def test_the_walk_covers_every_command_and_every_path_it_takes():
    assert set(main.commands) == set(BASE) | NO_PATHS
    assert path_params() == set(OUTPUT_FILES) | set(INPUT_FILES) | FOLDERS_WRITTEN | TRACES_READ
    assert all(any(p.name == "db" for p in command.params) for name, command in main.commands.items() if name not in NO_PATHS)
    assert {(name, sub, p.name) for name in NO_PATHS for sub, c in main.commands[name].commands.items()
            for p in c.params if isinstance(p.type, click.Path)} == set(GROUP_OUTPUT_FILES)


@pytest.fixture(scope="module")
def place(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad_paths")
    db = root / "store.duckdb"
    assert CliRunner().invoke(main, ["ingest", str(TRACE), "--db", str(db)]).exit_code == 0
    (root / "a_folder").mkdir()
    (root / "empty_folder").mkdir()
    (root / "not_a_store.txt").write_text("hello\n")
    (root / "bad.toml").write_text("not toml [\n")
    return {"root": root, "db": db}


def check(args: list, named: Path | str) -> None:
    if "--" in args:  # a captured command stays at the end, after the options
        at = args.index("--")
        args = args[:at] + args[at + len(BASE["capture"]):] + args[at:at + len(BASE["capture"])]
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code in (1, 2), (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    lines = result.output.strip().splitlines()
    error = [line for line in lines if line.lower().startswith("error")]
    assert len(error) == 1 and str(named) in error[0], (args, result.output)
    assert "Traceback" not in result.output


def bad_output_files(root: Path) -> list[Path]:
    return [root / "no_such_folder" / "x.out", root / "a_folder", root / "not_a_store.txt" / "x.out"]


@pytest.mark.parametrize("command,param", sorted(OUTPUT_FILES))
def test_an_output_file_that_cannot_be_written(place, command, param):
    option = OUTPUT_FILES[(command, param)]
    formats = {p.name: p for p in main.commands[command].params}.get("fmt")
    for fmt in formats.type.choices if formats is not None else [None]:
        for bad in bad_output_files(place["root"]):
            extra = ["--format", fmt] if fmt else []
            check([command, *BASE[command], option, bad, *extra, "--db", place["db"]], bad)


@pytest.mark.parametrize("command,sub,param", sorted(GROUP_OUTPUT_FILES))
def test_a_drawing_that_cannot_be_written(place, command, sub, param):
    for bad in bad_output_files(place["root"]):
        check([command, sub, "dgx-h100", GROUP_OUTPUT_FILES[(command, sub, param)], bad], bad)


def test_a_lake_or_capture_folder_that_cannot_be_written(place):
    bad = place["root"] / "not_a_store.txt" / "lake"
    check(["export-lake", bad, "--db", place["db"]], bad)
    check(["export-lake", place["root"] / "not_a_store.txt", "--db", place["db"]], place["root"] / "not_a_store.txt")
    check(["capture", *BASE["capture"], "--no-ingest", "--out", bad], bad)
    check(["export", "1", "--chakra", bad, "--db", place["db"]], bad)


@pytest.mark.parametrize("command,param", sorted(INPUT_FILES))
def test_a_scenario_file_that_is_missing_a_folder_or_not_toml(place, command, param):
    option = INPUT_FILES[(command, param)]
    root = place["root"]
    for bad in (root / "no_such.toml", root / "a_folder", root / "bad.toml"):
        check([command, *BASE[command], option, bad, "--db", place["db"]], bad)


def test_traces_to_ingest_that_are_missing_empty_or_not_traces(place):
    root = place["root"]
    for bad in (root / "no_such.json", root / "empty_folder"):
        check(["ingest", bad, "--db", root / "ingest.duckdb"], bad)
    junk = root / "junk.json"
    junk.write_text("this is not json")
    result = CliRunner().invoke(main, ["ingest", str(junk), "--db", str(root / "ingest.duckdb")])
    assert result.exit_code == 1 and str(junk) in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", sorted(BASE))
def test_a_store_that_is_not_there_a_folder_or_not_a_store(place, command):
    root = place["root"]
    args = [*BASE[command]]
    if command == "ingest":
        args = [TRACE]
    if command == "export-lake":
        args = [root / "lake_out"]
    if command in ("export", "report"):
        args += [OUTPUT_FILES[(command, "out")], root / f"{command}.out"]
    bad_stores = [root / "a_folder", root / "not_a_store.txt"]
    if command not in ("ingest", "capture"):  # these create their store; every other command reads one
        bad_stores.append(root / "no_such_store.duckdb")
    for bad in bad_stores:
        check([command, *args, "--db", bad], bad)


def test_a_lake_that_is_not_there_or_a_file(place):
    root = place["root"]
    for bad in (root / "no_such_lake", root / "not_a_store.txt", root / "a_folder"):
        check(["--lake", bad, "traces"], bad)
