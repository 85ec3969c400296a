-- The job a trace belongs to.
SELECT job FROM traces WHERE trace_id = $trace_id;
