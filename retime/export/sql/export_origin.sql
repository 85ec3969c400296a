-- The clock origin of an export: the trace's first event start, in ns.
SELECT min(ts_ns) FROM events WHERE trace_id = $trace_id;
