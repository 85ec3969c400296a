-- The events a stored trace holds, as its traces row counts them (which graph build it gets: retime/replay/graph.py).
SELECT event_count FROM traces WHERE trace_id = $trace_id;
