-- The store's tables as views over a Parquet lake (paths in lake_<table> variables): this macro, and
-- a view for each table through it (retime/store/sql/table_statements.sql, lake_view). The partition
-- column trace_id comes back typed BIGINT, so every query reads the lake as it reads the store.
CREATE MACRO lake_table(files) AS TABLE
    SELECT * FROM read_parquet(files, hive_partitioning = true, hive_types = {'trace_id': BIGINT}, union_by_name = true);
