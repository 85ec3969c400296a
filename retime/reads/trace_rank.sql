-- One trace and its rank (a trace of no job is a job of one).
SELECT trace_id, rank FROM traces WHERE trace_id = $trace_id;
