-- Edges of the replay graph of trace `trace_id`, each with its measured lag (ns) and the class
-- that says which scenario knob rescales it. At the measured scenario every point's latest
-- incoming edge lands exactly on its measured time, so replaying unchanged hardware reproduces
-- the trace.
--   cpu          host work between consecutive points of a thread (scales with cpu.speed)
--   launch_call  the body of a launching runtime call, cudaLaunchKernel & co (launch.latency)
--   launch       launch call start -> the GPU op starting, for an op that waited for its launch
--                (launch.latency); for an op queued behind earlier work (launched before the
--                op ahead of it on its stream ended), capped at the median of the trace's
--                launch-bound lags, so it follows the stream, not its measured start
--   fixed        not rescaled: a sync call's return after the work it waited for, the gap
--                between back-to-back ops on a stream, an idle gap a hand-off bridges
--   h2d d2h d2d p2p memset compute membound comm   a GPU op's own duration (pcie.h2d, pcie.d2h,
--                hbm, nvlink, hbm, gpu.flops, hbm, net)
-- An edge's lag under a scenario is its rescaled base_lag plus offset_ns (0 except for staged
-- copies): kernels.edge_lag.
-- Blocking calls (device/stream/event synchronize, synchronous memcpy/memset, and calls whose own
-- op finished before they returned) are modelled as waiting for every GPU op launched at or
-- before their start; a stream synchronize whose stream the trace records waits for that stream's
-- ops only (event synchronizes are still taken as device-wide). Waits between
-- streams come from Kineto's cudaStreamWaitEvent records (graph_stream_waits.sql).
-- Roofline: see graph_kernel_work.sql.

-- Hand-offs between CPU threads (fork-join): a thread A that blocks inside a call while another
-- thread B does the work and then wakes it, as the main thread does in loss.backward() while
-- PyTorch's autograd thread runs the backward ops. Seen as: B starts a burst of work (its first
-- event after thread_idle_ns or more idle) within thread_wake_ns after A's last point; A is inside
-- an event and idle meanwhile; A's next point comes after the burst, within thread_wake_ns after
-- B's last point of it, and B then idles for thread_idle_ns or more.
-- Then B's burst starts after A's hand-off point (a0 -> q) and A resumes after B's burst (b -> r),
-- each with its measured wake-up delay; the idle gaps themselves carry no time of their own.
CREATE OR REPLACE TEMP TABLE replay_cpu_points AS
SELECT p.point_id, p.lane_id, p.t, p.is_end, p.event_id,
       sum(CASE WHEN p.is_end THEN -1 ELSE 1 END) OVER w AS depth_after,
       lag(p.point_id) OVER w AS prev_point, lag(p.t) OVER w AS prev_t, lag(p.event_id) OVER w AS prev_event,
       lead(p.point_id) OVER w AS next_point, lead(p.t) OVER w AS next_t
FROM replay_points p WHERE NOT p.is_gpu
WINDOW w AS (PARTITION BY p.lane_id ORDER BY p.point_id);

CREATE OR REPLACE TEMP TABLE replay_handoffs AS
WITH
burst_starts AS (  -- B's first point after being idle (no event open on B, for thread_idle_ns or more)
    SELECT point_id AS q, lane_id AS b_lane, t AS q_t
    FROM replay_cpu_points
    WHERE NOT is_end AND depth_after = 1 AND (prev_t IS NULL OR t - prev_t >= getvariable('thread_idle_ns'))
),
-- where A can be waiting: inside an event, with nothing on A for thread_idle_ns or more after the
-- point (the latest point of A before q has to be one of these, else A was busy or idle)
waits AS (
    SELECT point_id, lane_id, t, next_point, next_t FROM replay_cpu_points
    WHERE depth_after > 0 AND next_t - t >= getvariable('thread_idle_ns')
),
-- where B can have finished a burst: nothing open on B, and B idle for thread_idle_ns or more after
ends AS (
    SELECT point_id, lane_id, t, next_point FROM replay_cpu_points
    WHERE depth_after = 0 AND (next_t IS NULL OR next_t - t >= getvariable('thread_idle_ns'))
),
lanes AS (SELECT DISTINCT lane_id FROM waits),
candidates AS (  -- every other thread A that ever waits
    SELECT s.*, l.lane_id AS a_lane FROM burst_starts s JOIN lanes l ON l.lane_id <> s.b_lane
),
forks AS (
    SELECT c.q, c.q_t, c.b_lane, a.point_id AS a0, a.t AS a0_t, a.next_point AS r, a.next_t AS r_t
    FROM candidates c ASOF JOIN waits a ON a.lane_id = c.a_lane AND a.point_id < c.q
    WHERE c.q_t - a.t <= getvariable('thread_wake_ns') AND a.next_t > c.q_t
),
joins AS (  -- B's last point before A resumes: B idle after it, and A resuming soon after
    SELECT f.*, b.point_id AS b_end, b.t AS b_t
    FROM forks f ASOF JOIN ends b ON b.lane_id = f.b_lane AND b.point_id < f.r
    WHERE b.point_id >= f.q AND (b.next_point IS NULL OR b.next_point > f.r)
      AND f.r_t - b.t <= getvariable('thread_wake_ns')
)
-- one hand-off per burst: the thread that handed it off last
-- (of two at one instant, the first point)
SELECT arg_max(a0, {'t': a0_t, 'first': -a0}) AS a0, q, arg_max(q_t - a0_t, {'t': a0_t, 'first': -a0}) AS wake_lag,
       arg_max(b_end, {'t': a0_t, 'first': -a0}) AS b_end, arg_max(r, {'t': a0_t, 'first': -a0}) AS r,
       arg_max(r_t - b_t, {'t': a0_t, 'first': -a0}) AS resume_lag
FROM joins GROUP BY q;

-- GPU streams: each op after the previous op on its stream. An op is queued when its launch came
-- before the previous op on its stream ended (or is not in the trace): it waited in the stream's
-- queue, so its start follows the stream (the measured gap, the GPU's own time between ops) and
-- not its launch, however long ago that was. An op launched after the stream ran dry is
-- launch-bound: its launch edge binds. Wait-bound: it started within queue_gap_ns after the op it
-- waited for on another stream. A launch recorded after its op started (clock skew) is no
-- constraint. An op that started before the previous one ended overlapped it (programmatic
-- dependent launch, PDL, as Hopper and Blackwell kernels in CUDA graphs do): it starts at its
-- measured offset from the previous op's start, scaled as that op's duration is (overlapped).
CREATE OR REPLACE TEMP TABLE replay_stream AS
SELECT *, prev_end IS NOT NULL AND ts_ns >= prev_end AND (launch_t IS NULL OR launch_t < prev_end) AS own_queued,
       event_id IN (SELECT consumer_id FROM replay_stream_waits WHERE gap < getvariable('queue_gap_ns')) AS wait_bound,
       launch_t IS NOT NULL AS has_launch,
       prev_end IS NOT NULL AND ts_ns < prev_end AS overlapped
FROM (SELECT g.*, lag(g.end_point) OVER w AS prev_end_point, lag(g.ts_ns + g.dur_ns) OVER w AS prev_end,
             lag(g.start_point) OVER w AS prev_start_point, lag(g.ts_ns) OVER w AS prev_ts, lag(g.op_class) OVER w AS prev_class,
             rl.launch_t
      FROM replay_gpu_ops g
      LEFT JOIN (SELECT op_id, min(call_t) AS launch_t FROM replay_launches WHERE op_t >= call_t GROUP BY op_id) rl
             ON rl.op_id = g.event_id
      WINDOW w AS (PARTITION BY g.lane_id ORDER BY g.ts_ns, g.event_id));

CREATE OR REPLACE TEMP TABLE replay_edges AS
WITH
cpu_chain AS (
    SELECT prev_point AS src, point_id AS dst, t, t - prev_t AS base_lag, event_id, is_end, prev_event
    FROM replay_cpu_points
),
handed_off AS (SELECT q AS point_id FROM replay_handoffs UNION SELECT r FROM replay_handoffs),
launch_lags AS (
    SELECT l.op_id, s.start_point, l.call_start_point, l.op_t - l.call_t AS measured_lag,
           NOT (s.own_queued OR s.wait_bound OR s.overlapped) AS launch_bound
    FROM replay_launches l JOIN replay_stream s ON s.event_id = l.op_id
    WHERE l.op_t >= l.call_t
),
typical_launch AS (
    SELECT coalesce(median(measured_lag) FILTER (WHERE launch_bound), min(measured_lag), 0)::BIGINT AS lag_ns
    FROM launch_lags
)
SELECT src, dst, base_lag, edge_class, bytes, offset_ns, backward FROM (
    -- CPU threads; the step into a blocking call's return keeps only the host time before the wait
    SELECT c.src, c.dst,
           CASE WHEN w.event_id IS NOT NULL AND w.waited THEN greatest(0, c.base_lag - greatest(0, w.op_end - (w.end_t - c.base_lag)))
                WHEN bp.call_id IS NOT NULL THEN least(c.base_lag, bp.typical_dur)
                WHEN st.call_id IS NOT NULL THEN greatest(0, least(c.base_lag, st.copy_start - (c.t - c.base_lag)))
                WHEN h.point_id IS NOT NULL THEN 0  -- an idle gap: the hand-off edge times it
                ELSE c.base_lag END AS base_lag,
           CASE WHEN (w.event_id IS NOT NULL AND w.waited) OR h.point_id IS NOT NULL THEN 'fixed'
                WHEN c.is_end AND c.prev_event = c.event_id AND lc.call_id IS NOT NULL THEN 'launch_call'
                ELSE 'cpu' END AS edge_class,
           NULL::BIGINT AS bytes, 0::BIGINT AS offset_ns, false AS backward
    FROM cpu_chain c
    LEFT JOIN replay_waits w ON c.is_end AND w.end_point = c.dst
    LEFT JOIN replay_backpressure bp ON c.is_end AND c.prev_event = c.event_id AND bp.call_end_point = c.dst
    LEFT JOIN replay_staged st ON c.is_end AND st.call_end_point = c.dst
    LEFT JOIN handed_off h ON h.point_id = c.dst
    LEFT JOIN (SELECT DISTINCT call_id FROM replay_launches) lc ON lc.call_id = c.event_id
    WHERE c.src IS NOT NULL
    UNION ALL
    -- blocking call end waits for the GPU work launched before it (clock skew: a negative lag, the
    -- one kind of edge that may point backwards in measured time, as may work ending the instant the
    -- call returns when it sorts after the return: a zero-length op); a synchronize that found the
    -- GPU done returns no sooner than its own duration after that work
    SELECT gpu_end_point, end_point, CASE WHEN waited THEN end_t - op_end ELSE end_t - ev.ts_ns END, 'fixed', NULL, 0,
           waited AND op_end >= end_t
    FROM replay_waits JOIN replay_events ev USING (event_id)
    UNION ALL
    -- a launch call held by a full launch queue returns after the GPU retires an op (which may end
    -- the instant the call returns, as above)
    SELECT gpu_end_point, call_end_point, end_t - op_end, 'fixed', NULL, 0, op_end >= end_t FROM replay_backpressure
    UNION ALL
    -- hand-offs between threads: B's burst after A's hand-off, A's return after B's burst
    SELECT a0, q, wake_lag, 'cpu', NULL, 0, false FROM replay_handoffs
    UNION ALL
    SELECT b_end, r, resume_lag, 'cpu', NULL, 0, false FROM replay_handoffs
    UNION ALL
    -- a staged copy's call returns as the copy ends (offset: usually a little before)
    SELECT start_point, call_end_point, dur_ns, op_class, bytes, offset_ns, false FROM replay_staged
    UNION ALL
    -- GPU op durations
    SELECT start_point, end_point, dur_ns, op_class, bytes, 0, false FROM replay_gpu_ops
    UNION ALL
    -- stream order: a queued op keeps its measured gap, so does an op with no usable launch edge;
    -- after a launch-bound gap the op follows its launch instead
    SELECT prev_end_point, start_point,
           CASE WHEN own_queued OR (NOT has_launch AND NOT wait_bound) THEN ts_ns - prev_end ELSE 0 END, 'fixed', NULL, 0, false
    FROM replay_stream WHERE prev_end_point IS NOT NULL AND ts_ns >= prev_end
    UNION ALL
    -- an op overlapping the previous one on its stream (PDL) starts at its offset from that op's
    -- start, rescaled with that op's duration
    SELECT prev_start_point, start_point, ts_ns - prev_ts, prev_class, NULL, 0, false
    FROM replay_stream WHERE overlapped
    UNION ALL
    -- cross-stream waits: the measured gap when the wait bound the op, else only the ordering
    SELECT producer_end_point, consumer_start_point, CASE WHEN gap < getvariable('queue_gap_ns') THEN gap ELSE 0 END,
           'fixed', NULL, 0, false
    FROM replay_stream_waits
    UNION ALL
    -- launches
    SELECT call_start_point, start_point,
           CASE WHEN launch_bound THEN measured_lag ELSE least(measured_lag, (SELECT lag_ns FROM typical_launch)) END,
           'launch', NULL, 0, false
    FROM launch_lags
)
WHERE src < dst OR (backward AND src <> dst);
