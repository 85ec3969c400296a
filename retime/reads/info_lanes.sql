-- One trace's lanes with their busy time (sum of event durations, nesting counted each time).
SELECT l.lane_id, l.kind, l.pid, l.tid, l.device, l.stream, l.process_name, l.name,
       count(e.event_id) AS events, round(sum(e.dur_ns) / 1e6, 3) AS total_dur_ms
FROM lanes l LEFT JOIN events e ON e.trace_id = l.trace_id AND e.lane_id = l.lane_id
WHERE l.trace_id = $trace_id
GROUP BY ALL ORDER BY l.lane_id;
