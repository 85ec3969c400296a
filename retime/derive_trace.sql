-- The derived rows of trace `trace_id`: gpu_timeline, then gpu_device_time from it (schema.sql
-- says why each table exists). Needs the foundation module gpu (retime/foundation/gpu.sql).
-- The CPU slices (any kind, with a length) on the threads that launch GPU work, each with its
-- depth: how many slices of its thread were open when it started. Sorted by time with ends before
-- starts and longer slices first at one timestamp, the running count of starts minus ends at a
-- start is its depth plus one.
CREATE OR REPLACE TEMP TABLE derived_cpu_slices AS
WITH
slices AS (
    SELECT e.event_id, e.lane_id, e.ts_ns, e.ts_ns + e.dur_ns AS end_ns
    FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    WHERE e.trace_id = getvariable('trace_id') AND l.kind = 'cpu_thread' AND e.dur_ns > 0
      AND e.lane_id IN (SELECT c.lane_id FROM deps d JOIN events c ON c.trace_id = d.trace_id AND c.event_id = d.src_event_id
                        WHERE d.trace_id = getvariable('trace_id') AND d.kind = 'launch')
),
points AS (
    SELECT event_id, lane_id, ts_ns AS t, 1 AS delta, end_ns - ts_ns AS len FROM slices
    UNION ALL
    SELECT event_id, lane_id, end_ns, -1, 0 FROM slices
)
SELECT s.event_id, s.lane_id, s.ts_ns, s.end_ns, p.depth
FROM (SELECT event_id, delta,
             sum(delta) OVER (PARTITION BY lane_id ORDER BY t, delta, len DESC, event_id ROWS UNBOUNDED PRECEDING)::BIGINT - 1 AS depth
      FROM points) p
JOIN slices s USING (event_id)
WHERE p.delta = 1;

-- Each launch call's enclosing slices, outermost first: the latest slice of each shallower depth
-- that started at or before the call on its thread, where it is still open at the call's start.
CREATE OR REPLACE TEMP TABLE derived_call_stacks AS
WITH probes AS (
    SELECT event_id AS call_event_id, lane_id, ts_ns, unnest(range(depth::BIGINT)) AS depth
    FROM derived_cpu_slices
    WHERE depth > 0 AND event_id IN (SELECT src_event_id FROM deps WHERE trace_id = getvariable('trace_id') AND kind = 'launch')
)
SELECT p.call_event_id, list(s.event_id ORDER BY p.depth) AS call_stack
FROM probes p ASOF JOIN derived_cpu_slices s ON s.lane_id = p.lane_id AND s.depth = p.depth AND s.ts_ns <= p.ts_ns
WHERE s.end_ns >= p.ts_ns
GROUP BY p.call_event_id;

-- each GPU op name's class, matched once per distinct name (gpu_class)
CREATE OR REPLACE TEMP TABLE derived_gpu_names AS
SELECT kind, name, gpu_class(kind, coalesce(name, '')) AS class
FROM (SELECT DISTINCT kind, name FROM events
      WHERE trace_id = getvariable('trace_id') AND kind IN ('kernel', 'collective', 'memcpy', 'memset'));

INSERT INTO gpu_timeline
WITH launch AS (
    SELECT d.dst_event_id AS event_id, arg_max(c.event_id, c.ts_ns) AS call_event_id,
           arg_max(c.name, c.ts_ns) AS call_name, max(c.ts_ns) AS call_ts_ns
    FROM deps d JOIN events c ON c.trace_id = d.trace_id AND c.event_id = d.src_event_id
    WHERE d.trace_id = getvariable('trace_id') AND d.kind = 'launch'
    GROUP BY d.dst_event_id
)
SELECT e.trace_id, e.event_id, e.kind, e.name, class_resource(c.class), l.device, l.stream, e.ts_ns, e.ts_ns + e.dur_ns,
       launch.call_event_id, launch.call_name, launch.call_ts_ns, stacks.call_stack
FROM events e
JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
LEFT JOIN launch USING (event_id)
LEFT JOIN derived_call_stacks stacks USING (call_event_id)
JOIN derived_gpu_names c ON c.kind = e.kind AND c.name IS NOT DISTINCT FROM e.name
WHERE e.trace_id = getvariable('trace_id') AND e.kind IN ('kernel', 'collective', 'memcpy', 'memset')
  AND e.dur_ns IS NOT NULL
ORDER BY l.device, e.ts_ns, e.event_id;

INSERT INTO gpu_device_time
SELECT getvariable('trace_id'), device, span_ns, compute_ns, comm_overlapped_ns, comm_exposed_ns, memory_only_ns, busy_ns
FROM (SELECT lane_device AS device, max(end_ns) - min(ts_ns) AS span_ns FROM gpu_spans(getvariable('trace_id')) GROUP BY 1)
JOIN gpu_time_split(getvariable('trace_id')) USING (device);

DROP TABLE derived_cpu_slices;
DROP TABLE derived_call_stacks;
DROP TABLE derived_gpu_names;
