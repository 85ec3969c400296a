"""Opening the DuckDB store: creating the schema on first use and checking its version after.

Every other module gets its connection from here, so the schema check, the lock message and the
read-only rule for query commands live in one place.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

import duckdb

from retime.store import derived, tables
from retime.core.errors import StoreError
from retime.core.sqlfiles import load_sql

# 2: gpu_timeline and gpu_device_time (derived); 3: gpu_timeline.call_stack and op_shapes; 4: op_work, cpu_top_ops,
# gpu_timeline's operator and category, derived_info; 5: replay_transfers, replay_transfer_links and
# replay_link_capacity (saved replays on a topology). An older store is upgraded in place on open: its derived
# tables are made again from its events (as they are when the rules they follow change: derived.fingerprint),
# and tables it lacks are created.
SCHEMA_VERSION = 5
DEFAULT_DB = "retime.duckdb"


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All the writes inside land together or not at all (rolled back on any exception, KeyboardInterrupt too)."""
    con.execute("BEGIN TRANSACTION").fetchall()
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK").fetchall()
        raise
    con.execute("COMMIT").fetchall()


def next_trace_id(con: duckdb.DuckDBPyConnection) -> int:
    """A new trace id from the store's sequence (each call a new one, never reused)."""
    return con.execute(load_sql("retime.store", "next_trace_id")).fetchall()[0][0]


def default_db_path() -> str:
    """The store a command uses when none is given: $RETIME_DB, else ./retime.duckdb."""
    return os.environ.get("RETIME_DB") or DEFAULT_DB


DEFAULT_MEMORY_LIMIT = "1GB"  # measured: a 1 GB Kineto file ingests as fast as with no limit, at ~1.2 GB peak RSS


def configure(con: duckdb.DuckDBPyConnection, threads: int | None = None, memory_limit: str | None = None) -> None:
    """Resource limits for one connection. Over the memory limit DuckDB spills to disk, so large
    traces ingest in bounded memory."""
    limit = memory_limit or os.environ.get("RETIME_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
    try:
        con.execute("SET memory_limit = ?", [limit]).fetchall()
        if threads:
            con.execute("SET threads = ?", [int(threads)]).fetchall()
    except duckdb.Error as exc:
        raise StoreError(f"bad resource setting (memory limit {limit!r}, threads {threads!r}): "
                         f"{str(exc).splitlines()[0]}") from None


def schema_sql() -> str:
    """The store's DDL (sql/schema.sql)."""
    return resources.files("retime.store").joinpath("sql", "schema.sql").read_text()


def connect(path: str | os.PathLike, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and on first write, create) the store at `path`, checking its schema version."""
    path = str(path)
    if read_only and path != ":memory:" and not Path(path).exists():
        raise StoreError(f"{path}: no such store (ingest a trace first: retime ingest TRACE --db {path})")
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise StoreError(f"{path}: the store is in use by another retime process (DuckDB allows one writer); "
                             "wait for it to finish and run the command again") from None
        raise StoreError(f"{path}: cannot open the store: {text.splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise StoreError(f"{path}: not a retime store or corrupt: {str(exc).splitlines()[0]}") from None
    try:
        upgrade_first = _check_or_create_schema(con, path, read_only)
    except Exception:
        con.close()
        raise
    if upgrade_first:  # an older store opened for reading: upgraded once by a writing open, then read
        con.close()
        connect(path).close()
        return connect(path, read_only=True)
    return con


def _check_or_create_schema(con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> bool:
    """Create the schema in a new store, upgrade an older one, refuse anything else; True when a
    read-only connection found a store that needs the upgrade first."""
    has_info = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_info'"
    ).fetchall()[0][0]
    if not has_info:
        if read_only:
            raise StoreError(f"{path}: not a retime store (no schema_info table)")
        user_tables = con.execute("SELECT count(*) FROM information_schema.tables").fetchall()[0][0]
        if user_tables:
            raise StoreError(f"{path}: a DuckDB file with other tables, not a retime store; use another --db")
        with transaction(con):
            con.execute(schema_sql())
            con.execute("INSERT INTO schema_info VALUES ($v, now())", {"v": SCHEMA_VERSION})
            derived.mark_current(con)
        return False
    version = con.execute("SELECT max(version) FROM schema_info").fetchall()[0][0]
    if version in (1, 2, 3, 4) or (version == SCHEMA_VERSION and not derived.is_current(con)):
        if read_only:
            return True
        _upgrade_derived(con)
        return False
    if version != SCHEMA_VERSION:
        raise StoreError(f"{path}: store schema version {version}, this retime reads version {SCHEMA_VERSION}; "
                         "re-ingest the traces into a new store")
    return False


def _upgrade_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Versions 2 to 4 changed only the derived tables (derived.TABLES), and so does a change of the
    rules they follow: make them again and derive every stored trace, in one transaction (an
    interrupted upgrade leaves the store as it was). Version 5 added tables, which the schema's
    IF NOT EXISTS statements create."""
    with transaction(con):
        con.execute(tables.statements("drop", "derived")).fetchall()
        con.execute(schema_sql()).fetchall()  # every statement is IF NOT EXISTS: only the derived tables are made
        derived.derive_all(con)
        con.execute("INSERT INTO schema_info SELECT $v, now() WHERE $v NOT IN (SELECT version FROM schema_info)",
                    {"v": SCHEMA_VERSION}).fetchall()

