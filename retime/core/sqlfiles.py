"""Loading the project's .sql files and running them with bound values.

Every statement over a trace's rows is a file next to the code that runs it; what Python writes
itself is one-line control (transactions, settings, ATTACH / DETACH) and the store's own
bookkeeping rows (schema_info, derived_info, which foundation modules a connection holds), and
tests/retime/test_tables.py checks that no Python string reads or writes a trace's table. Scripts of
several statements read their inputs through DuckDB variables (SET VARIABLE ... = ?, bound, not
formatted in); single queries take named parameters ($trace_id).
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from typing import Callable, Iterator, Mapping

import duckdb

from retime.core import LASTING_TEMP_TABLES


@lru_cache(maxsize=None)
def load_sql(package: str, name: str) -> str:
    """The text of `name`.sql shipped in `package` (e.g. 'retime.ingest', 'chrome_read')."""
    folder = resources.files(package)
    candidate = folder.joinpath("sql", f"{name}.sql")
    if not candidate.is_file():
        candidate = folder.joinpath(f"{name}.sql")
    return candidate.read_text()


def set_variables(con: duckdb.DuckDBPyConnection, **values) -> None:
    """Bind each value to a DuckDB variable of its name (getvariable('name') in a script)."""
    for key, value in values.items():
        if not key.isidentifier():
            raise ValueError(f"bad variable name {key!r}")
        con.execute(f"SET VARIABLE {key} = ?", [value]).fetchall()


def filled_sql(package: str, name: str, fill: Mapping[str, str]) -> str:
    """A script with each `{piece}` it writes replaced by fill[piece]: SQL made from a declaration
    (column names, JSON paths, types), never a value read from a trace, which goes in bound."""
    text = load_sql(package, name)
    for piece, sql in fill.items():
        text = text.replace("{" + piece + "}", sql)
    return text


def run_script(con: duckdb.DuckDBPyConnection, package: str, name: str,
               on_statement: Callable[[], None] | None = None, *, fill: Mapping[str, str] | None = None) -> None:
    """Run every statement of a script (its inputs already set as variables); `on_statement` is
    called after each one (a progress bar's step); `fill` gives the pieces of SQL it leaves to a
    declaration (filled_sql)."""
    text = filled_sql(package, name, fill) if fill else load_sql(package, name)
    if on_statement is None:
        con.execute(text).fetchall()
        return
    for statement in con.extract_statements(text):
        con.execute(statement).fetchall()
        on_statement()


def script_length(con: duckdb.DuckDBPyConnection, package: str, name: str) -> int:
    """How many statements a script runs (the steps run_script reports)."""
    return len(con.extract_statements(load_sql(package, name)))


def one_row(con: duckdb.DuckDBPyConnection, package: str, name: str, params: dict | None = None) -> dict:
    """The single row a summary query returns, by column name."""
    result = con.execute(load_sql(package, name), params or {})
    return dict(zip([d[0] for d in result.description], result.fetchall()[0]))


@contextmanager
def scratch_tables(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Temporary tables and views created inside are dropped when the block ends (staging can
    hold a whole trace). Use it outside transactions: on failure the drops run after the block's
    own rollback, and a drop that fails then leaves the block's error to tell."""
    before = _temp_tables(con)
    try:
        yield
    except BaseException:
        try:
            _drop_temp_tables(con, before)
        except duckdb.Error:
            pass  # the connection is unusable; its end drops them
        raise
    _drop_temp_tables(con, before)


def _drop_temp_tables(con: duckdb.DuckDBPyConnection, keep: set[tuple[str, str]]) -> None:
    for name, kind in _temp_tables(con) - keep:
        if name not in LASTING_TEMP_TABLES:  # retime/core/__init__.py
            con.execute(f'DROP {kind} IF EXISTS temp."{name}"').fetchall()  # a name and kind read from the catalogue


def _temp_tables(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    return {(name, kind) for name, kind in con.execute(load_sql("retime.core", "temp_tables")).fetchall()}
