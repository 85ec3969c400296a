-- One trace's lanes: their events and busy time, the time covered by at least one of the lane's
-- events (nested and overlapping events counted once: a CPU thread is busy while any slice is open).
WITH
timed AS (
    SELECT lane_id, ts_ns, ts_ns + dur_ns AS end_ns,
           max(ts_ns + dur_ns) OVER (PARTITION BY lane_id ORDER BY ts_ns, dur_ns DESC
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS open_until
    FROM events WHERE trace_id = $trace_id AND dur_ns IS NOT NULL
),
islands AS (  -- runs of events each starting before every earlier one of the lane ended
    SELECT lane_id, ts_ns, end_ns,
           sum((open_until IS NULL OR ts_ns > open_until)::INTEGER) OVER (PARTITION BY lane_id ORDER BY ts_ns, end_ns DESC
                                                                        ROWS UNBOUNDED PRECEDING) AS island
    FROM timed
),
busy AS (
    SELECT lane_id, sum(hi - lo) AS busy_ns
    FROM (SELECT lane_id, island, min(ts_ns) AS lo, max(end_ns) AS hi FROM islands GROUP BY lane_id, island)
    GROUP BY lane_id
)
SELECT l.lane_id, l.kind, l.pid, l.tid, l.device, l.stream, l.process_name, l.name,
       (SELECT count(*) FROM events e WHERE e.trace_id = l.trace_id AND e.lane_id = l.lane_id) AS events,
       round(coalesce(b.busy_ns, 0) / 1e6, 3) AS busy_ms
FROM lanes l LEFT JOIN busy b ON b.lane_id = l.lane_id
WHERE l.trace_id = $trace_id
ORDER BY l.lane_id;
