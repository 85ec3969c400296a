-- One store table (named by variable lake_table) as Hive-partitioned Parquet under lake_table_dir
-- (trace_id=N folders).
COPY (SELECT * FROM query_table(getvariable('lake_table'))) TO (getvariable('lake_table_dir'))
    (FORMAT parquet, PARTITION_BY (trace_id), OVERWRITE_OR_IGNORE true);
