-- Lanes, events and launch edges of trace `trace_id` from process `rocprof_process`'s records
-- (rocprof_records). GPU lanes are (device, HIP stream) as Kineto writes them (pid = device,
-- tid = stream); CPU lanes are the process's threads. A record ending before it starts is dropped.
CREATE OR REPLACE TEMP TABLE rocprof_mine AS
SELECT r.*, a.device, r.start_ns IS NOT NULL AND r.end_ns >= r.start_ns AS valid
FROM rocprof_records r
LEFT JOIN rocprof_agents a ON a.process = r.process AND a.agent = r.gpu_agent AND a.is_gpu
WHERE r.process = getvariable('rocprof_process');

CREATE OR REPLACE TEMP TABLE rocprof_lanes AS
WITH keys AS (
    SELECT DISTINCT gpu_agent IS NOT NULL AS on_gpu, CASE WHEN gpu_agent IS NOT NULL THEN device END AS device,
           CASE WHEN gpu_agent IS NOT NULL THEN stream END AS stream, CASE WHEN gpu_agent IS NULL THEN thread_id END AS thread_id
    FROM rocprof_mine WHERE valid
)
SELECT (row_number() OVER (ORDER BY on_gpu, device, stream, thread_id) - 1)::INTEGER AS lane_id, *
FROM keys;

INSERT INTO lanes BY NAME  -- no process_name: NULL
SELECT getvariable('trace_id') AS trace_id, lane_id, CASE WHEN on_gpu THEN 'gpu_stream' ELSE 'cpu_thread' END AS kind,
       CASE WHEN on_gpu THEN device::VARCHAR ELSE getvariable('rocprof_pid') END AS pid,
       CASE WHEN on_gpu THEN stream::VARCHAR ELSE thread_id::VARCHAR END AS tid,
       CASE WHEN on_gpu THEN device END AS device, CASE WHEN on_gpu THEN stream END AS stream,
       CASE WHEN on_gpu THEN 'stream ' || stream ELSE 'thread ' || thread_id END AS name
FROM rocprof_lanes;

CREATE OR REPLACE TEMP TABLE rocprof_events AS
SELECT (row_number() OVER (ORDER BY m.start_ns, l.lane_id, m.correlation, m.name) - 1) AS event_id, l.lane_id, m.*
FROM rocprof_mine m
JOIN rocprof_lanes l ON l.on_gpu = (m.gpu_agent IS NOT NULL)
                    AND (CASE WHEN l.on_gpu THEN l.device = m.device AND l.stream = m.stream ELSE l.thread_id = m.thread_id END)
WHERE m.valid;

INSERT INTO events BY NAME  -- the columns not named here are NULL
SELECT getvariable('trace_id') AS trace_id, event_id, lane_id, kind, 'X' AS phase, name, category, start_ns AS ts_ns,
       end_ns - start_ns AS dur_ns, correlation, external_id,
       CASE WHEN gpu_agent IS NOT NULL THEN device END AS device, CASE WHEN gpu_agent IS NOT NULL THEN stream END AS stream,
       bytes, copy_kind, CASE WHEN copy_kind IN ('H2D', 'H2H') THEN 'host' WHEN copy_kind IS NOT NULL THEN 'device' END AS src_kind,
       CASE WHEN copy_kind IN ('D2H', 'H2H') THEN 'host' WHEN copy_kind IS NOT NULL THEN 'device' END AS dst_kind,
       CASE WHEN kind = 'collective' THEN collective_op_from_name(name) END AS coll_op, args
FROM rocprof_events;

-- a HIP runtime call launched the dispatches and copies that carry its correlation id
INSERT INTO deps BY NAME
SELECT getvariable('trace_id') AS trace_id, c.event_id AS src_event_id, g.event_id AS dst_event_id, 'launch' AS kind
FROM rocprof_events c JOIN rocprof_events g ON g.correlation = c.correlation
WHERE c.kind = 'runtime' AND is_gpu_op(g.kind) AND c.correlation IS NOT NULL;
