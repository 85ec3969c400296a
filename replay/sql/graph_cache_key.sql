-- What identifies a trace's replay graph in the cache (replay/cache.py): a trace's content never
-- changes once stored, so its id, content hash, size and storing time pin it down.
SELECT trace_id, coalesce(sha256, ''), event_count, ingested_at::VARCHAR FROM traces WHERE trace_id = $trace_id;
