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

-- event ids in time order, numbered on a slim projection (sorting the wide rows costs 2x more)
CREATE OR REPLACE TEMP TABLE nsys_events AS
WITH ids AS (
    SELECT s.rowid AS idx, l.lane_id, (row_number() OVER (ORDER BY s."start", l.lane_id, s.rowid) - 1) AS event_id
    FROM nsys_staged s JOIN nsys_lanes l USING (lane_key) WHERE s.valid
)
SELECT ids.event_id, s.* EXCLUDE (lane_key, valid), ids.lane_id
FROM nsys_staged s JOIN ids ON ids.idx = s.rowid;

INSERT INTO events BY NAME  -- the columns not named here are NULL
SELECT getvariable('trace_id') AS trace_id, event_id, lane_id, kind, CASE kind WHEN 'instant' THEN 'i' ELSE 'X' END AS phase,
       name, category, getvariable('time_base_ns') + "start" AS ts_ns, "end" - "start" AS dur_ns, correlation,
       device::INTEGER AS device, stream, bytes, copy_kind, src_kind, dst_kind,
       CASE WHEN kind = 'collective' THEN collective_op_from_name(name) END AS coll_op, args
FROM nsys_events;

-- Correlation ids are unique within a process, and this trace is one process. Some exports record
-- one call twice at two layers under one correlation id (nsys 2022.2: 'cudaLaunchKernel' around
-- 'cudaLaunchKernel_v7000'); the innermost record is the launch.
INSERT INTO deps BY NAME
SELECT getvariable('trace_id') AS trace_id, c.event_id AS src_event_id, g.event_id AS dst_event_id, 'launch' AS kind
FROM (SELECT correlation, arg_max(event_id, "start") AS event_id FROM nsys_events
      WHERE kind IN ('runtime', 'driver') AND correlation IS NOT NULL GROUP BY correlation) c
JOIN nsys_events g ON g.correlation = c.correlation
WHERE is_gpu_op(g.kind);
