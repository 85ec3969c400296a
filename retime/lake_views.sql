-- The store's tables as views over a Parquet lake (paths in lake_<table> variables). The partition
-- column trace_id comes back typed BIGINT, so every query reads the lake as it reads the store.
CREATE VIEW traces AS SELECT * FROM read_parquet(getvariable('lake_traces'), hive_partitioning = true, hive_types = {'trace_id': BIGINT}, union_by_name = true);
CREATE VIEW lanes AS SELECT * FROM read_parquet(getvariable('lake_lanes'), hive_partitioning = true, hive_types = {'trace_id': BIGINT}, union_by_name = true);
CREATE VIEW events AS SELECT * FROM read_parquet(getvariable('lake_events'), hive_partitioning = true, hive_types = {'trace_id': BIGINT}, union_by_name = true);
CREATE VIEW deps AS SELECT * FROM read_parquet(getvariable('lake_deps'), hive_partitioning = true, hive_types = {'trace_id': BIGINT}, union_by_name = true);
CREATE VIEW counters AS SELECT * FROM read_parquet(getvariable('lake_counters'), hive_partitioning = true, hive_types = {'trace_id': BIGINT}, union_by_name = true);
