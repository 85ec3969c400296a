-- The store's tables as views over a Parquet lake (paths in lake_<table> variables). The partition
-- column trace_id comes back typed BIGINT, so every query reads the lake as it reads the store.
CREATE MACRO lake_table(files) AS TABLE
    SELECT * FROM read_parquet(files, hive_partitioning = true, hive_types = {'trace_id': BIGINT}, union_by_name = true);
CREATE VIEW traces AS SELECT * FROM lake_table(getvariable('lake_traces'));
CREATE VIEW lanes AS SELECT * FROM lake_table(getvariable('lake_lanes'));
CREATE VIEW events AS SELECT * FROM lake_table(getvariable('lake_events'));
CREATE VIEW deps AS SELECT * FROM lake_table(getvariable('lake_deps'));
CREATE VIEW counters AS SELECT * FROM lake_table(getvariable('lake_counters'));
CREATE VIEW gpu_timeline AS SELECT * FROM lake_table(getvariable('lake_gpu_timeline'));
CREATE VIEW gpu_device_time AS SELECT * FROM lake_table(getvariable('lake_gpu_device_time'));
CREATE VIEW op_shapes AS SELECT * FROM lake_table(getvariable('lake_op_shapes'));
CREATE VIEW op_work AS SELECT * FROM lake_table(getvariable('lake_op_work'));
CREATE VIEW cpu_top_ops AS SELECT * FROM lake_table(getvariable('lake_cpu_top_ops'));
CREATE VIEW gpu_overlap AS SELECT * FROM lake_table(getvariable('lake_gpu_overlap'));
CREATE VIEW gpu_busy_islands AS SELECT * FROM lake_table(getvariable('lake_gpu_busy_islands'));
CREATE VIEW gpu_launch_queue AS SELECT * FROM lake_table(getvariable('lake_gpu_launch_queue'));
CREATE VIEW gpu_stream_gaps AS SELECT * FROM lake_table(getvariable('lake_gpu_stream_gaps'));
CREATE VIEW replay_transfers AS SELECT * FROM lake_table(getvariable('lake_replay_transfers'));
CREATE VIEW replay_transfer_links AS SELECT * FROM lake_table(getvariable('lake_replay_transfer_links'));
CREATE VIEW replay_link_capacity AS SELECT * FROM lake_table(getvariable('lake_replay_link_capacity'));
