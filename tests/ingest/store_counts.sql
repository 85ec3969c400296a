-- The same counts as reference_counts.py, from the store, for one trace.
SELECT
    count(*) FILTER (WHERE phase = 'X') AS x_count,
    coalesce(sum(dur_ns) FILTER (WHERE phase = 'X'), 0) AS x_dur_ns,
    count(*) FILTER (WHERE phase = 'B') AS b_count,
    count(dur_ns) FILTER (WHERE phase = 'B') AS b_closed,
    coalesce(sum(dur_ns) FILTER (WHERE phase = 'B'), 0) AS b_dur_ns,
    count(*) FILTER (WHERE phase IN ('i', 'I', 'R', 'n')) AS instants
FROM events WHERE trace_id = $trace_id;
