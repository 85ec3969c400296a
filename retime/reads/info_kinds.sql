-- One trace's events by kind.
SELECT kind, count(*) AS events, round(sum(dur_ns) / 1e6, 3) AS total_dur_ms,
       count(DISTINCT name) AS distinct_names
FROM events WHERE trace_id = $trace_id
GROUP BY kind ORDER BY events DESC;
