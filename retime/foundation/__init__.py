"""The shared SQL macros: what a GPU op, its class, busy time, a blocking call and a step window are.

The queries, the store's derived tables and the replay graph all read these definitions, so they
live here, below all three. One module per concept (gpu, comm, host, critical_path); a module
names the modules it builds on in its header (`-- @include gpu`) and `load` defines those first.
Names starting with `_` are helpers of the module that includes them, not for queries.

Each macro is documented above its definition: a line of prose, then `-- @arg NAME TYPE doc` for
each argument in order, and `-- @column NAME TYPE` for each column of a table macro or `-- @returns
TYPE doc` for a scalar one (`macros` reads them; tests/retime/test_foundation.py checks them against
the definitions and DuckDB's own DESCRIBE; docs/sql.md is written from them).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from typing import TYPE_CHECKING

from retime import core

if TYPE_CHECKING:  # the rule tables are built on first use, so reading a data file loads neither
    import duckdb
    import pyarrow as pa

INCLUDE = re.compile(r"^--\s*@include\s+([\w ]+?)\s*$")
MACRO = re.compile(r"^CREATE OR REPLACE TEMP MACRO (\w+)\(([^)]*)\) AS( TABLE)?", re.M)
TAG = re.compile(r"^--\s*@(arg|column|returns)\s+(.*)$")


@lru_cache(maxsize=None)
def text(module: str) -> str:
    """The SQL of one foundation module, as written."""
    file = resources.files("retime.foundation").joinpath(f"{module}.sql")
    if not file.is_file():
        raise KeyError(f"no foundation module {module!r}")
    return file.read_text()


def _step_pattern() -> str:
    """The step_pattern() macro's regular expression, as kinds.sql defines it."""
    m = re.search(r"MACRO step_pattern\(\) AS\s*'([^']*)'", text("kinds"))
    if m is None:
        raise ValueError("retime/foundation/kinds.sql defines no step_pattern()")
    return m[1]


STEP_PATTERN = _step_pattern()  # torch.profiler's iteration windows: the default step of every answer


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


@dataclass(frozen=True)
class Macro:
    """One macro of a foundation module, as its definition and the comment above it say."""
    module: str
    name: str
    params: tuple[str, ...]                      # as defined
    table: bool                                  # a table macro (AS TABLE), else a scalar one
    doc: str                                     # the prose above it, as one line
    args: tuple[tuple[str, str, str], ...]       # @arg: name, type, doc
    columns: tuple[tuple[str, str, str], ...]    # @column: name, type, doc
    returns: tuple[str, str] | None              # @returns: type, doc


def macros(module: str) -> list[Macro]:
    """The macros a foundation module defines, with their documentation."""
    sql = text(module)
    found = []
    for m in MACRO.finditer(sql):
        prose, args, columns, returns = [], [], [], None
        for line in comment_above(sql, m.start(), stop="-- @include"):  # the module's header ends there
            if tag := TAG.match(line):
                kind, words = tag[1], tag[2].strip()
                if kind == "returns":
                    returns = _type_first(words)
                else:
                    name, _, rest = words.partition(" ")
                    of_type, doc = _type_first(rest.strip())
                    (args if kind == "arg" else columns).append((name, of_type, doc))
            else:
                prose.append(line[2:].strip())
        found.append(Macro(module, m[1], tuple(a.strip() for a in m[2].split(",") if a.strip()), bool(m[3]),
                           " ".join(prose), tuple(args), tuple(columns), returns))
    return found


def comment_above(sql: str, at: int, stop: str = "-- @") -> list[str]:
    """The `--` comment lines right above position `at` of a SQL text, in order (a blank or code
    line ends the comment, and so does a line starting with `stop`): a declaration's documentation."""
    lines = []
    for line in reversed(sql[:at].splitlines()):
        if not line.startswith("--") or line.startswith(stop):
            break
        lines.append(line)
    return lines[::-1]


def _type_first(words: str) -> tuple[str, str]:
    """(a SQL type, the rest) of "TYPE doc", the type's spaces inside parentheses kept (STRUCT(a INT, b INT))."""
    depth = 0
    for i, ch in enumerate(words):
        depth += (ch == "(") - (ch == ")")
        if ch == " " and depth == 0:
            return words[:i], words[i + 1:].strip()
    return words, ""


@lru_cache(maxsize=1)
def _callable_names() -> dict[str, str]:
    """Every public macro's name -> its module."""
    return {m.name: module for module in modules() for m in macros(module) if not m.name.startswith("_")}


def modules_called(sql: str) -> list[str]:
    """The modules whose public macros a SQL text calls (`name(`), for ad-hoc SQL to use them."""
    return sorted({module for name, module in _callable_names().items() if re.search(rf"\b{name}\s*\(", sql)})


def modules() -> list[str]:
    """Every foundation module's name."""
    folder = resources.files("retime.foundation")
    return sorted(f.name[:-4] for f in folder.iterdir() if f.name.endswith(".sql"))


def load(con: "duckdb.DuckDBPyConnection", *names: str) -> None:
    """Define the macros of `names` (and of what they include) on a connection, each module once:
    the connection's temp table foundation_loaded lists those already defined (a rolled-back
    transaction takes both the macros and their rows with it)."""
    if not names:
        return
    done = _loaded(con)
    for module in closure(tuple(names)):
        if module in done:
            continue
        data = _DATA_TABLES.get(module)
        if data is None:
            con.execute(text(module)).fetchall()
        else:
            view, table = data
            con.register(view, table())
            try:
                con.execute(text(module)).fetchall()
            finally:
                con.unregister(view)
            if module in _FIRST_MATCH:
                con.execute(first_match_macro(*_FIRST_MATCH[module])).fetchall()
        con.execute("INSERT INTO foundation_loaded VALUES ($m)", {"m": module}).fetchall()
        done.add(module)


def _loaded(con: "duckdb.DuckDBPyConnection") -> set[str]:
    """The modules already defined on this connection (no error raised: one would abort the
    caller's transaction)."""
    con.execute("CREATE TEMP TABLE IF NOT EXISTS foundation_loaded (module VARCHAR)").fetchall()
    return {row[0] for row in con.execute("SELECT module FROM foundation_loaded").fetchall()}


DATA_FILES = ("kernel_classes.toml", "op_rules.toml", "gpus.toml")  # what the modules' rules and numbers come from


def data_text(file: str) -> str:
    """One of DATA_FILES as written."""
    return resources.files("retime.foundation").joinpath(file).read_text()


@lru_cache(maxsize=None)
def data(file: str) -> dict:
    """One of DATA_FILES, parsed."""
    return tomllib.loads(data_text(file))


def kernel_class_rules() -> list[dict]:
    """The kernel class rules of kernel_classes.toml, in order (class, pattern, why)."""
    return data("kernel_classes.toml")["rule"]


def op_rules() -> list[dict]:
    """The CPU operator rules of op_rules.toml, in order (pattern, category, model, causal_arg)."""
    return data("op_rules.toml")["rule"]


def gpu_presets() -> dict[str, dict]:
    """The accelerators of gpus.toml, by preset key, in file order."""
    return data("gpus.toml")


def _ranked(rows: list[dict], columns: dict[str, str]) -> "pa.Table":
    """Rows of a data file as a table: priority (the row's place in the file) and the given fields,
    each of a pyarrow type named by its factory ("string", "float64", "int64"; NULL where a row
    lacks the field), for a module's SQL to read."""
    import numpy as np
    import pyarrow as pa
    from retime.core import arrow
    values = {name: arrow.strings([row.get(name) for row in rows]) if kind == "string"
              else arrow.numbers([row.get(name) for row in rows], getattr(pa, kind)()) for name, kind in columns.items()}
    return arrow.table({"priority": np.arange(len(rows), dtype=np.int32), **values})


PEAK_FIELDS = ("hbm_tb_s", "bf16_tflops", "fp32_tflops", "tf32_tflops", "fp8_tflops", "pcie_gb_s", "interconnect_gb_s")


@lru_cache(maxsize=1)
def _kernel_class_table() -> "pa.Table":
    return _ranked(kernel_class_rules(), {"class": "string", "pattern": "string"})


@lru_cache(maxsize=1)
def _gpu_preset_table() -> "pa.Table":
    parts = [{"preset": key, **part} for key, part in gpu_presets().items()]
    return _ranked(parts, {"preset": "string", "match": "string", **{f: "float64" for f in PEAK_FIELDS}})


@lru_cache(maxsize=1)
def _op_rule_table() -> "pa.Table":
    rules = [{**rule, "model": rule["model"] or None, "causal_arg": rule.get("causal_arg") or None} for rule in op_rules()]
    return _ranked(rules, {"pattern": "string", "category": "string", "model": "string", "causal_arg": "int64"})


@lru_cache(maxsize=None)
def first_match_macro(macro: str, file: str, options: str) -> str:
    """A macro `macro(name)` giving the priority (place in the file) of the first rule of `file`
    (one of DATA_FILES) whose pattern matches name, NULL when none does: one CASE over constant patterns, so each regular
    expression is compiled once per query, not once per (name, rule) pair as a join of names with
    the rule table compiles them."""
    rules = data(file)["rule"]
    flags = f", '{options}'" if options else ""
    whens = " ".join(f"WHEN regexp_matches(name, '{rule['pattern'].replace(chr(39), chr(39) * 2)}'{flags}) THEN {priority}"
                     for priority, rule in enumerate(rules))
    return f"CREATE OR REPLACE TEMP MACRO {macro}(name) AS CASE {whens} END;" if rules else \
        f"CREATE OR REPLACE TEMP MACRO {macro}(name) AS NULL::INTEGER;"


# modules that also define a first-match macro over their rules: (macro, rules, regexp options)
_FIRST_MATCH = {"_kernel_class_rules": ("kernel_class_rule", "kernel_classes.toml", "i"),
                "_op_rules": ("op_rule", "op_rules.toml", "")}

# modules that read a data file: (the name its rows are registered under, the rows as a table)
_DATA_TABLES = {"_kernel_class_rules": ("kernel_class_rules_data", _kernel_class_table),
                "_gpu_presets": ("gpu_presets_data", _gpu_preset_table),
                "_op_rules": ("op_rules_data", _op_rule_table)}
# the temporary tables the modules leave on a connection (the data modules' rules and the list of
# modules loaded): they live as long as the connection, so no block that drops its scratch tables
# (sqlfiles.scratch_tables) may drop them, or the list would name modules whose tables are gone
TEMP_TABLES = frozenset({"foundation_loaded", "kernel_class_rules", "op_rules", "gpu_presets"})
core.LASTING_TEMP_TABLES.update(TEMP_TABLES)  # a scratch block leaves them with the connection
