-- Is each window launch-bound? Per window (ProfilerStep#N by default; any annotation, e.g. an NVTX
-- range, by the `window` pattern): how busy the GPU was, how long it sat idle waiting for the host
-- (an idle gap ended by an op whose launch call started only after the gap began), and how deep the
-- launch queue was (GPU ops launched and not yet finished, seen at each launch call). Verdict:
-- 'launch-bound' when host waits are 25% or more of the window and the median queue depth at a
-- launch is at most 1 (the host never got ahead); 'gpu-bound' when the GPU was busy 90% or more;
-- else 'mixed'; 'no GPU work' for a trace without GPU ops (a CPU-only run). Faster launches or a
-- faster CPU help the first; faster GPU work the second.
-- @include gpu host
-- @param trace_id BIGINT          trace to analyse
-- @param window VARCHAR = ^ProfilerStep#[0-9]+$   regular expression on annotation names
-- @column window VARCHAR
-- @column start_ns BIGINT
-- @column dur_ns BIGINT
-- @column gpu_busy_pct DOUBLE     time some GPU op ran, share of the window (mean over the trace's GPUs)
-- @column host_wait_pct DOUBLE    GPU idle waiting for a launch, share of the window
-- @column launches BIGINT         GPU ops launched in the window
-- @column p50_queue_depth DOUBLE  ops in flight on the device at a launch call, median
-- @column max_queue_depth BIGINT
-- @column verdict VARCHAR         launch-bound | gpu-bound | mixed | no GPU work
-- @empty the trace has no annotation matching the window pattern (torch.profiler without a schedule writes no ProfilerStep)
WITH
windows AS (SELECT name AS window, ws, we FROM annotation_windows($trace_id, $window)),  -- retime/foundation/host.sql
-- busy islands with the busy time before each (retime/foundation/gpu.sql)
islands AS (SELECT * FROM busy_islands_covered($trace_id, ['compute', 'communication', 'memory'])),
launched AS (SELECT * FROM gpu_launches($trace_id)),  -- retime/foundation/gpu.sql
host_waits AS (  -- idle gaps between a device's busy islands whose ending op was launched after the gap began
    SELECT i.device, i.prev_hi AS gap_start, i.lo AS gap_end
    FROM islands i JOIN launched l ON l.device = i.device AND l.ts_ns = i.lo
    WHERE i.prev_hi IS NOT NULL
    GROUP BY ALL HAVING max(l.call_t) >= i.prev_hi
),
-- busy islands and host waits are each disjoint: a window's share of either is what is covered by
-- its end minus what is covered by its start (covered_until, retime/foundation/gpu.sql)
wait_cum AS (
    SELECT device, gap_start AS lo, gap_end AS hi,
           coalesce(sum(gap_end - gap_start) OVER (PARTITION BY device ORDER BY gap_start
                                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before_ns
    FROM host_waits
),
per_device AS (SELECT w.*, d.device FROM windows w, (SELECT DISTINCT device FROM islands) d),
busy AS (  -- with several GPUs in one trace: the mean over its devices
    SELECT w.ws, avg(covered_until(e.before_ns, e.lo, e.hi, w.we) - covered_until(s.before_ns, s.lo, s.hi, w.ws)) AS busy_ns
    FROM per_device w ASOF LEFT JOIN islands s ON s.device = w.device AND s.lo <= w.ws
                      ASOF LEFT JOIN islands e ON e.device = w.device AND e.lo <= w.we
    GROUP BY w.ws
),
waited AS (
    SELECT w.ws, avg(covered_until(e.before_ns, e.lo, e.hi, w.we) - covered_until(s.before_ns, s.lo, s.hi, w.ws))
           AS host_wait_ns
    FROM per_device w ASOF LEFT JOIN wait_cum s ON s.device = w.device AND s.lo <= w.ws
                      ASOF LEFT JOIN wait_cum e ON e.device = w.device AND e.lo <= w.we
    GROUP BY w.ws
),
queue AS (  -- +1 at each launch call, -1 at each op's end: the running sum is the ops in flight (one
            -- pass over all devices: each device's +1s and -1s cancel, so its sum starts at 0)
    SELECT device, t, is_launch, sum(delta) OVER (ORDER BY device, t, delta ROWS UNBOUNDED PRECEDING) AS depth
    FROM (SELECT device, call_t AS t, 1 AS delta, true AS is_launch FROM launched
          UNION ALL SELECT device, end_ns, -1, false FROM launched)
),
depths AS (  -- each launch belongs to the last window that started at or before it, if still open
    SELECT w.ws, count(*) AS launches, median(q.depth) AS p50_depth, max(q.depth) AS max_depth
    FROM (SELECT * FROM queue WHERE is_launch) q ASOF JOIN windows w ON q.t >= w.ws
    WHERE q.t < w.we
    GROUP BY w.ws
)
SELECT w.window, w.ws AS start_ns, w.we - w.ws AS dur_ns,
       round(100.0 * coalesce(b.busy_ns, 0) / (w.we - w.ws), 2) AS gpu_busy_pct,
       round(100.0 * coalesce(h.host_wait_ns, 0) / (w.we - w.ws), 2) AS host_wait_pct,
       coalesce(d.launches, 0) AS launches, d.p50_depth AS p50_queue_depth, d.max_depth AS max_queue_depth,
       CASE WHEN NOT EXISTS (SELECT 1 FROM gpu_timeline WHERE trace_id = $trace_id) THEN 'no GPU work'
            WHEN coalesce(h.host_wait_ns, 0) >= 0.25 * (w.we - w.ws) AND coalesce(d.p50_depth, 0) <= 1 THEN 'launch-bound'
            WHEN coalesce(b.busy_ns, 0) >= 0.9 * (w.we - w.ws) THEN 'gpu-bound'
            ELSE 'mixed' END AS verdict
FROM windows w LEFT JOIN busy b USING (ws) LEFT JOIN waited h USING (ws) LEFT JOIN depths d USING (ws)
ORDER BY w.ws;
