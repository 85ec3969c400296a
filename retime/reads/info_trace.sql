-- One trace's row with its span and counts.
SELECT trace_id, job, format, source_path, rank, world_size, backend, gpu_names,
       start_ns, end_ns, round((end_ns - start_ns) / 1e6, 3) AS span_ms, event_count AS events,
       (SELECT count(*) FROM lanes l WHERE l.trace_id = t.trace_id) AS lanes,
       (SELECT count(*) FROM deps d WHERE d.trace_id = t.trace_id) AS deps,
       (SELECT count(*) FROM counters c WHERE c.trace_id = t.trace_id) AS counter_samples,
       warnings, sha256, ingested_at, parent_trace_id, scenario
FROM traces t WHERE trace_id = $trace_id;
