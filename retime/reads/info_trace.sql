-- One trace's row with its span and counts. span_ms: first start to last end of the events a
-- replay moves (trace_spans, retime/foundation/host.sql); recorded_ms: first to last of every event
-- the file holds, the profiler's own markers (Kineto's "Record Window End") included; start_ns and
-- end_ns bound the latter (start_ns is the origin relative times count from).
SELECT t.trace_id, t.job, t.format, t.source_path, t.rank, t.world_size, t.backend, t.gpu_names,
       t.start_ns, t.end_ns, round(s.span_ns / 1e6, 3) AS span_ms, round((t.end_ns - t.start_ns) / 1e6, 3) AS recorded_ms,
       t.event_count AS events,
       (SELECT count(*) FROM lanes l WHERE l.trace_id = t.trace_id) AS lanes,
       (SELECT count(*) FROM deps d WHERE d.trace_id = t.trace_id) AS deps,
       (SELECT count(*) FROM counters c WHERE c.trace_id = t.trace_id) AS counter_samples,
       t.warnings, t.sha256, t.ingested_at, t.parent_trace_id, t.scenario
FROM traces t LEFT JOIN trace_spans() s ON s.trace_id = t.trace_id WHERE t.trace_id = $trace_id;
