-- Is each window launch-bound? Per window (ProfilerStep#N by default; any annotation, e.g. an NVTX
-- range, by the `window` pattern): how busy the GPU was, how long it sat idle waiting for the host
-- (an idle gap ended by an op whose launch call started only after the gap began), and how deep the
-- launch queue was (GPU ops launched and not yet finished, seen at each launch call). Verdict:
-- 'launch-bound' when host waits are 25% or more of the window and the median queue depth at a
-- launch is at most 1 (the host never got ahead); 'gpu-bound' when the GPU was busy 90% or more;
-- else 'mixed'; 'no GPU work' for a trace without GPU ops (a CPU-only run). Faster launches or a
-- faster CPU help the first; faster GPU work the second.
-- @include gpu host intervals
-- @param trace_id BIGINT          trace to analyse
-- @param window VARCHAR = step_pattern()   regular expression on annotation names
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
-- busy islands with the busy time before each (busy_islands_covered of retime/foundation/gpu.sql, written with the trace)
islands AS (SELECT device, lo, hi, prev_hi, before_ns FROM gpu_busy_islands WHERE trace_id = $trace_id AND resources = 'any'),
launched AS (SELECT * FROM gpu_launches($trace_id)),  -- retime/foundation/gpu.sql
host_waits AS (  -- idle gaps between a device's busy islands whose ending op was launched after the gap began
    SELECT i.device, i.prev_hi AS gap_start, i.lo AS gap_end
    FROM islands i JOIN launched l ON l.device = i.device AND l.ts_ns = i.lo
    WHERE i.prev_hi IS NOT NULL
    GROUP BY ALL HAVING max(l.call_t) >= i.prev_hi
),
-- busy islands and host waits are each disjoint: a window's share of either is what is covered by
-- its end minus what is covered by its start (covered_until, retime/foundation/gpu.sql)
waits AS (SELECT device AS grp, gap_start AS lo, gap_end AS hi FROM host_waits),
wait_cum AS (SELECT grp AS device, lo, hi, before_ns FROM covered_before(waits)),  -- retime/foundation/intervals.sql
-- each window's start (sign -1) and end (+1) on each device, both looked up in one ASOF join
numbered AS MATERIALIZED (SELECT *, row_number() OVER () AS wid FROM windows),  -- one numbering, read twice
ends AS (
    SELECT w.wid, w.ws, d.device, w.ws AS t, -1 AS sign FROM numbered w, (SELECT DISTINCT device FROM islands) d
    UNION ALL
    SELECT w.wid, w.ws, d.device, w.we, 1 FROM numbered w, (SELECT DISTINCT device FROM islands) d
),
busy AS (  -- with several GPUs in one trace: the mean over its devices
    SELECT ws, avg(ns) AS busy_ns
    FROM (SELECT x.ws, x.device, sum(x.sign * covered_until(i.before_ns, i.lo, i.hi, x.t)) AS ns
          FROM ends x ASOF LEFT JOIN islands i ON i.device = x.device AND i.lo <= x.t
          GROUP BY x.wid, x.ws, x.device)
    GROUP BY ws
),
waited AS (
    SELECT ws, avg(ns) AS host_wait_ns
    FROM (SELECT x.ws, x.device, sum(x.sign * covered_until(c.before_ns, c.lo, c.hi, x.t)) AS ns
          FROM ends x ASOF LEFT JOIN wait_cum c ON c.device = x.device AND c.lo <= x.t
          GROUP BY x.wid, x.ws, x.device)
    GROUP BY ws
),
depths AS (  -- each launch (with the ops in flight at it: launch_queue of retime/foundation/gpu.sql, written
             -- with the trace) belongs to the last window that started at or before it, if still open
    SELECT w.ws, count(*) AS launches, median(q.depth) AS p50_depth, max(q.depth) AS max_depth
    FROM (SELECT call_ts_ns AS t, depth FROM gpu_launch_queue WHERE trace_id = $trace_id) q ASOF JOIN windows w ON q.t >= w.ws
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
