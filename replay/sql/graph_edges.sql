-- Edges of the replay graph of trace `trace_id`, each with its measured lag (ns) and the class
-- that says which scenario knob rescales it. At the measured scenario every point's latest
-- incoming edge lands exactly on its measured time, so replaying unchanged hardware reproduces
-- the trace.
--   cpu          host work between consecutive points of a thread (scales with cpu.speed)
--   launch_call  the body of a launching runtime call, cudaLaunchKernel & co (launch.latency)
--   launch       launch call start -> the GPU op starting, for an op that waited for its launch
--                (launch.latency); for an op queued behind earlier work, capped at the median of
--                the trace's launch-bound lags, so it follows the stream, not its measured start
--   fixed        not rescaled: a sync call's return after the work it waited for, the gap
--                between back-to-back ops on a stream
--   h2d d2h d2d p2p memset compute membound comm   a GPU op's own duration (pcie.h2d, pcie.d2h,
--                hbm, nvlink, hbm, gpu.flops, hbm, net)
-- Blocking calls (device/stream/event synchronize, synchronous memcpy/memset, and calls whose own
-- op finished before they returned) are modelled as waiting for every GPU op launched at or
-- before their start (stream- and event-specific waits are taken as device-wide). Waits between
-- streams come from Kineto's cudaStreamWaitEvent records (replay_stream_waits below).
CREATE OR REPLACE TEMP TABLE replay_gpu_ops AS
SELECT ev.*, s.point_id AS start_point, en.point_id AS end_point,
       CASE WHEN ev.kind = 'collective' THEN 'comm'
            WHEN ev.kind = 'memset' THEN 'memset'
            WHEN ev.kind = 'memcpy' THEN CASE ev.copy_kind WHEN 'H2D' THEN 'h2d' WHEN 'D2H' THEN 'd2h'
                                                           WHEN 'P2P' THEN 'p2p' ELSE 'd2d' END
            -- one definition of compute-bound: gpu_class in queries/foundation/gpu.sql
            WHEN gpu_class(ev.kind, coalesce(ev.name, '')) IN ('gemm', 'attention', 'convolution') THEN 'compute'
            ELSE 'membound' END AS op_class
FROM replay_events ev
JOIN replay_points s ON s.event_id = ev.event_id AND NOT s.is_end
JOIN replay_points en ON en.event_id = ev.event_id AND en.is_end
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
-- its copy is staged: it blocks although its name says async). A call waited only if that work
-- ended while it was blocked (after it began, before it returned); the waited-for work is the
-- latest-ending GPU op launched at or before its start (ASOF over launches in call order,
-- carrying the running latest end).
CREATE OR REPLACE TEMP TABLE replay_waits AS
WITH
blocking AS (
    SELECT ev.event_id, ev.ts_ns, ev.ts_ns + ev.dur_ns AS end_t, en.point_id AS end_point
    FROM replay_events ev JOIN replay_points en ON en.event_id = ev.event_id AND en.is_end
    WHERE NOT ev.is_gpu AND ev.kind IN ('runtime', 'driver')
      AND (is_blocking_call(ev.name)  -- queries/foundation/host.sql, as sync_stalls counts them
           OR ev.event_id IN (SELECT call_id FROM replay_launches
                              WHERE op_end > call_t AND op_end <= call_t + call_dur))
),
running AS (
    SELECT call_t, arg_max(op_end_point, op_end) OVER w AS end_point, max(op_end) OVER w AS op_end
    FROM replay_launches WINDOW w AS (ORDER BY call_t, op_end ROWS UNBOUNDED PRECEDING)
)
SELECT b.event_id, b.end_point, b.end_t, r.end_point AS gpu_end_point, r.op_end
FROM blocking b ASOF JOIN running r ON b.ts_ns >= r.call_t
WHERE r.op_end > b.ts_ns AND r.op_end <= b.end_t;

-- Waits between streams, from Kineto's 'Stream Wait Event' records (cudaStreamWaitEvent): the
-- first op launched on the waiting stream after the wait call depends on the last op launched on
-- the recorded stream before the cudaEventRecord call. nsys exports carry no such link yet.
CREATE OR REPLACE TEMP TABLE replay_stream_waits AS
WITH
waits AS (
    SELECT l.device, l.stream AS wait_stream,
           TRY_CAST(json_extract_string(e.args, '$.wait_on_stream') AS BIGINT) AS on_stream,
           TRY_CAST(json_extract_string(e.args, '$.wait_on_cuda_event_record_corr_id') AS BIGINT) AS record_corr,
           e.correlation AS wait_corr
    FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    WHERE e.trace_id = getvariable('trace_id') AND e.kind = 'sync' AND e.name = 'Stream Wait Event'
),
calls AS (
    SELECT correlation, min(ts_ns) AS ts_ns FROM events
    WHERE trace_id = getvariable('trace_id') AND kind IN ('runtime', 'driver') AND correlation IS NOT NULL
    GROUP BY correlation
),
timed AS (
    SELECT w.device, w.wait_stream, w.on_stream, rc.ts_ns AS record_t, wc.ts_ns AS wait_t
    FROM waits w JOIN calls rc ON rc.correlation = w.record_corr JOIN calls wc ON wc.correlation = w.wait_corr
),
ops AS (
    SELECT l.device, l.stream, g.event_id, g.start_point, g.end_point, g.ts_ns, g.ts_ns + g.dur_ns AS op_end, rl.call_t
    FROM replay_gpu_ops g JOIN lanes l ON l.trace_id = getvariable('trace_id') AND l.lane_id = g.lane_id
    JOIN replay_launches rl ON rl.op_id = g.event_id
),
producers AS (
    SELECT t.*, p.end_point AS producer_end_point, p.op_end AS producer_end
    FROM timed t ASOF JOIN ops p ON p.device = t.device AND p.stream = t.on_stream AND t.record_t > p.call_t
)
SELECT DISTINCT pr.producer_end_point, c.start_point AS consumer_start_point, c.event_id AS consumer_id,
       c.ts_ns - pr.producer_end AS gap
FROM producers pr ASOF JOIN ops c ON c.device = pr.device AND c.stream = pr.wait_stream AND c.call_t > pr.wait_t
WHERE c.ts_ns >= pr.producer_end;

-- GPU streams: each op after the previous op on its stream. An op is queued when it started within
-- queue_gap_ns after the previous op on its stream ended, and wait-bound when it started that soon
-- after the op it waited for on another stream; then that edge binds it, otherwise its launch does
-- (exactly one binds at measured times). A launch recorded after its op started (clock skew) is no
-- constraint.
CREATE OR REPLACE TEMP TABLE replay_stream AS
SELECT *, prev_end IS NOT NULL AND ts_ns - prev_end >= 0 AND ts_ns - prev_end < getvariable('queue_gap_ns') AS own_queued,
       event_id IN (SELECT consumer_id FROM replay_stream_waits WHERE gap < getvariable('queue_gap_ns')) AS wait_bound,
       event_id IN (SELECT op_id FROM replay_launches WHERE op_t >= call_t) AS has_launch
FROM (SELECT g.*, lag(g.end_point) OVER w AS prev_end_point, lag(g.ts_ns + g.dur_ns) OVER w AS prev_end
      FROM replay_gpu_ops g WINDOW w AS (PARTITION BY g.lane_id ORDER BY g.ts_ns, g.event_id));

CREATE OR REPLACE TEMP TABLE replay_edges AS
WITH
cpu_chain AS (
    SELECT lag(p.point_id) OVER w AS src, p.point_id AS dst, p.t - lag(p.t) OVER w AS base_lag,
           p.event_id, p.is_end, lag(p.event_id) OVER w AS prev_event
    FROM replay_points p WHERE NOT p.is_gpu
    WINDOW w AS (PARTITION BY p.lane_id ORDER BY p.point_id)
),
launch_lags AS (
    SELECT l.op_id, s.start_point, l.call_start_point, l.op_t - l.call_t AS measured_lag,
           NOT (s.own_queued OR s.wait_bound) AS launch_bound
    FROM replay_launches l JOIN replay_stream s ON s.event_id = l.op_id
    WHERE l.op_t >= l.call_t
),
typical_launch AS (
    SELECT coalesce(median(measured_lag) FILTER (WHERE launch_bound), min(measured_lag), 0)::BIGINT AS lag_ns
    FROM launch_lags
)
SELECT src, dst, base_lag, edge_class, bytes FROM (
    -- CPU threads
    SELECT c.src, c.dst,
           CASE WHEN w.event_id IS NOT NULL THEN greatest(0, c.base_lag - greatest(0, w.op_end - (w.end_t - c.base_lag)))
                ELSE c.base_lag END AS base_lag,
           CASE WHEN w.event_id IS NOT NULL THEN 'fixed'
                WHEN c.is_end AND c.prev_event = c.event_id AND lc.call_id IS NOT NULL THEN 'launch_call'
                ELSE 'cpu' END AS edge_class,
           NULL::BIGINT AS bytes
    FROM cpu_chain c
    LEFT JOIN replay_waits w ON c.is_end AND w.end_point = c.dst
    LEFT JOIN (SELECT DISTINCT call_id FROM replay_launches) lc ON lc.call_id = c.event_id
    WHERE c.src IS NOT NULL
    UNION ALL
    -- blocking call end waits for the GPU work launched before it
    SELECT gpu_end_point, end_point, greatest(0, end_t - op_end), 'fixed', NULL FROM replay_waits
    UNION ALL
    -- GPU op durations
    SELECT start_point, end_point, dur_ns, op_class, bytes FROM replay_gpu_ops
    UNION ALL
    -- stream order: a queued op keeps its measured gap, so does an op with no usable launch edge;
    -- after a launch-bound gap the op follows its launch instead. Ops overlapping on one stream
    -- (negative gap) get no stream edge.
    SELECT prev_end_point, start_point,
           CASE WHEN own_queued OR (NOT has_launch AND NOT wait_bound) THEN ts_ns - prev_end ELSE 0 END, 'fixed', NULL
    FROM replay_stream WHERE prev_end_point IS NOT NULL AND ts_ns >= prev_end
    UNION ALL
    -- cross-stream waits: the measured gap when the wait bound the op, else only the ordering
    SELECT producer_end_point, consumer_start_point, CASE WHEN gap < getvariable('queue_gap_ns') THEN gap ELSE 0 END,
           'fixed', NULL
    FROM replay_stream_waits
    UNION ALL
    -- launches
    SELECT call_start_point, start_point,
           CASE WHEN launch_bound THEN measured_lag ELSE least(measured_lag, (SELECT lag_ns FROM typical_launch)) END,
           'launch', NULL
    FROM launch_lags
)
WHERE src < dst;
