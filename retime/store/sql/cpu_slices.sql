-- The CPU slices (any kind, with a length) on the threads of trace $trace_id that launch GPU work,
-- sorted for retime/store/nesting.py: by thread, start, the longer first, then event id; is_call marks the
-- launch calls whose stacks are wanted.
WITH calls AS (
    SELECT DISTINCT d.src_event_id AS event_id, c.lane_id
    FROM deps d JOIN events c ON c.trace_id = d.trace_id AND c.event_id = d.src_event_id
    WHERE d.trace_id = $trace_id AND d.kind = 'launch'
)
SELECT e.event_id, e.lane_id, e.ts_ns, e.ts_ns + e.dur_ns AS end_ns, e.event_id IN (SELECT event_id FROM calls) AS is_call
FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
WHERE e.trace_id = $trace_id AND l.kind = 'cpu_thread' AND e.dur_ns > 0
  AND e.lane_id IN (SELECT lane_id FROM calls)
ORDER BY e.lane_id, e.ts_ns, e.dur_ns DESC, e.event_id;
