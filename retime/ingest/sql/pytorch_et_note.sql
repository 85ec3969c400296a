-- The Kineto trace an execution trace was linked to says so in its warnings, and its ingested_at
-- moves: its events' args changed, so a cached replay graph of it is built again (retime/replay/cache.py).
UPDATE traces SET warnings = list_append(warnings, getvariable('et_note')), ingested_at = now()
WHERE trace_id = getvariable('et_trace_id');
