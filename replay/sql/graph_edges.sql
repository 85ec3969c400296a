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
-- streams come from Kineto's cudaStreamWaitEvent records (replay_stream_waits below).
-- Roofline: each kernel's arithmetic intensity (FLOP per byte) and compute roof, where the trace
-- records the shapes of the operator that launched it (torch.profiler with record_shapes=True), as
-- kernel_work (retime/foundation/ops.sql) gives them to the roofline queries. GEMM kernels below the
-- GPU's ridge point (ridge_flop_per_byte: peak FLOP/s over HBM B/s, from the trace's GPU preset;
-- halved for 4-byte types) are memory-bound and follow `hbm`; the rest follow `gpu.flops`. The
-- per-kernel model of --to reads every kernel's intensity and roof (graph_arrays_gpu_classes.sql).
CREATE OR REPLACE TEMP TABLE replay_kernel_work AS
SELECT kernel_id AS event_id, flops / bytes AS flop_per_byte, dtype_bytes(dtype) AS elem,
       roof_type(dtype, tensor, tf32) AS roof
FROM kernel_work(getvariable('trace_id'))  -- the work the roofline queries use (retime/foundation/ops.sql)
WHERE bytes > 0;

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
-- the stream a stream synchronize waited on: its 'Stream Sync' record (Kineto's cuda_sync events,
-- nsys's SYNCHRONIZATION rows) sits on that stream's lane with the call's correlation id. Matched
-- by stream number: an nsys rank's records can sit on another device's lane of the same stream.
synced AS (
    SELECT c.event_id, any_value(sl.stream) AS sync_stream
    FROM events s JOIN lanes sl ON sl.trace_id = s.trace_id AND sl.lane_id = s.lane_id
    JOIN events c ON c.trace_id = s.trace_id AND c.correlation = s.correlation
    WHERE s.trace_id = getvariable('trace_id') AND s.kind = 'sync' AND s.name = 'Stream Sync'
      AND c.kind IN ('runtime', 'driver') AND s.correlation IS NOT NULL
    GROUP BY c.event_id
),
blocking AS (
    SELECT ev.event_id, ev.ts_ns, ev.ts_ns + ev.dur_ns AS end_t, en.point_id AS end_point,
           ev.name IN (SELECT name FROM blocking_names) AS by_name, sy.sync_stream
    FROM replay_events ev JOIN replay_points en ON en.event_id = ev.event_id AND en.is_end
    LEFT JOIN synced sy ON sy.event_id = ev.event_id
    WHERE NOT ev.is_gpu AND ev.kind IN ('runtime', 'driver')
      AND (ev.name IN (SELECT name FROM blocking_names)
           OR ev.event_id IN (SELECT call_id FROM replay_launches
                              WHERE op_end > call_t AND op_end <= call_t + call_dur))
),
-- the latest-ending op launched so far, on the device (stream_key NULL) and on each stream
launched AS (
    SELECT l.call_t, l.op_end, l.op_end_point, ln.stream
    FROM replay_launches l JOIN replay_gpu_ops g ON g.event_id = l.op_id
    JOIN lanes ln ON ln.trace_id = getvariable('trace_id') AND ln.lane_id = g.lane_id
),
running AS (
    SELECT stream_key, call_t, arg_max(op_end_point, op_end) OVER w AS end_point, max(op_end) OVER w AS op_end
    FROM (SELECT NULL::BIGINT AS stream_key, * FROM launched UNION ALL SELECT stream AS stream_key, * FROM launched)
    WINDOW w AS (PARTITION BY stream_key ORDER BY call_t, op_end ROWS UNBOUNDED PRECEDING)
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
    SELECT device, coalesce(call_t, -9223372036854775807) AS t, 1 AS step FROM dev_ops
    UNION ALL
    SELECT device, ts_ns, -1 FROM dev_ops
),
queue AS (
    SELECT device, t, sum(step) OVER (PARTITION BY device ORDER BY t, step ROWS UNBOUNDED PRECEDING) AS depth
    FROM queue_steps
),
calls AS (
    SELECT l.call_id, any_value(l.call_t) AS call_t, any_value(l.call_dur) AS call_dur, any_value(o.device) AS device,
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
ASOF JOIN dev_ops r ON r.device = d.device AND r.op_end <= d.call_t + d.call_dur
WHERE d.depth >= getvariable('backpressure_depth_share') * f.max_depth AND r.op_end > d.call_t;

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
    SELECT correlation, min(ts_ns) AS ts_ns, any_value(lane_id) AS lane_id,
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
streams AS (SELECT DISTINCT device, stream FROM ops),
candidates AS (  -- the recorded stream where known, else every other stream of the device
    SELECT t.*, s.stream AS producer_stream
    FROM timed t JOIN streams s ON s.device = t.device
     AND (s.stream = t.on_stream OR (t.on_stream IS NULL AND s.stream <> t.wait_stream))
),
latest AS (
    SELECT c.*, p.end_point AS producer_end_point, p.op_end AS producer_end, p.call_t AS producer_call_t
    FROM candidates c ASOF JOIN ops p ON p.device = c.device AND p.stream = c.producer_stream AND c.record_t > p.call_t
),
producers AS (
    SELECT arg_max(producer_end_point, producer_call_t) AS producer_end_point, max_by(producer_end, producer_call_t) AS producer_end,
           device, wait_stream, wait_t
    FROM latest GROUP BY device, wait_stream, wait_t, record_t
)
SELECT DISTINCT pr.producer_end_point, c.start_point AS consumer_start_point, c.event_id AS consumer_id,
       c.ts_ns - pr.producer_end AS gap
FROM producers pr ASOF JOIN ops c ON c.device = pr.device AND c.stream = pr.wait_stream AND c.call_t > pr.wait_t
WHERE c.ts_ns >= pr.producer_end;

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
SELECT arg_max(a0, a0_t) AS a0, q, arg_max(q_t - a0_t, a0_t) AS wake_lag,
       arg_max(b_end, a0_t) AS b_end, arg_max(r, a0_t) AS r, arg_max(r_t - b_t, a0_t) AS resume_lag
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
    -- one kind of edge that may point backwards in measured time); a synchronize that found the GPU
    -- done returns no sooner than its own duration after that work
    SELECT gpu_end_point, end_point, CASE WHEN waited THEN end_t - op_end ELSE end_t - ev.ts_ns END, 'fixed', NULL, 0,
           waited AND op_end > end_t
    FROM replay_waits JOIN replay_events ev USING (event_id)
    UNION ALL
    -- a launch call held by a full launch queue returns after the GPU retires an op
    SELECT gpu_end_point, call_end_point, end_t - op_end, 'fixed', NULL, 0, false FROM replay_backpressure
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
