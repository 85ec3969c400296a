-- Iteration time: each ProfilerStep#N window of a trace, with the host and GPU work that started
-- inside it. The step that stands out (slow, or with the GPU mostly idle) is where to look first.
-- @param trace_id BIGINT       trace to analyse
-- @column step VARCHAR         ProfilerStep#N
-- @column start_ns BIGINT
-- @column dur_ns BIGINT        the step's wall time
-- @column cpu_ops BIGINT       CPU operators started in the step
-- @column top_level_cpu_ns BIGINT  time in the step's outermost CPU operators (nesting not double counted)
-- @column gpu_ops BIGINT       kernels, collectives, copies and memsets started in the step
-- @column gpu_busy_pct DOUBLE  GPU op time in the step (summed) as a share of its wall time; NULL without GPU work
-- @empty the trace has no ProfilerStep annotations (torch.profiler without a schedule writes none)
WITH
steps AS (
    SELECT e.name AS step, e.ts_ns AS start_ns, e.dur_ns, e.ts_ns + e.dur_ns AS end_ns, e.lane_id
    FROM events e
    WHERE e.trace_id = $trace_id AND e.kind = 'annotation' AND e.name LIKE 'ProfilerStep#%' AND e.dur_ns IS NOT NULL
),
-- a CPU op is outermost when it starts after every earlier op on its thread has ended (ops sorted by
-- start, longer first, so a parent precedes the children that start with it)
cpu_outer AS (
    SELECT event_id,
           ts_ns >= coalesce(max(ts_ns + dur_ns) OVER (PARTITION BY lane_id ORDER BY ts_ns, dur_ns DESC, event_id
                                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), ts_ns) AS outermost
    FROM events WHERE trace_id = $trace_id AND kind = 'cpu_op' AND dur_ns IS NOT NULL
),
ops AS (
    SELECT s.step, e.kind, e.dur_ns, coalesce(c.outermost, false) AS outermost
    FROM steps s JOIN events e ON e.trace_id = $trace_id AND e.ts_ns >= s.start_ns AND e.ts_ns < s.end_ns
    LEFT JOIN cpu_outer c ON c.event_id = e.event_id
    WHERE e.kind IN ('cpu_op', 'kernel', 'collective', 'memcpy', 'memset') AND e.dur_ns IS NOT NULL
)
SELECT s.step, s.start_ns, s.dur_ns,
       count(*) FILTER (WHERE o.kind = 'cpu_op') AS cpu_ops,
       coalesce(sum(o.dur_ns) FILTER (WHERE o.kind = 'cpu_op' AND o.outermost), 0)::BIGINT AS top_level_cpu_ns,
       count(*) FILTER (WHERE o.kind <> 'cpu_op') AS gpu_ops,
       round(100.0 * sum(o.dur_ns) FILTER (WHERE o.kind <> 'cpu_op') / s.dur_ns, 2) AS gpu_busy_pct
FROM steps s LEFT JOIN ops o USING (step)
GROUP BY s.step, s.start_ns, s.dur_ns
ORDER BY s.start_ns;
