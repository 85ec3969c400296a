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
SELECT call_name AS call, kind AS op_kind, count(*) AS launches,
       quantile_cont(ts_ns - call_ts_ns, 0.5) AS p50_ns, quantile_cont(ts_ns - call_ts_ns, 0.9) AS p90_ns,
       quantile_cont(ts_ns - call_ts_ns, 0.99) AS p99_ns, max(ts_ns - call_ts_ns) AS max_ns,
       round(100.0 * count(*) FILTER (WHERE end_ns - ts_ns < ts_ns - call_ts_ns) / count(*), 2) AS short_op_pct
FROM gpu_timeline  -- each GPU op with the call that launched it (retime/store/sql/schema.sql)
WHERE trace_id = $trace_id AND call_event_id IS NOT NULL
GROUP BY ALL ORDER BY launches DESC, call;
