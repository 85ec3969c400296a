-- Time from a runtime/driver call starting to the GPU op it launched starting, per call name and
-- op kind: the launch path's latency plus any time the op queued behind earlier work.
-- @param trace_id BIGINT     trace to analyse
-- @column call VARCHAR       runtime / driver API name
-- @column op_kind VARCHAR    kernel | collective | memcpy | memset
-- @column launches BIGINT
-- @column p50_ns DOUBLE
-- @column p90_ns DOUBLE
-- @column p99_ns DOUBLE
-- @column max_ns BIGINT
-- @column short_op_pct DOUBLE  share of launched ops that ran for less than their launch latency
-- @empty the trace has no launch edges (no runtime calls with correlation ids)
SELECT c.name AS call, g.kind AS op_kind, count(*) AS launches,
       quantile_cont(g.ts_ns - c.ts_ns, 0.5) AS p50_ns, quantile_cont(g.ts_ns - c.ts_ns, 0.9) AS p90_ns,
       quantile_cont(g.ts_ns - c.ts_ns, 0.99) AS p99_ns, max(g.ts_ns - c.ts_ns) AS max_ns,
       round(100.0 * count(*) FILTER (WHERE g.dur_ns < g.ts_ns - c.ts_ns) / count(*), 2) AS short_op_pct
FROM deps d
JOIN events c ON c.trace_id = d.trace_id AND c.event_id = d.src_event_id
JOIN events g ON g.trace_id = d.trace_id AND g.event_id = d.dst_event_id
WHERE d.trace_id = $trace_id AND d.kind = 'launch'
GROUP BY ALL ORDER BY launches DESC, call;
