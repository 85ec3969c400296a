-- The CPU operators that took the host's time: per operator name (torch.profiler's cpu_op slices,
-- aten:: and module ops), how often it ran and for how long, its time inclusive of the operators
-- it called (so nested operators each count the same interval: aten::linear includes its
-- aten::addmm). The report's first table for a trace with no GPU.
-- @include host
-- @param trace_id BIGINT     trace to analyse
-- @param top_n BIGINT = 30   how many operators to return, by total time
-- @column name VARCHAR       operator name
-- @column calls BIGINT
-- @column total_ns BIGINT    durations summed (inclusive of the operators it called)
-- @column mean_ns BIGINT
-- @column max_ns BIGINT
-- @column span_pct DOUBLE    total_ns as a share of the trace's span (trace_spans: first to last event a replay moves)
-- @empty the trace has no CPU operator slices (a GPU-only or Nsight trace without torch ranges)
SELECT e.name, count(*) AS calls, sum(e.dur_ns)::BIGINT AS total_ns, round(avg(e.dur_ns))::BIGINT AS mean_ns,
       max(e.dur_ns) AS max_ns, round(100.0 * sum(e.dur_ns) / any_value(t.span_ns), 3) AS span_pct
FROM events e JOIN trace_spans() t USING (trace_id)  -- retime/foundation/host.sql
WHERE e.trace_id = $trace_id AND e.kind = 'cpu_op' AND e.dur_ns IS NOT NULL
GROUP BY e.name
ORDER BY total_ns DESC, e.name
LIMIT $top_n;
