-- What identifies a trace's replay graph in the cache (retime/replay/cache.py): a trace's content changes
-- after it is stored only when an execution trace linked to it adds its operators' shapes, which
-- moves its storing time, so its id, content hash, size and storing time pin it down.
SELECT trace_id, coalesce(sha256, ''), event_count, ingested_at::VARCHAR FROM traces WHERE trace_id = $trace_id;
