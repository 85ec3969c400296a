-- How long each combination of GPU work kinds ran at once, per device: compute alone, compute with
-- copies, compute with communication, communication with copies, all three, copies alone, and
-- idle, between the device's first op start and last op end. Unlike temporal_breakdown (which
-- counts an overlap once, in the first of compute > communication > memory), every combination is
-- its own row, so what overlaps what is visible; the rows of a device add up to its span. The
-- same sweep as gpu_time_split (gpu_segments). Resources as gpu_timeline.resource
-- (communication: collectives and the kernels kernel_classes.toml names as moving data between GPUs).
-- @include gpu
-- @param trace_id BIGINT        trace to analyse
-- @column device INTEGER        GPU index
-- @column combination VARCHAR   the kinds running, joined by '+' (compute, communication, memory), or idle
-- @column ns BIGINT             time exactly these ran
-- @column pct_of_span DOUBLE    share of the device's span
-- @empty the trace has no GPU kernels, copies or memsets
WITH
spans AS (SELECT device, max(end_ns) - min(ts_ns) AS span_ns FROM gpu_timeline WHERE trace_id = $trace_id GROUP BY device),
combined AS (
    SELECT device,
           coalesce(nullif(concat_ws('+', CASE WHEN compute > 0 THEN 'compute' END, CASE WHEN comm > 0 THEN 'communication' END,
                                     CASE WHEN memory > 0 THEN 'memory' END), ''), 'idle') AS combination,
           sum(len) AS ns
    FROM gpu_segments($trace_id)  -- retime/foundation/gpu.sql, as temporal_breakdown's split
    WHERE len > 0
    GROUP BY ALL
)
SELECT device, combination, ns::BIGINT AS ns, round(100.0 * ns / s.span_ns, 2) AS pct_of_span
FROM combined JOIN spans s USING (device)
ORDER BY device, ns DESC, combination;
