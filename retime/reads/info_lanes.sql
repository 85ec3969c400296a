-- One trace's lanes: their events and busy time, the time covered by at least one of the lane's
-- events (nested and overlapping events counted once: a CPU thread is busy while any slice is open).
WITH
timed AS (SELECT lane_id AS grp, ts_ns AS s, ts_ns + dur_ns AS e FROM events WHERE trace_id = $trace_id AND dur_ns IS NOT NULL),
busy AS (  -- the lane's islands: runs of events each starting before every earlier one ended (intervals.sql)
    SELECT grp AS lane_id, sum(hi - lo) AS busy_ns FROM interval_union(timed) GROUP BY grp
)
SELECT l.lane_id, l.kind, l.pid, l.tid, l.device, l.stream, l.process_name, l.name,
       (SELECT count(*) FROM events e WHERE e.trace_id = l.trace_id AND e.lane_id = l.lane_id) AS events,
       round(coalesce(b.busy_ns, 0) / 1e6, 3) AS busy_ms
FROM lanes l LEFT JOIN busy b ON b.lane_id = l.lane_id
WHERE l.trace_id = $trace_id
ORDER BY l.lane_id;
