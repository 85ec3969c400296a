"""The exception families users see, and as_query_error for reading commands that fail in DuckDB.

Each is raised deep in the library with a message that already names the file, the place in it
and what was expected; the CLI catches them once and prints that line, never a traceback. A
message names an option through `arg`: Python sees the argument (`topology=`, `all_ranks=True`),
the CLI's line the flag it maps to (`--topology`, `--all-ranks`).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

_ARG = re.compile("\x1f(\\w+)(?:\x1e([^\x1f]*))?\x1f")
# a Python argument whose CLI flag is not --name-with-dashes
FLAGS = {"source": "--from", "settings": "--set"}


def arg(name: str, value: str | None = None) -> str:
    """An option named in an error message (with the value it was given, or the form it takes):
    rendered as the Python argument `name=value`, or as the CLI flag `--name value`."""
    return f"\x1f{name}" + (f"\x1e{value}" if value is not None else "") + "\x1f"


def _python(m: re.Match) -> str:
    return f"{m[1]}={m[2] if m[2] is not None else ''}"


def _flag(m: re.Match) -> str:
    flag = FLAGS.get(m[1], "--" + m[1].replace("_", "-"))
    return flag if m[2] in (None, "True") else f"{flag} {m[2]}"


class RetimeError(Exception):
    """Base of every error retime reports to a user."""

    def __str__(self) -> str:
        return _ARG.sub(_python, super().__str__())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def cli_message(self) -> str:
        """The message as the command line reads it: options named by their flags."""
        return _ARG.sub(_flag, super().__str__())


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
