"""The shared SQL macros: what a GPU op, its class, busy time, a blocking call and a step window are.

The queries, the store's derived tables and the replay graph all read these definitions, so they
live here, below all three. One module per concept (gpu, comm, host, critical_path); a module
names the modules it builds on in its header (`-- @include gpu`) and `load` defines those first.
Names starting with `_` are helpers of the module that includes them, not for queries.
"""
from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources

import duckdb
import pyarrow as pa

INCLUDE = re.compile(r"^--\s*@include\s+([\w ]+?)\s*$")
STEP_PATTERN = "^ProfilerStep#[0-9]+$"  # torch.profiler's iteration windows: the default step of every answer
_RULES_MODULE = "_kernel_class_rules"


@lru_cache(maxsize=None)
def text(module: str) -> str:
    """The SQL of one foundation module, as written."""
    file = resources.files("retime.foundation").joinpath(f"{module}.sql")
    if not file.is_file():
        raise KeyError(f"no foundation module {module!r}")
    return file.read_text()


def includes(sql: str) -> list[str]:
    """The modules a SQL text's header names with `-- @include a b`, in order."""
    found = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        if m := INCLUDE.match(line):
            found.extend(m[1].split())
    return found


@lru_cache(maxsize=None)
def closure(modules: tuple[str, ...]) -> tuple[str, ...]:
    """`modules` and everything they include, each after what it includes, each once."""
    ordered: list[str] = []

    def visit(module: str, path: tuple[str, ...]) -> None:
        if module in ordered:
            return
        if module in path:
            raise ValueError(f"foundation modules include each other: {' -> '.join(path + (module,))}")
        for inner in includes(text(module)):
            visit(inner, path + (module,))
        ordered.append(module)

    for module in modules:
        visit(module, ())
    return tuple(ordered)


def modules() -> list[str]:
    """Every foundation module's name."""
    folder = resources.files("retime.foundation")
    return sorted(f.name[:-4] for f in folder.iterdir() if f.name.endswith(".sql"))


def load(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Define the macros of `names` (and of what they include) on a connection."""
    for module in closure(tuple(names)):
        if module == _RULES_MODULE:
            con.register("kernel_class_rules_data", _kernel_class_table())
            try:
                con.execute(text(module)).fetchall()
            finally:
                con.unregister("kernel_class_rules_data")
        else:
            con.execute(text(module)).fetchall()


def load_for(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Define what a SQL text's header includes."""
    load(con, *includes(sql))


def kernel_classes_text() -> str:
    """kernel_classes.toml as written: the data the kernel classes come from."""
    return resources.files("retime.foundation").joinpath("kernel_classes.toml").read_text()


@lru_cache(maxsize=1)
def kernel_class_rules() -> list[dict]:
    """The kernel class rules of kernel_classes.toml, in order (class, pattern, why)."""
    return tomllib.loads(kernel_classes_text())["rule"]


@lru_cache(maxsize=1)
def _kernel_class_table() -> pa.Table:
    rules = kernel_class_rules()
    return pa.table({"priority": list(range(len(rules))), "class": [r["class"] for r in rules],
                     "pattern": [r["pattern"] for r in rules]})
