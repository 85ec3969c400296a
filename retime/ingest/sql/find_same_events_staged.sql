-- A trace of this store that holds the same events as trace $old_id of the attached staging store
-- (stored_with_same_events, macros.sql); NULL when there is none.
SELECT stored_with_same_events(t.format, t.rank, t.start_ns, t.end_ns, t.event_count,
                               (SELECT sum(dur_ns) FROM staged.events WHERE trace_id = $old_id),
                               (SELECT count(*) FROM staged.lanes WHERE trace_id = $old_id), NULL) AS trace_id
FROM staged.traces t WHERE t.trace_id = $old_id;
