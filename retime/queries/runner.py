"""Lists and runs the named queries of this package.

Each query is a .sql file whose header says what it finds, its parameters (`-- @param name TYPE
[= default] text`), its columns (`-- @column name TYPE text`) and what an empty answer means
(`-- @empty text`) and which shared macro modules it builds on (`-- @include gpu`, from
retime/foundation/). The runner defines those macros first, binds parameters by name (never
formatted into the SQL) and returns a polars DataFrame.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import duckdb
import polars as pl

from retime import foundation
from retime.core.errors import QueryError, as_query_error

PARAM = re.compile(r"^--\s*@param\s+(\w+)\s+(\w+)(?:\s*=\s*(\S+))?\s*(.*)$")
COLUMN = re.compile(r"^--\s*@column\s+(\w+)\s+(\w+)\s*(.*)$")
EMPTY = re.compile(r"^--\s*@empty\s+(.*)$")
CASTS = {"BIGINT": int, "INTEGER": int, "DOUBLE": float, "VARCHAR": str,
         "BOOLEAN": lambda v: v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes")}


CONSTANTS = {"step_pattern()": foundation.STEP_PATTERN}  # defaults a header names by a foundation macro


@dataclass
class Param:
    """A parameter a query's header declares (`-- @param name TYPE = default   doc`)."""
    name: str
    type: str
    default: str | None
    doc: str


@dataclass
class Query:
    """A named query: its SQL and what its header says (summary, parameters, columns, includes, empty)."""
    name: str
    topic: str
    summary: str
    sql: str
    params: list[Param] = field(default_factory=list)
    columns: list[tuple[str, str, str]] = field(default_factory=list)
    empty: str = "no rows"
    includes: list[str] = field(default_factory=list)


def parse(name: str, topic: str, sql: str) -> Query:
    """A query file's text read into a Query, its header parsed."""
    query = Query(name=name, topic=topic, summary="", sql=sql, includes=foundation.includes(sql))
    summary = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        if m := PARAM.match(line):
            # `= ''`: the empty string; `= step_pattern()`: that foundation constant (kinds.sql)
            default = "" if m[3] == "''" else CONSTANTS.get(m[3], m[3])
            query.params.append(Param(m[1], m[2].upper(), default, m[4].strip()))
        elif m := COLUMN.match(line):
            query.columns.append((m[1], m[2].upper(), m[3].strip()))
        elif m := EMPTY.match(line):
            query.empty = m[1].strip()
        elif foundation.INCLUDE.match(line):
            continue
        elif not query.params and not query.columns:
            summary.append(line[2:].strip())
    query.summary = " ".join(summary)
    return query


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Query]:
    """Every named query, by name."""
    root = resources.files("retime.queries")
    found = {}
    for topic in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "__pycache__"):
        for file in sorted(f for f in topic.iterdir() if f.name.endswith(".sql")):
            name = file.name[:-4]
            found[name] = parse(name, topic.name, file.read_text())
    return found


def listing() -> pl.DataFrame:
    """One row per named query: name, topic, parameters with defaults, what it finds."""
    rows = [{"query": q.name, "topic": q.topic,
             "params": " ".join(p.name + (f"={p.default}" if p.default is not None else "") for p in q.params),
             "finds": q.summary} for q in catalogue().values()]
    return pl.DataFrame(rows)


def named(name: str) -> Query:
    """The named query `name` (QueryError naming `retime query list` where there is none)."""
    query = catalogue().get(name)
    if query is None:
        raise QueryError(f"no query named {name!r} (see `retime query list`)")
    return query


def describe(name: str) -> str:
    """One query's help: what it finds, its parameters with defaults, its columns with units, and
    what an empty answer means (`retime query describe NAME`)."""
    query = named(name)
    lines = [f"{query.name} ({query.topic}): {query.summary}", "", "parameters:"]
    for p in query.params:
        default = " (required)" if p.default is None else f" = {p.default!r}" if p.type == "VARCHAR" else f" = {p.default}"
        lines.append(f"  {p.name} {p.type}{default}  {p.doc}")
    lines += ["", "columns:"]
    width = max(len(c) for c, _, _ in query.columns)
    lines += [f"  {c:<{width}} {t:<8} {doc}".rstrip() for c, t, doc in query.columns]
    lines += ["", f"no rows means: {query.empty}"]
    if query.includes:
        lines.append(f"builds on: {', '.join(f'retime/foundation/{m}.sql' for m in query.includes)}")
    return "\n".join(lines)


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object]) -> pl.DataFrame:
    """Run query `name` with `params` (strings are converted to the header's types)."""
    query = named(name)
    declared = {p.name: p for p in query.params}
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise QueryError(f"query {name} takes no parameter {', '.join(unknown)} (it takes: {', '.join(declared)})")
    bound = {}
    for p in query.params:
        value = params.get(p.name, p.default)
        if value is None:
            raise QueryError(f"query {name} needs {p.name} ({p.type}): {p.doc}")
        try:
            bound[p.name] = CASTS.get(p.type, str)(value)
        except ValueError:
            raise QueryError(f"query {name}: {p.name} must be {p.type}, got {value!r}") from None
    with as_query_error(f"query {name}"):
        foundation.load(con, *query.includes)
        return con.sql(query.sql, params=bound).pl()
