-- Every trace in the store, oldest first. span_ms: its span (trace_spans, retime/foundation/host.sql:
-- the first start to the last end of the events a replay moves, not the profiler's own markers).
SELECT t.trace_id, t.job, t.format, t.rank, t.world_size, t.event_count AS events,
       round(s.span_ns / 1e6, 3) AS span_ms, array_to_string(t.gpu_names, ', ') AS gpus,
       len(t.warnings) AS warnings, t.parent_trace_id, t.source_path
FROM traces t LEFT JOIN trace_spans() s USING (trace_id) ORDER BY t.trace_id;
