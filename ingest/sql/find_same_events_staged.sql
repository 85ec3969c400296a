-- A trace of this store that holds the same events as trace $old_id of the attached staging store
-- (find_same_events.sql's test, across the two): the same format, rank, first and last event,
-- event count, lanes and summed durations. NULL when there is none.
WITH new AS (SELECT * FROM staged.traces WHERE trace_id = $old_id),
candidates AS (
    SELECT o.trace_id FROM traces o, new n
    WHERE o.format = n.format AND o.format <> 'replay'
      AND o.rank IS NOT DISTINCT FROM n.rank AND o.start_ns = n.start_ns AND o.end_ns = n.end_ns
      AND o.event_count = n.event_count
),
totals AS (
    SELECT trace_id, sum(dur_ns) AS dur_ns FROM events WHERE trace_id IN (SELECT trace_id FROM candidates) GROUP BY trace_id
),
lanes_of AS (
    SELECT trace_id, count(*) AS lanes FROM lanes WHERE trace_id IN (SELECT trace_id FROM candidates) GROUP BY trace_id
),
new_totals AS (
    SELECT (SELECT sum(dur_ns) FROM staged.events WHERE trace_id = $old_id) AS dur_ns,
           (SELECT count(*) FROM staged.lanes WHERE trace_id = $old_id) AS lanes
)
SELECT min(c.trace_id) AS trace_id
FROM candidates c JOIN totals t USING (trace_id) JOIN lanes_of l USING (trace_id), new_totals n
WHERE n.dur_ns IS NOT DISTINCT FROM t.dur_ns AND n.lanes = l.lanes;
