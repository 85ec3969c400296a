-- What a job's ranks are: its measured traces (a replay saved from one of them keeps their job name
-- and is no rank of it), or, for a job that no measured trace belongs to (a whole job's replay saved
-- with `retime replay --all-ranks --save`, under a job name of its own), its replayed traces.
-- @arg job_name VARCHAR the job (traces.job)
-- @column trace_id BIGINT
-- @column job VARCHAR
-- @column format VARCHAR
-- @column source_path VARCHAR
-- @column sha256 VARCHAR
-- @column size_bytes BIGINT
-- @column rank INTEGER
-- @column world_size INTEGER
-- @column backend VARCHAR
-- @column gpu_names VARCHAR[]
-- @column device_properties JSON
-- @column distributed_info JSON
-- @column metadata JSON
-- @column time_base_ns BIGINT
-- @column start_ns BIGINT
-- @column end_ns BIGINT
-- @column event_count BIGINT
-- @column warnings VARCHAR[]
-- @column ingested_at TIMESTAMP
-- @column parent_trace_id BIGINT
-- @column scenario JSON
CREATE OR REPLACE TEMP MACRO job_rank_traces(job_name) AS TABLE
SELECT * FROM traces t
WHERE t.job = job_name
  AND (t.format <> 'replay' OR NOT EXISTS (SELECT 1 FROM traces m WHERE m.job = job_name AND m.format <> 'replay'));
