-- Lanes, events and launch edges of trace `trace_id` from the staged XPlane events
-- (xplane_staged). GPU lanes are (device, stream) as Kineto writes them (pid = device, tid =
-- stream); CPU lanes are the host plane's lines. An event ending before it starts is dropped.
CREATE OR REPLACE TEMP TABLE xplane_lanes AS
SELECT (row_number() OVER (ORDER BY l.lane_kind = 'cpu_thread', l.device, l.stream, l.lane) - 1)::INTEGER AS lane_id, l.*
FROM xplane_lines l WHERE l.lane IN (SELECT lane FROM xplane_staged WHERE valid);

INSERT INTO lanes BY NAME
SELECT getvariable('trace_id') AS trace_id, lane_id, lane_kind AS kind,
       CASE WHEN device IS NOT NULL THEN device::VARCHAR ELSE plane END AS pid,
       CASE WHEN lane_kind = 'gpu_stream' THEN stream::VARCHAR ELSE line_id::VARCHAR END AS tid,
       device, CASE WHEN lane_kind = 'gpu_stream' THEN stream END AS stream, plane AS process_name, line_name AS name
FROM xplane_lanes;

CREATE OR REPLACE TEMP TABLE xplane_events AS
SELECT (row_number() OVER (ORDER BY s.start_ns, l.lane_id, s.end_ns DESC, s.name) - 1) AS event_id, l.lane_id, s.*
FROM xplane_staged s JOIN xplane_lanes l ON l.lane = s.lane
WHERE s.valid;

INSERT INTO events BY NAME  -- the columns not named here are NULL
SELECT getvariable('trace_id') AS trace_id, event_id, lane_id, kind, 'X' AS phase, name, 'xplane' AS category,
       start_ns AS ts_ns, end_ns - start_ns AS dur_ns, correlation,
       CASE WHEN lane_kind <> 'cpu_thread' THEN device END AS device,
       CASE WHEN lane_kind = 'gpu_stream' THEN stream END AS stream, copy_kind,
       CASE WHEN copy_kind IN ('H2D') THEN 'host' WHEN copy_kind IS NOT NULL THEN 'device' END AS src_kind,
       CASE WHEN copy_kind IN ('D2H') THEN 'host' WHEN copy_kind IS NOT NULL THEN 'device' END AS dst_kind,
       CASE WHEN kind = 'collective' THEN collective_op_from_name(name) END AS coll_op
FROM xplane_events;

-- a host event launched the GPU work that carries its correlation id (the latest to start, if several)
INSERT INTO deps BY NAME
SELECT getvariable('trace_id') AS trace_id, c.event_id AS src_event_id, g.event_id AS dst_event_id, 'launch' AS kind
FROM (SELECT correlation, arg_max(event_id, start_ns) AS event_id FROM xplane_events
      WHERE kind = 'runtime' GROUP BY correlation) c
JOIN xplane_events g ON g.correlation = c.correlation
WHERE is_gpu_op(g.kind);
