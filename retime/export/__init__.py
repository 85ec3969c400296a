"""Writing a store out: a trace as Chrome JSON for Perfetto UI (chrome.py), every table as a Parquet
lake that DuckDB, Spark SQL or Trino read, and reading such a lake back as a store (lake.py)."""
