-- Lanes of the trace being ingested (variable trace_id), and each staged event's lane.
-- A lane is a GPU stream when GPU activity (kernels, copies, GPU annotations, CUDA sync records)
-- lands on it: Kineto writes those with pid = device and tid = stream ('7' or, before 2021, 'stream 7').
CREATE OR REPLACE TEMP TABLE staged_lanes AS
WITH
tracks AS (
    SELECT pid, track, bool_or(is_async) AS is_async,
           bool_or(lower(cat) IN ('kernel', 'gpu_memcpy', 'memcpy', 'gpu_memset', 'memset',
                                  'gpu_user_annotation', 'cuda_sync')) AS has_gpu_work
    FROM staged GROUP BY pid, track
),
process_names AS (
    SELECT pid, any_value(json_extract_string(args, '$.name')) AS process_name
    FROM raw WHERE ph = 'M' AND name = 'process_name' GROUP BY pid
),
thread_names AS (
    SELECT pid, tid, any_value(json_extract_string(args, '$.name')) AS thread_name
    FROM raw WHERE ph = 'M' AND name = 'thread_name' GROUP BY pid, tid
),
classified AS (
    SELECT t.pid, t.track,
           CASE WHEN t.is_async THEN 'async'
                WHEN t.has_gpu_work THEN 'gpu_stream'
                WHEN TRY_CAST(t.pid AS BIGINT) IS NOT NULL AND TRY_CAST(t.track AS BIGINT) IS NOT NULL THEN 'cpu_thread'
                ELSE 'other' END AS kind,
           p.process_name,
           CASE WHEN t.is_async THEN substr(t.track, 7) ELSE n.thread_name END AS name
    FROM tracks t
    LEFT JOIN process_names p USING (pid)
    LEFT JOIN thread_names n ON n.pid = t.pid AND n.tid = t.track
)
SELECT (row_number() OVER (ORDER BY kind, TRY_CAST(pid AS BIGINT) NULLS LAST, pid,
                                 TRY_CAST(regexp_extract(track, '(-?\d+)\s*$', 1) AS BIGINT) NULLS LAST, track) - 1)::INTEGER AS lane_id,
       kind, pid, track,
       CASE WHEN kind = 'gpu_stream' THEN TRY_CAST(pid AS INTEGER) END AS device,
       CASE WHEN kind = 'gpu_stream' THEN TRY_CAST(regexp_extract(track, '(-?\d+)\s*$', 1) AS BIGINT) END AS stream,
       process_name, name
FROM classified;

INSERT INTO lanes BY NAME
SELECT getvariable('trace_id') AS trace_id, lane_id, kind, pid, CASE WHEN kind = 'async' THEN NULL ELSE track END AS tid,
       device, stream, process_name, name
FROM staged_lanes;
