-- Iteration time: each ProfilerStep#N window of a trace, with the host and GPU work that started
-- inside it (counted in each window it started in, where windows nest). The step that stands out
-- (slow, or with the GPU mostly idle) is where to look first.
-- @include gpu host
-- @param trace_id BIGINT       trace to analyse
-- @param window VARCHAR = step_pattern()   regular expression on annotation names (an NVTX range, a record_function)
-- @column step VARCHAR         the window's name (ProfilerStep#N by default)
-- @column start_ns BIGINT
-- @column dur_ns BIGINT        the step's wall time
-- @column cpu_ops BIGINT       CPU operators started in the step
-- @column top_level_cpu_ns BIGINT  time in the step's outermost CPU operators (nesting not double counted)
-- @column gpu_ops BIGINT       kernels, collectives, copies and memsets started in the step
-- @column gpu_busy_pct DOUBLE  GPU op time in the step (summed) as a share of its wall time; NULL without GPU work
-- @empty the trace has no annotation matching the window pattern (torch.profiler without a schedule writes no ProfilerStep)
WITH
steps AS (  -- retime/foundation/host.sql
    SELECT name AS step, ws AS start_ns, we - ws AS dur_ns, we AS end_ns FROM annotation_windows($trace_id, $window)
),
-- each op counts in every window it started in: time is cut into buckets as wide as the median
-- window, each window lists the buckets it touches, and an op looks up its own bucket (an equality
-- join, then a range check) instead of sorting millions of ops against the windows
width AS (SELECT greatest(median(dur_ns)::BIGINT, 1) AS b FROM steps),
step_buckets AS (
    SELECT s.start_ns, s.end_ns, unnest(range(s.start_ns // w.b, s.end_ns // w.b + 1)) AS bucket
    FROM steps s, width w
),
-- the outermost CPU ops (cpu_top_ops, written with the trace: outermost_cpu_ops in
-- retime/foundation/host.sql) carry the host time; every CPU op counts towards cpu_ops
work AS (
    SELECT kind, ts_ns, 0 AS dur_ns, false AS outermost FROM events
    WHERE trace_id = $trace_id AND kind = 'cpu_op' AND dur_ns IS NOT NULL
    UNION ALL
    SELECT 'cpu_top', ts_ns, dur_ns, true FROM cpu_top_ops WHERE trace_id = $trace_id
    UNION ALL  -- GPU ops need no nesting test (retime/foundation/gpu.sql)
    SELECT kind, ts_ns, end_ns - ts_ns, false FROM gpu_spans($trace_id)
),
per_step AS (
    SELECT b.start_ns,
           count(*) FILTER (WHERE o.kind = 'cpu_op') AS cpu_ops,
           sum(o.dur_ns) FILTER (WHERE o.outermost) AS top_level_cpu_ns,
           count(*) FILTER (WHERE o.kind NOT IN ('cpu_op', 'cpu_top')) AS gpu_ops,
           sum(o.dur_ns) FILTER (WHERE o.kind NOT IN ('cpu_op', 'cpu_top')) AS gpu_ns
    FROM (SELECT o.*, o.ts_ns // w.b AS bucket FROM work o, width w) o JOIN step_buckets b USING (bucket)
    WHERE o.ts_ns >= b.start_ns AND o.ts_ns < b.end_ns
    GROUP BY b.start_ns
)
SELECT s.step, s.start_ns, s.dur_ns,
       coalesce(p.cpu_ops, 0) AS cpu_ops,
       coalesce(p.top_level_cpu_ns, 0)::BIGINT AS top_level_cpu_ns,
       coalesce(p.gpu_ops, 0) AS gpu_ops,
       round(100.0 * p.gpu_ns / s.dur_ns, 2) AS gpu_busy_pct
FROM steps s LEFT JOIN per_step p USING (start_ns)
ORDER BY s.start_ns;
