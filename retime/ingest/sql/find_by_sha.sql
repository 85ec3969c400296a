-- The trace already holding a file with these bytes, if any.
SELECT trace_id FROM traces WHERE sha256 = $sha256 ORDER BY trace_id LIMIT 1;
