"""What writing a trace's events costs, and what the store's alternatives would save: the rows of
one ingested trace appended to a fresh `events` table (committed), without `args`, and copied to
Parquet instead (the "events as Parquet parts beside the database" design), on 1 and 2 DuckDB
threads, then each column's share of the append. The ceiling an ingest of that trace can reach while
it writes the events table is the first row's events/s.

    python bench/store_write.py                                   # the 225 MB Kineto file of bench/ingest.py
    python bench/store_write.py --trace bench/out/nsys_0.25gb.sqlite
"""
from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import duckdb

import retime
from common import OUT, fresh_store_path

DEFAULT_TRACE = OUT / "kineto_0.225gb_v2.json"


def timed(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    """Seconds for one statement in its own transaction, committed."""
    started = time.perf_counter()
    con.execute("BEGIN")
    con.execute(sql).fetchall()
    con.execute("COMMIT")
    return time.perf_counter() - started


def scratch(path: Path, threads: int, schema: str, source: str) -> duckdb.DuckDBPyConnection:
    """A fresh database file holding an empty events table and, in memory, the rows to write."""
    for stale in (path, Path(f"{path}.wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute(f"SET threads = {threads}")
    con.execute(schema)
    con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
    con.execute("CREATE TEMP TABLE rows AS SELECT * FROM src.events WHERE trace_id = "
                "(SELECT trace_id FROM src.traces ORDER BY event_count DESC LIMIT 1)")
    con.execute("DETACH src")
    return con


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trace", default=str(DEFAULT_TRACE), help="a trace file (Kineto JSON, nsys SQLite, ...)")
    args = parser.parse_args()
    trace = Path(args.trace)
    if not trace.exists():
        raise SystemExit(f"{trace}: no such file (python bench/ingest.py --size-gb 0.225 builds the default)")

    store = fresh_store_path("store_write")
    with retime.open(store) as opened:
        [result] = opened.ingest(trace)
        if result.status != "ingested":
            raise SystemExit(result.error)
        schema = opened.con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'events'").fetchone()[0]
        rows = opened.con.execute("SELECT max(event_count) FROM traces").fetchone()[0]
    print(f"events of the largest trace of {trace.name}: {rows:,} rows "
          f"(whole ingest of the file, {result.events:,} events: {result.seconds:.2f} s)\n")

    parts = OUT / "store_write_parts"
    ways = [("INSERT INTO events (the store today)", "INSERT INTO events SELECT * FROM rows"),
            ("INSERT INTO events, args left NULL", "INSERT INTO events SELECT * REPLACE (NULL AS args) FROM rows"),
            ("COPY to Parquet (snappy)", f"COPY rows TO '{parts}/snappy.parquet' (FORMAT parquet, COMPRESSION snappy)"),
            ("COPY to Parquet (zstd)", f"COPY rows TO '{parts}/zstd.parquet' (FORMAT parquet, COMPRESSION zstd)"),
            ("COPY to Parquet, args left out",
             f"COPY (SELECT * EXCLUDE (args) FROM rows) TO '{parts}/no_args.parquet' (FORMAT parquet, COMPRESSION snappy)")]
    print("| write                                   | threads |  seconds |     rows/s |")
    print("|-----------------------------------------|---------|----------|------------|")
    for threads in (1, 2):
        con = scratch(OUT / "store_write_scratch.duckdb", threads, schema, str(store))
        shutil.rmtree(parts, ignore_errors=True)
        parts.mkdir(parents=True)
        for label, sql in ways:
            seconds = timed(con, sql)
            print(f"| {label:39s} | {threads:7d} | {seconds:8.2f} | {rows / seconds:10,.0f} |")
            con.execute("DELETE FROM events")
            con.execute("CHECKPOINT")
        con.close()

    # each column appended alone, one thread: where the append's time goes
    con = scratch(OUT / "store_write_scratch.duckdb", 1, schema, str(store))
    columns = con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                          "WHERE table_name = 'events' AND database_name = current_database() ORDER BY column_index").fetchall()
    costs = []
    for name, kind in columns:
        con.execute(f'CREATE TABLE one_column ("{name}" {kind})')
        seconds = timed(con, f'INSERT INTO one_column SELECT "{name}" FROM rows')
        filled = con.execute(f'SELECT count("{name}") FROM one_column').fetchone()[0]
        costs.append((seconds, name, kind, filled))
        con.execute("DROP TABLE one_column")
        con.execute("CHECKPOINT")
    con.close()
    total = sum(c[0] for c in costs)
    print(f"\neach column appended alone (1 thread): {total:.2f} s in all\n")
    print("| column             | type    | seconds | share | rows not NULL |")
    print("|--------------------|---------|---------|-------|---------------|")
    for seconds, name, kind, filled in sorted(costs, reverse=True):
        print(f"| {name:18s} | {kind:7s} | {seconds:7.3f} | {seconds / total:5.1%} | {filled:13,d} |")
    shutil.rmtree(parts, ignore_errors=True)
    for stale in (OUT / "store_write_scratch.duckdb", OUT / "store_write_scratch.duckdb.wal"):
        stale.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
