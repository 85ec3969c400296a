"""Rendering DataFrames for the terminal and for scripts: table, csv, json (one document), parquet.

Tables are for people: time columns (`*_ns`) are shown in the unit that suits the table's values
(`span_ms 24.26`), byte columns (`bytes`, `*_bytes`) likewise in decimal units (`bytes_MB 268.567`),
a column of absolute clock times from the trace's start, numbers without scientific notation, and
text cells as wide as the terminal allows (in full when piped or with `--wide`).
csv, json and parquet keep the store's integers: nanoseconds on each trace's own clock, bytes.
"""
from __future__ import annotations

import json
import shutil
import sys
from decimal import Decimal

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded when a table is rendered, not when the CLI starts
    import polars as pl

FORMATS = ("table", "csv", "json")
UNITS = ("auto", "ns", "us", "ms", "s")
NS_PER = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
# a time at or after this (1973-03-03 on the epoch clock, in ns) is a reading of a trace's absolute
# clock, not a duration: Kineto and Chrome traces count from the epoch, nsys from its session start
ABSOLUTE_NS = 10**17
SIGNIFICANT = 6  # digits a table shows of a non-time float (all of its whole part, however many)
BYTES_PER = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}  # decimal, as GB/s are


def render(df: pl.DataFrame, fmt: str, units: str = "auto", wide: bool = False, origin_ns: int | None = None) -> str:
    """`df` as text in `fmt`. For tables: `units` for the time columns (auto: one unit that suits the table),
    `wide` for full text cells, `origin_ns` the start of the trace absolute times count from (by
    default the earliest absolute time in the table)."""
    import polars as pl
    if fmt == "csv":  # CSV has no nested values: lists and structs as their JSON text
        nested = [c for c, t in df.schema.items() if isinstance(t, (pl.List, pl.Array, pl.Struct))]
        flat = df.with_columns(pl.struct(pl.col(c).alias("v")).struct.json_encode()  # '{"v":...}' -> '...'
                               .str.slice(len('{"v":')).str.head(-1).alias(c) for c in nested) if nested else df
        return flat.write_csv()
    if fmt == "json":
        return json.dumps(df.to_dicts(), default=_json_value, indent=1)
    shown, notes = readable(df, units, origin_ns)
    full = wide or not sys.stdout.isatty()
    width = _terminal_width()
    with pl.Config(tbl_rows=200, tbl_cols=-1, tbl_width_chars=65_535 if full else max(80, width),
                   fmt_str_lengths=65_535 if full else max(60, width // 2), fmt_float="full",
                   tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        text = str(shown)
    return text + "".join(f"\n{note}" for note in notes)


def readable(df: pl.DataFrame, units: str = "auto", origin_ns: int | None = None) -> tuple[pl.DataFrame, list[str]]:
    """The table a person reads, and the notes it needs: time columns in `units` (auto: the unit of
    the median time shown, one for the whole table) and renamed for it, absolute clock times from `origin_ns` (else
    the earliest shown), other floats to SIGNIFICANT digits. units='ns' keeps the store's numbers."""
    import polars as pl
    if units not in UNITS:
        raise ValueError(f"units {units!r}: one of {', '.join(UNITS)}")
    floats = [c for c, t in df.schema.items() if t.is_float() and not _is_time(c)]
    df = df.with_columns(pl.when(pl.col(c).abs() >= 10**SIGNIFICANT).then(pl.col(c).round(0))  # whole digits are kept
                         .otherwise(pl.col(c).round_sig_figs(SIGNIFICANT)).alias(c) for c in floats) if floats else df
    if units == "ns":
        return df, []
    df = _byte_units(df)
    times = [c for c, t in df.schema.items() if _is_time(c) and t.is_numeric()]
    if not times:
        return df, []
    values = {c: df[c].cast(pl.Float64) for c in times}
    absolute = [c for c in times if values[c].min() is not None and values[c].min() >= ABSOLUTE_NS]
    origin = origin_ns if origin_ns is not None else (min(values[c].min() for c in absolute) if absolute else 0)
    shifted = {c: values[c] - origin if c in absolute else values[c] for c in times}
    # one unit for the whole table, so its columns compare at a glance: the unit of the median time shown
    unit = units if units != "auto" else (_unit_of(pl.concat(list(shifted.values()))) or "ms")
    columns, renamed = [], {}
    for c in times:
        columns.append((shifted[c] / NS_PER[unit]).round(3 if unit != "ns" else 0).alias(c))
        renamed[c] = (c[:-3] + "_" if c.endswith("_ns") else "") + unit
    shown = df.with_columns(columns).rename(renamed)
    notes = []
    if absolute:
        since = "the trace's first event" if origin_ns is not None else "the earliest time shown"
        notes.append(f"{', '.join(renamed[c] for c in absolute)}: from {since}; --units ns for the store's "
                     "absolute ns")
    return shown, notes


def _byte_units(df: pl.DataFrame) -> pl.DataFrame:
    """Byte columns in the one decimal unit that suits the median value shown (`bytes` -> `bytes_MB`)."""
    import polars as pl
    columns = [c for c, t in df.schema.items() if (c == "bytes" or c.endswith("_bytes")) and t.is_numeric()]
    if not columns:
        return df
    magnitude = pl.concat([df[c].cast(pl.Float64) for c in columns]).drop_nulls().abs()
    magnitude = magnitude.filter(magnitude > 0)
    if not len(magnitude):
        return df
    median = magnitude.median()
    unit = _byte_unit(median)
    if unit == "B":
        return df
    return df.with_columns((pl.col(c) / BYTES_PER[unit]).round(3).alias(c) for c in columns) \
        .rename({c: f"{c}_{unit}" for c in columns})


def human_bytes(n: int) -> str:
    """A byte count as a person reads it: 22,968 -> "23.0 kB" (decimal units, as GB/s are)."""
    unit = _byte_unit(n)
    return f"{n} bytes" if unit == "B" else f"{n / BYTES_PER[unit]:,.1f} {unit}"


def _byte_unit(n: float) -> str:
    """The largest decimal unit (BYTES_PER) not above n."""
    return next((u for u, size in reversed(BYTES_PER.items()) if n >= size), "B")


def _is_time(column: str) -> bool:
    return column.endswith("_ns") or column == "ns"


def _unit_of(values: pl.Series) -> str | None:
    """The unit whose range holds the median non-zero magnitude of `values`; None for no such value."""
    magnitude = values.drop_nulls().abs()
    magnitude = magnitude.filter(magnitude > 0)
    if not len(magnitude):
        return None
    median = magnitude.median()
    return next((u for u, limit in (("ns", 1e3), ("us", 1e6), ("ms", 1e9)) if median < limit), "s")


def _json_value(value):
    """Numbers stay numbers for scripts: DuckDB sums arrive as decimals (HUGEINT), times as datetimes."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


def _terminal_width() -> int:
    try:
        return shutil.get_terminal_size((160, 40)).columns if sys.stdout.isatty() else 160
    except OSError:
        return 160
