-- How long each combination of GPU work kinds ran at once, per device: compute alone, compute with
-- copies, compute with communication, communication with copies, all three, copies alone, and
-- idle, between the device's first op start and last op end. Unlike temporal_breakdown (which
-- counts an overlap once, in the first of compute > communication > memory), every combination is
-- its own row, so what overlaps what is visible; the rows of a device add up to its span. The
-- same sweep as gpu_time_split (gpu_segments, stored per combination in gpu_overlap). Resources as gpu_timeline.resource
-- (communication: collectives and the kernels kernel_classes.toml names as moving data between GPUs).
-- @param trace_id BIGINT        trace to analyse
-- @column device INTEGER        GPU index
-- @column combination VARCHAR   the kinds running, joined by '+' (compute, communication, memory), or idle
-- @column ns BIGINT             time exactly these ran
-- @column pct_of_span DOUBLE    share of the device's span
-- @empty the trace has no GPU kernels, copies or memsets
WITH
combined AS (
    SELECT device,
           coalesce(nullif(concat_ws('+', CASE WHEN compute THEN 'compute' END, CASE WHEN communication THEN 'communication' END,
                                     CASE WHEN memory THEN 'memory' END), ''), 'idle') AS combination,
           ns
    FROM gpu_overlap  -- gpu_combinations of retime/foundation/gpu.sql, written with the trace, as temporal_breakdown's split
    WHERE trace_id = $trace_id AND ns > 0
)
SELECT c.device, c.combination, c.ns, round(100.0 * c.ns / d.span_ns, 2) AS pct_of_span
FROM combined c JOIN gpu_device_time d ON d.trace_id = $trace_id AND d.device IS NOT DISTINCT FROM c.device
ORDER BY c.device, c.ns DESC, c.combination;
