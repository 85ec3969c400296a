-- One store table as Hive-partitioned Parquet under lake_table_dir (trace_id=N folders).
COPY (SELECT * FROM __TABLE__) TO (getvariable('lake_table_dir'))
    (FORMAT parquet, PARTITION_BY (trace_id), OVERWRITE_OR_IGNORE true);
