-- GPU ops, their launches, blocking calls, staged copies and launch back-pressure of trace
-- `trace_id`'s replay graph: the tables retime/replay/sql/graph_edges.sql turns into edges (what each
-- edge class means is said there).

-- one definition of an op's class by name: gpu_class in retime/foundation/gpu.sql, matched once
-- per distinct name
CREATE OR REPLACE TEMP TABLE replay_gpu_names AS
SELECT kind, name_key, gpu_class(kind, name_key) AS class
FROM (SELECT DISTINCT kind, coalesce(name, '') AS name_key FROM replay_events WHERE is_gpu);

CREATE OR REPLACE TEMP TABLE replay_gpu_ops AS
SELECT ev.*, s.point_id AS start_point, en.point_id AS end_point,
       CASE WHEN ev.kind = 'collective' OR c.class = 'communication' THEN 'comm'
            WHEN ev.kind = 'memset' THEN 'memset'
            WHEN ev.kind = 'memcpy' THEN CASE ev.copy_kind WHEN 'H2D' THEN 'h2d' WHEN 'D2H' THEN 'd2h'
                                                           WHEN 'P2P' THEN 'p2p' ELSE 'd2d' END
            WHEN c.class = 'gemm' AND kw.flop_per_byte IS NOT NULL THEN
                 CASE WHEN kw.flop_per_byte < getvariable('ridge_flop_per_byte') / (coalesce(kw.elem, 2) / 2) THEN 'membound'
                      ELSE 'compute' END
            WHEN c.class IN ('gemm', 'attention', 'convolution') THEN 'compute'
            ELSE 'membound' END AS op_class
FROM replay_events ev
JOIN replay_gpu_names c ON c.kind = ev.kind AND c.name_key = coalesce(ev.name, '')
JOIN replay_points s ON s.event_id = ev.event_id AND NOT s.is_end
JOIN replay_points en ON en.event_id = ev.event_id AND en.is_end
LEFT JOIN replay_kernel_work kw ON kw.event_id = ev.event_id
WHERE ev.is_gpu;

CREATE OR REPLACE TEMP TABLE replay_gpu_classes AS
SELECT ev.event_id, c.class FROM replay_events ev JOIN replay_gpu_names c ON c.kind = ev.kind AND c.name_key = coalesce(ev.name, '')
WHERE ev.is_gpu;

CREATE OR REPLACE TEMP TABLE replay_launches AS
SELECT d.src_event_id AS call_id, d.dst_event_id AS op_id, c.ts_ns AS call_t, c.dur_ns AS call_dur,
       cs.point_id AS call_start_point, g.ts_ns AS op_t, g.ts_ns + g.dur_ns AS op_end, g.end_point AS op_end_point
FROM deps d
JOIN replay_events c ON c.event_id = d.src_event_id AND NOT c.is_gpu
JOIN replay_points cs ON cs.event_id = c.event_id AND NOT cs.is_end
JOIN replay_gpu_ops g ON g.event_id = d.dst_event_id
WHERE d.trace_id = getvariable('trace_id') AND d.kind = 'launch';

-- blocking calls: the synchronize family and synchronous copies by name, and any call whose own
-- GPU op finished while it was still running (a pageable cudaMemcpyAsync returns only after
-- its copy is staged: it blocks although its name says async). The work a call waits for is the
-- latest-ending GPU op launched at or before its start (ASOF over launches in call order,
-- carrying the running latest end). A call waited when that work was still running as it began;
-- it returned after that work ended, on one clock. Host and GPU clocks can disagree by a few µs,
-- so the recorded end may come after the return: up to skew_tol_ns (the smallest launch lag in the
-- trace; a GPU clock further ahead of the host would show an op starting before its launch) it is
-- still the wait, with a negative lag (the graph is then ordered topologically, not by time).
-- A synchronize that found the GPU already done still waits for that work under a slower GPU:
-- it returns no earlier than its own measured duration after the work ends (waited = false).
CREATE OR REPLACE TEMP TABLE replay_waits AS
WITH
blocking_names AS (  -- is_blocking_call (retime/foundation/host.sql, as sync_stalls counts them), once per name
    SELECT name FROM (SELECT DISTINCT name FROM replay_events WHERE NOT is_gpu AND kind IN ('runtime', 'driver'))
    WHERE is_blocking_call(name)
),
blocking AS (
    SELECT ev.event_id, ev.ts_ns, ev.ts_ns + ev.dur_ns AS end_t, en.point_id AS end_point,
           ev.name IN (SELECT name FROM blocking_names) AS by_name, sy.sync_stream
    FROM replay_events ev JOIN replay_points en ON en.event_id = ev.event_id AND en.is_end
    LEFT JOIN replay_synced sy ON sy.event_id = ev.event_id
    WHERE NOT ev.is_gpu AND ev.kind IN ('runtime', 'driver')
      AND (ev.name IN (SELECT name FROM blocking_names)
           OR ev.event_id IN (SELECT call_id FROM replay_launches
                              WHERE op_end > call_t AND op_end <= call_t + call_dur))
),
-- the latest-ending op launched so far, on the device (stream_key NULL) and on each stream; ops
-- launched at one instant (a CUDA graph's) all count, and of ops ending at one instant the first point
launched AS (
    SELECT l.call_t, l.op_end, l.op_end_point, ln.stream
    FROM replay_launches l JOIN replay_gpu_ops g ON g.event_id = l.op_id
    JOIN lanes ln ON ln.trace_id = getvariable('trace_id') AND ln.lane_id = g.lane_id
),
running AS (
    SELECT stream_key, call_t, arg_max(op_end_point, {'op_end': op_end, 'first': -op_end_point}) OVER w AS end_point,
           max(op_end) OVER w AS op_end
    FROM (SELECT NULL::BIGINT AS stream_key, * FROM launched UNION ALL SELECT stream AS stream_key, * FROM launched)
    WINDOW w AS (PARTITION BY stream_key ORDER BY call_t RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
skew AS (
    SELECT coalesce(min(op_t - call_t), 0) AS tol FROM replay_launches WHERE op_t >= call_t
),
matched AS (
    SELECT b.*, r.end_point AS gpu_end_point, r.op_end
    FROM blocking b ASOF JOIN running r ON r.stream_key IS NOT DISTINCT FROM b.sync_stream AND b.ts_ns >= r.call_t
)
SELECT event_id, end_point, end_t, gpu_end_point, op_end, op_end > ts_ns AS waited
FROM matched
WHERE (op_end > ts_ns AND op_end <= end_t + (SELECT tol FROM skew))
   OR (by_name AND op_end <= ts_ns);

-- Copies from or to pageable host memory: the driver stages them through pinned buffers, so the
-- call that issued one returns only as the copy nears its end although its name says async (a
-- cudaMemcpyAsync of 64 MiB from pageable memory returned 17 µs before its copy ended on an H100).
-- Its return follows the copy: copy start + copy duration (rescaled with the link) + the measured
-- offset from the copy's end to the return. Calls whose copy ended before they returned are the
-- blocking calls above.
CREATE OR REPLACE TEMP TABLE replay_staged AS
SELECT l.call_id, ce.point_id AS call_end_point, g.start_point, g.dur_ns, g.bytes, g.op_class,
       l.call_t + l.call_dur - l.op_end AS offset_ns, l.op_t AS copy_start
FROM replay_launches l
JOIN replay_gpu_ops g ON g.event_id = l.op_id
JOIN replay_points ce ON ce.event_id = l.call_id AND ce.is_end
WHERE g.kind = 'memcpy' AND 'pageable' IN (g.src_kind, g.dst_kind)
  AND l.op_t >= l.call_t AND l.op_t < l.call_t + l.call_dur AND l.op_end > l.call_t + l.call_dur;

-- Launch back-pressure: a launch call blocks while the device's launch queue is full, and returns
-- when the GPU retires work. Queue depth at a call's start is the ops launched on its device and
-- not yet started (ops whose launch came before the trace window count as launched before it).
-- A device's queue was full when calls near its deepest depth (backpressure_depth_share of it)
-- lasted far longer than launches usually do (backpressure_slow_factor x the median launch call).
-- Then every call at that depth returns after the latest GPU op of the device that ended while it
-- was inside (its measured delay after that end, fixed), and holds only a typical launch call's
-- host time of its own (the median of its name): a GPU that drains faster frees the host sooner.
CREATE OR REPLACE TEMP TABLE replay_backpressure AS
WITH
dev_ops AS (
    SELECT l.device, g.event_id, g.ts_ns, g.ts_ns + g.dur_ns AS op_end, g.end_point, rl.call_t
    FROM replay_gpu_ops g JOIN lanes l ON l.trace_id = getvariable('trace_id') AND l.lane_id = g.lane_id
    LEFT JOIN (SELECT op_id, min(call_t) AS call_t FROM replay_launches GROUP BY op_id) rl ON rl.op_id = g.event_id
),
queue_steps AS (  -- +1 at each launch (before the window where unknown), -1 at each start
    SELECT device AS grp, coalesce(call_t, -9223372036854775807) AS t, 1 AS delta FROM dev_ops
    UNION ALL
    SELECT device, ts_ns, -1 FROM dev_ops
),
queue AS (  -- after every step at an instant (step_levels, retime/foundation/intervals.sql)
    SELECT grp AS device, t, level AS depth FROM step_levels(queue_steps)
),
calls AS (
    SELECT l.call_id, any_value(l.call_t) AS call_t, any_value(l.call_dur) AS call_dur, min(o.device) AS device,
           any_value(ev.name) AS name, any_value(ce.point_id) AS call_end_point
    FROM replay_launches l JOIN dev_ops o ON o.event_id = l.op_id
    JOIN replay_events ev ON ev.event_id = l.call_id
    JOIN replay_points ce ON ce.event_id = l.call_id AND ce.is_end
    WHERE l.call_id NOT IN (SELECT event_id FROM replay_waits) AND l.call_id NOT IN (SELECT call_id FROM replay_staged)
    GROUP BY l.call_id
),
typical AS (SELECT name, median(call_dur)::BIGINT AS typical_dur FROM calls GROUP BY name),
deep AS (
    SELECT c.*, coalesce(q.depth, 0) AS depth, t.typical_dur
    FROM calls c JOIN typical t USING (name) ASOF LEFT JOIN queue q ON q.device = c.device AND q.t < c.call_t
),
full_devices AS (
    SELECT d.device, max_depth FROM deep d
    JOIN (SELECT device, max(depth) AS max_depth FROM deep GROUP BY device) m USING (device)
    WHERE d.depth >= getvariable('backpressure_depth_share') * m.max_depth
    GROUP BY d.device, max_depth
    HAVING bool_or(d.call_dur > getvariable('backpressure_slow_factor') * (SELECT median(call_dur) FROM calls))
),
SELECT d.call_id, d.call_end_point, d.call_t + d.call_dur AS end_t, d.typical_dur, r.end_point AS gpu_end_point,
       r.op_end
FROM deep d JOIN full_devices f ON f.device = d.device
ASOF JOIN (SELECT device, op_end, min(end_point) AS end_point FROM dev_ops GROUP BY device, op_end) r  -- first of ops ending at once
       ON r.device = d.device AND r.op_end <= d.call_t + d.call_dur
WHERE d.depth >= getvariable('backpressure_depth_share') * f.max_depth AND r.op_end > d.call_t;
