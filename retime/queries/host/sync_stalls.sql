-- Time host threads spent blocked in synchronizing calls (device, stream and event synchronize,
-- and synchronous memcpy / memset), per call: where the CPU waited for the GPU.
-- @include host
-- @param trace_id BIGINT     trace to analyse
-- @column call VARCHAR       API name (cudaDeviceSynchronize, cudaStreamSynchronize, cudaMemcpy, hip...)
-- @column calls BIGINT
-- @column blocked_ns BIGINT  durations summed
-- @column max_ns BIGINT
-- @column span_pct DOUBLE    blocked_ns as a share of the trace's span (trace_spans: first to last event a replay moves)
-- @empty the trace has no synchronizing runtime calls
SELECT name AS call, count(*) AS calls, sum(dur_ns)::BIGINT AS blocked_ns, max(dur_ns) AS max_ns,
       round(100.0 * sum(dur_ns) / any_value(t.span_ns), 3) AS span_pct
FROM events e JOIN trace_spans() t USING (trace_id)  -- retime/foundation/host.sql
WHERE e.trace_id = $trace_id AND e.kind IN ('runtime', 'driver')
  AND is_blocking_call(e.name)  -- retime/foundation/host.sql
GROUP BY name ORDER BY blocked_ns DESC;
