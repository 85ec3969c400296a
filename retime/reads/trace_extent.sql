-- Trace $trace_id's first event start (ns on its own clock: the origin a table's absolute times count
-- from) and its event count.
SELECT start_ns, event_count FROM traces WHERE trace_id = $trace_id;
