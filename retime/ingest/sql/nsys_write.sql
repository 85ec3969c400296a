-- Lanes, events and launch edges of trace `trace_id` from nsys_staged.
-- GPU lanes are (device, stream) as Kineto writes them (pid = device, tid = stream); CPU lanes are
-- the process's threads, pid and tid unpacked from globalTid.
CREATE OR REPLACE TEMP TABLE nsys_lanes AS
WITH keys AS (
    SELECT lane_key, any_value(lane_class) AS lane_class, any_value(device) AS device, any_value(stream) AS stream,
           any_value(globalTid) AS globalTid
    FROM nsys_staged WHERE valid GROUP BY lane_key
)
SELECT (row_number() OVER (ORDER BY lane_class DESC, device, stream, globalTid) - 1)::INTEGER AS lane_id,
       lane_key, lane_class, device, stream, globalTid,
       CASE lane_class WHEN 'gpu' THEN 'gpu_stream' ELSE 'cpu_thread' END AS kind,
       CASE lane_class WHEN 'gpu' THEN device::VARCHAR ELSE ((globalTid >> 24) & 16777215)::VARCHAR END AS pid,
       CASE lane_class WHEN 'gpu' THEN stream::VARCHAR ELSE (globalTid & 16777215)::VARCHAR END AS tid,
       CASE lane_class WHEN 'gpu' THEN 'stream ' || stream
            ELSE (SELECT any_value(s.value) FROM nsys_ThreadNames t JOIN nsys_StringIds s ON s.id = t.nameId
                  WHERE t.globalTid = keys.globalTid) END AS name
FROM keys;

INSERT INTO lanes BY NAME
SELECT getvariable('trace_id') AS trace_id, lane_id, kind, pid, tid,
       CASE WHEN lane_class = 'gpu' THEN device::INTEGER END AS device,
       CASE WHEN lane_class = 'gpu' THEN stream END AS stream,
       (SELECT process_name FROM nsys_procs WHERE globalPid = getvariable('nsys_gpid')) AS process_name, name
FROM nsys_lanes;

-- event ids in time order (ties in the report's table order, then rowid), numbered on the few
-- columns the numbering needs; the INSERT reads the view's whole rows once, by (branch, src_rowid)
CREATE OR REPLACE TEMP TABLE nsys_events AS
SELECT s.branch, s.src_rowid, l.lane_id, s.kind, s.correlation, s."start", s."end",
       (row_number() OVER (ORDER BY s."start", l.lane_id, s.branch, s.src_rowid) - 1) AS event_id
FROM nsys_staged s JOIN nsys_lanes l USING (lane_key) WHERE s.valid;

INSERT INTO events BY NAME  -- the columns not named here are NULL
SELECT getvariable('trace_id') AS trace_id, i.event_id, i.lane_id, s.kind, CASE s.kind WHEN 'instant' THEN 'i' ELSE 'X' END AS phase,
       s.name, s.category, getvariable('time_base_ns') + s."start" AS ts_ns, s."end" - s."start" AS dur_ns, s.correlation,
       s.device::INTEGER AS device, s.stream, s.bytes, s.copy_kind, s.src_kind, s.dst_kind,
       CASE WHEN s.kind = 'collective' THEN collective_op_from_name(s.name) END AS coll_op, s.args
FROM nsys_staged s JOIN nsys_events i ON i.branch = s.branch AND i.src_rowid = s.src_rowid;

-- Correlation ids are unique within a process, and this trace is one process. Some exports record
-- one call twice at two layers under one correlation id (nsys 2022.2: 'cudaLaunchKernel' around
-- 'cudaLaunchKernel_v7000'); the innermost record is the launch.
INSERT INTO deps BY NAME
SELECT getvariable('trace_id') AS trace_id, c.event_id AS src_event_id, g.event_id AS dst_event_id, 'launch' AS kind
FROM (SELECT correlation, arg_max(event_id, "start") AS event_id FROM nsys_events
      WHERE kind IN ('runtime', 'driver') AND correlation IS NOT NULL GROUP BY correlation) c
JOIN nsys_events g ON g.correlation = c.correlation
WHERE is_gpu_op(g.kind);
