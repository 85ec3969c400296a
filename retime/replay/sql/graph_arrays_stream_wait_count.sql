-- How many cross-stream wait records trace `trace_id` holds (graph_stream_waits.sql reads them).
SELECT count(*) AS n FROM events WHERE trace_id = getvariable('trace_id') AND kind = 'sync' AND name = 'Stream Wait Event';
