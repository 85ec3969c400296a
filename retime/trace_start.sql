-- When trace $trace_id's first event started (ns on its own clock): the origin a table's absolute times count from.
SELECT start_ns FROM traces WHERE trace_id = $trace_id;
