"""The store as a Parquet lake: every table written as Parquet partitioned by trace (Hive layout,
`events/trace_id=7/...parquet`), and read back as views so the same SQL and named queries run on it
with DuckDB here, or with any engine that reads Hive-partitioned Parquet (Spark SQL, Trino, ...)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from retime.core.errors import StoreError
from retime.core.sqlfiles import load_sql, set_variables
from retime.store import tables

TABLES = tables.names(*tables.PER_TRACE)  # every table keyed by trace (retime/store/sql/schema.sql)


def export_lake(con: duckdb.DuckDBPyConnection, out_dir: str | os.PathLike) -> dict[str, int]:
    """Write every store table under out_dir/<table>/trace_id=N/; returns rows written per table."""
    out = Path(out_dir)
    written = {}
    for table in TABLES:
        target = out / table
        if target.exists():
            shutil.rmtree(target)  # a lake is rewritten whole: no stale partitions of removed traces
        target.mkdir(parents=True)
        set_variables(con, lake_table=table)
        written[table] = con.execute(load_sql("retime.export", "lake_table_rows")).fetchall()[0][0]
        if written[table]:
            set_variables(con, lake_table_dir=str(target))
            con.execute(load_sql("retime.export", "lake_export")).fetchall()
        else:
            (target / "trace_id=0").mkdir()
            set_variables(con, lake_empty_file=str(target / "trace_id=0" / "empty.parquet"))
            con.execute(load_sql("retime.export", "lake_export_empty")).fetchall()
    return written


def open_lake(lake_dir: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection whose tables are views over the lake's Parquet files."""
    lake = Path(lake_dir)
    missing = [t for t in TABLES if not (lake / t).is_dir()]
    if missing:
        raise StoreError(f"{lake}: not a retime lake (no {', '.join(missing)} folder; write one with retime export-lake)")
    con = duckdb.connect()
    for table in TABLES:
        set_variables(con, **{f"lake_{table}": str(lake / table / "**" / "*.parquet")})
    con.execute(load_sql("retime.export", "lake_views")).fetchall()
    con.execute(tables.statements("lake_view", *tables.PER_TRACE)).fetchall()
    return con
