-- Why each GPU stream sat idle between its ops. A gap is 'kernel_wait' when it is shorter than
-- kernel_gap (the back-to-back cost of issuing the next op); otherwise 'host_wait' when the call
-- that launched the next op started only after the gap began (the GPU waited for the CPU to
-- enqueue work); otherwise 'other' (the op was queued but waited on something else: a
-- synchronization, another stream, a dependency).
-- @param trace_id BIGINT              trace to analyse
-- @param kernel_gap BIGINT = 10000    gaps shorter than this (ns) count as kernel_wait
-- @column device INTEGER
-- @column stream BIGINT
-- @column cause VARCHAR              host_wait | kernel_wait | other
-- @column gaps BIGINT
-- @column idle_ns BIGINT
-- @column idle_pct DOUBLE            of the stream's span (first op start to last op end)
-- @empty the trace has no GPU stream with two or more ops
WITH
ops AS (SELECT device, stream, ts_ns, end_ns FROM gpu_timeline WHERE trace_id = $trace_id),
gaps AS (SELECT * FROM gpu_stream_gaps WHERE trace_id = $trace_id),  -- stream_gaps of retime/foundation/gpu.sql, written with the trace
spans AS (SELECT device, stream, max(end_ns) - min(ts_ns) AS span_ns FROM ops GROUP BY ALL)
SELECT g.device, g.stream,
       CASE WHEN gap_ns < $kernel_gap THEN 'kernel_wait'
            WHEN launched_at >= free_since THEN 'host_wait' ELSE 'other' END AS cause,
       count(*) AS gaps, sum(gap_ns)::BIGINT AS idle_ns, round(100.0 * sum(gap_ns) / any_value(s.span_ns), 2) AS idle_pct
FROM gaps g JOIN spans s USING (device, stream)
GROUP BY ALL ORDER BY device, stream, idle_ns DESC;
