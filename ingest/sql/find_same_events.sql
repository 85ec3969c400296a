-- A trace stored before $trace_id (just written, in the same transaction) that holds the same
-- events: the same format, rank, first and last event, event count, lanes and summed durations.
-- Another file of one trace (re-compressed, re-indented, copied under another name) has other
-- bytes but these; NULL when there is none.
WITH new AS (SELECT * FROM traces WHERE trace_id = $trace_id),
candidates AS (
    SELECT o.trace_id FROM traces o, new n
    WHERE o.trace_id <> n.trace_id AND o.format = n.format AND o.format <> 'replay'
      AND o.rank IS NOT DISTINCT FROM n.rank AND o.start_ns = n.start_ns AND o.end_ns = n.end_ns
      AND o.event_count = n.event_count
),
totals AS (
    SELECT trace_id, sum(dur_ns) AS dur_ns FROM events
    WHERE trace_id IN (SELECT trace_id FROM candidates UNION ALL SELECT $trace_id) GROUP BY trace_id
),
lanes_of AS (
    SELECT trace_id, count(*) AS lanes FROM lanes
    WHERE trace_id IN (SELECT trace_id FROM candidates UNION ALL SELECT $trace_id) GROUP BY trace_id
)
SELECT min(c.trace_id) AS trace_id
FROM candidates c
JOIN totals t ON t.trace_id = c.trace_id JOIN totals tn ON tn.trace_id = $trace_id AND tn.dur_ns IS NOT DISTINCT FROM t.dur_ns
JOIN lanes_of l ON l.trace_id = c.trace_id JOIN lanes_of ln ON ln.trace_id = $trace_id AND ln.lanes = l.lanes;
