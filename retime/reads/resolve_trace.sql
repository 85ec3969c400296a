-- Traces a user-typed key names: the id itself, a sha256 prefix (>= 8 chars), or a path ending.
SELECT trace_id FROM traces
WHERE CAST(trace_id AS VARCHAR) = $key
   OR (length($key) >= 8 AND starts_with(sha256, lower($key)))
   OR (NOT regexp_matches($key, '^[0-9]+$') AND (source_path = $key OR ends_with(source_path, '/' || $key)))
ORDER BY trace_id;
