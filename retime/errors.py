"""The exception families users see, and as_query_error for reading commands that fail in DuckDB.

Each is raised deep in the library with a message that already names the file, the place in it
and what was expected; the CLI catches them once and prints that line, never a traceback.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


class RetimeError(Exception):
    """Base of every error retime reports to a user."""


class TraceFormatError(RetimeError):
    """A trace file is unreadable, malformed, truncated beyond use, or of an unsupported format."""


class StoreError(RetimeError):
    """The DuckDB store cannot be opened, is locked, or has an incompatible schema."""


class QueryError(RetimeError):
    """A query or SQL statement is unknown or failed."""


class ScenarioError(RetimeError):
    """A replay scenario names an unknown knob or a value that cannot be read."""


@contextmanager
def as_query_error(what: str | None = None) -> Iterator[None]:
    """Turn a DuckDB error into a one-line QueryError ("<what> failed: <DuckDB's first line>")."""
    import duckdb
    try:
        yield
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise QueryError(f"{what} failed: {first}" if what else first) from None
