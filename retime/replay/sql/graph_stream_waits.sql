-- Waits between streams, from Kineto's 'Stream Wait Event' records (cudaStreamWaitEvent): the
-- first op launched on the waiting stream after the wait call depends on the last op launched on
-- the recorded stream before the cudaEventRecord call. Where Kineto could not tell the record call
-- or its stream (-1, as CUPTI leaves them in PyTorch 2.11 traces), the record call is the last
-- cudaEventRecord on the waiting call's thread before it, and the recorded stream is the one whose
-- latest op was launched before that record (torch's wait_stream records and waits back to back).
-- nsys exports carry no such link yet.
CREATE OR REPLACE TEMP TABLE replay_stream_waits AS
WITH
waits AS (
    SELECT l.device, l.stream AS wait_stream,
           nullif(TRY_CAST(json_extract_string(e.args, '$.wait_on_stream') AS BIGINT), -1) AS on_stream,
           nullif(TRY_CAST(json_extract_string(e.args, '$.wait_on_cuda_event_record_corr_id') AS BIGINT), -1) AS record_corr,
           e.correlation AS wait_corr
    FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    WHERE e.trace_id = getvariable('trace_id') AND e.kind = 'sync' AND e.name = 'Stream Wait Event'
),
calls AS (
    SELECT correlation, min(ts_ns) AS ts_ns, min(lane_id) AS lane_id,
           bool_or(name LIKE 'cudaEventRecord%' OR name LIKE 'hipEventRecord%' OR name LIKE 'cuEventRecord%') AS is_record
    FROM events
    WHERE trace_id = getvariable('trace_id') AND kind IN ('runtime', 'driver') AND correlation IS NOT NULL
    GROUP BY correlation
),
records AS (SELECT lane_id, ts_ns FROM calls WHERE is_record),
waited AS (
    SELECT w.device, w.wait_stream, w.on_stream, w.record_corr, wc.ts_ns AS wait_t, wc.lane_id AS wait_lane
    FROM waits w JOIN calls wc ON wc.correlation = w.wait_corr
),
timed AS (
    SELECT w.device, w.wait_stream, w.on_stream, w.wait_t, rc.ts_ns AS record_t
    FROM waited w JOIN calls rc ON rc.correlation = w.record_corr
    UNION ALL
    SELECT w.device, w.wait_stream, w.on_stream, w.wait_t, r.ts_ns AS record_t
    FROM waited w ASOF JOIN records r ON r.lane_id = w.wait_lane AND r.ts_ns <= w.wait_t
    WHERE w.record_corr IS NULL
),
ops AS (
    SELECT l.device, l.stream, g.event_id, g.start_point, g.end_point, g.ts_ns, g.ts_ns + g.dur_ns AS op_end, rl.call_t
    FROM replay_gpu_ops g JOIN lanes l ON l.trace_id = getvariable('trace_id') AND l.lane_id = g.lane_id
    JOIN replay_launches rl ON rl.op_id = g.event_id
),
-- ops launched at one instant (a CUDA graph's) on a stream: the last of them in stream order
-- produces, the first consumes
instants AS (
    SELECT device, stream, call_t,
           arg_max(end_point, {'ts': ts_ns, 'id': event_id}) AS last_end_point, arg_max(op_end, {'ts': ts_ns, 'id': event_id}) AS last_end,
           arg_min(start_point, {'ts': ts_ns, 'id': event_id}) AS first_start_point,
           arg_min(event_id, {'ts': ts_ns, 'id': event_id}) AS first_id, min(ts_ns) AS first_ts
    FROM ops GROUP BY device, stream, call_t
),
streams AS (SELECT DISTINCT device, stream FROM ops),
candidates AS (  -- the recorded stream where known, else every other stream of the device
    SELECT t.*, s.stream AS producer_stream
    FROM timed t JOIN streams s ON s.device = t.device
     AND (s.stream = t.on_stream OR (t.on_stream IS NULL AND s.stream <> t.wait_stream))
),
latest AS (
    SELECT c.*, p.last_end_point AS producer_end_point, p.last_end AS producer_end, p.call_t AS producer_call_t
    FROM candidates c ASOF JOIN instants p ON p.device = c.device AND p.stream = c.producer_stream AND c.record_t > p.call_t
),
producers AS (
    SELECT arg_max(producer_end_point, {'t': producer_call_t, 'end': producer_end, 'first': -producer_end_point}) AS producer_end_point,
           arg_max(producer_end, {'t': producer_call_t, 'end': producer_end, 'first': -producer_end_point}) AS producer_end,
           device, wait_stream, wait_t
    FROM latest GROUP BY device, wait_stream, wait_t, record_t
)
SELECT DISTINCT pr.producer_end_point, c.first_start_point AS consumer_start_point, c.first_id AS consumer_id,
       c.first_ts - pr.producer_end AS gap
FROM producers pr ASOF JOIN instants c ON c.device = pr.device AND c.stream = pr.wait_stream AND c.call_t > pr.wait_t
WHERE c.first_ts >= pr.producer_end;
