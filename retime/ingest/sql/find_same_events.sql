-- A trace stored before $trace_id (just written, in the same transaction) that holds the same
-- events (stored_with_same_events, macros.sql); NULL when there is none.
SELECT stored_with_same_events(t.format, t.rank, t.start_ns, t.end_ns, t.event_count,
                               (SELECT sum(dur_ns) FROM events WHERE trace_id = $trace_id),
                               (SELECT count(*) FROM lanes WHERE trace_id = $trace_id), t.trace_id) AS trace_id
FROM traces t WHERE t.trace_id = $trace_id;
