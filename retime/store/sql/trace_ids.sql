-- Every trace id in the store, oldest first.
SELECT trace_id FROM traces ORDER BY trace_id;
