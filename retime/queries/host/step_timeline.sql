-- What ran during one step, lane by lane, for a timeline: the CPU operators, runtime calls and
-- annotations of each CPU thread and the kernels, copies and memsets of each GPU stream that
-- overlap the step, clipped to it. The step is the ProfilerStep (or `window` match) named by
-- `step`, else the one of median length. Times are from the step's start.
-- @include host
-- @param trace_id BIGINT            trace to analyse
-- @param window VARCHAR = step_pattern()   annotations that are steps (a regular expression)
-- @param step VARCHAR = ''          the step to show (empty: the step of median length)
-- @param max_events BIGINT = 3000   the longest events kept, for a readable picture
-- @column step VARCHAR              the step shown
-- @column lane VARCHAR              "CPU <tid> <thread name>" or "GPU <device> stream <stream>"
-- @column kind VARCHAR              event kind (cpu_op, runtime, annotation, kernel, memcpy, memset, ...)
-- @column name VARCHAR
-- @column start_ns BIGINT           from the step's start (clipped to it)
-- @column dur_ns BIGINT             inside the step
-- @empty the trace has no window matching `window` (or no step named `step`)
WITH
steps AS (SELECT * FROM annotation_windows($trace_id, $window)),  -- retime/foundation/host.sql
chosen AS (
    SELECT name, ws, we FROM steps
    WHERE name = $step OR ($step = '' AND (we - ws) = (SELECT quantile_disc(we - ws, 0.5) FROM steps))
    ORDER BY ws LIMIT 1
),
inside AS (
    SELECT c.name AS step, l.kind AS lane_kind, l.lane_id,
           CASE WHEN l.kind = 'gpu_stream' THEN 'GPU ' || coalesce(l.device::VARCHAR, '?') || ' stream ' || coalesce(l.stream::VARCHAR, '?')
                ELSE 'CPU ' || coalesce(l.tid, '?') || coalesce(' ' || l.name, '') END AS lane,
           e.kind, e.name, greatest(e.ts_ns, c.ws) - c.ws AS start_ns,
           least(e.ts_ns + e.dur_ns, c.we) - greatest(e.ts_ns, c.ws) AS dur_ns
    FROM chosen c
    JOIN events e ON e.trace_id = $trace_id AND e.ts_ns < c.we AND e.ts_ns + e.dur_ns > c.ws AND e.dur_ns > 0
    JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    WHERE (l.kind = 'cpu_thread' AND e.kind IN ('cpu_op', 'runtime', 'driver', 'annotation', 'python'))
       OR (l.kind = 'gpu_stream' AND is_gpu_op(e.kind))
)
SELECT step, lane, kind, name, start_ns, dur_ns
FROM inside
ORDER BY dur_ns DESC, lane, start_ns, kind, name  -- ties (same length, lane and start: nested ops) in one order run after run
LIMIT $max_events;
