-- Every trace in the store, oldest first.
SELECT trace_id, job, format, rank, world_size, event_count AS events,
       round((end_ns - start_ns) / 1e6, 3) AS span_ms, array_to_string(gpu_names, ', ') AS gpus,
       len(warnings) AS warnings, parent_trace_id, source_path
FROM traces ORDER BY trace_id;
