"""Rendering DataFrames for the terminal and for scripts: table, csv, json (one document), parquet."""
from __future__ import annotations

import json
import sys
from decimal import Decimal

import polars as pl

FORMATS = ("table", "csv", "json")


def render(df: pl.DataFrame, fmt: str) -> str:
    if fmt == "csv":  # CSV has no nested values: lists and structs as their JSON text
        nested = [c for c, t in df.schema.items() if isinstance(t, (pl.List, pl.Array, pl.Struct))]
        flat = df.with_columns(pl.struct(pl.col(c).alias("v")).struct.json_encode()  # '{"v":...}' -> '...'
                               .str.slice(len('{"v":')).str.head(-1).alias(c) for c in nested) if nested else df
        return flat.write_csv()
    if fmt == "json":
        return json.dumps(df.to_dicts(), default=_json_value, indent=1)
    with pl.Config(tbl_rows=200, tbl_cols=-1, tbl_width_chars=max(120, _terminal_width()),
                   fmt_str_lengths=60, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        return str(df)


def _json_value(value):
    """Numbers stay numbers for scripts: DuckDB sums arrive as decimals (HUGEINT), times as datetimes."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


def _terminal_width() -> int:
    try:
        import shutil
        return shutil.get_terminal_size((160, 40)).columns if sys.stdout.isatty() else 160
    except OSError:
        return 160
