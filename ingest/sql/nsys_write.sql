-- Lanes, events and launch edges of trace `trace_id` from nsys_staged.
-- GPU lanes are (device, stream) as Kineto writes them (pid = device, tid = stream); CPU lanes are
-- the process's threads, pid and tid unpacked from globalTid.
CREATE OR REPLACE TEMP TABLE nsys_lanes AS
WITH keys AS (
    SELECT DISTINCT lane_class, device, stream, globalTid FROM nsys_staged
)
SELECT (row_number() OVER (ORDER BY lane_class DESC, device, stream, globalTid) - 1)::INTEGER AS lane_id,
       lane_class, device, stream, globalTid,
       CASE lane_class WHEN 'gpu' THEN 'gpu_stream' ELSE 'cpu_thread' END AS kind,
       CASE lane_class WHEN 'gpu' THEN device::VARCHAR ELSE ((globalTid >> 24) & 16777215)::VARCHAR END AS pid,
       CASE lane_class WHEN 'gpu' THEN stream::VARCHAR ELSE (globalTid & 16777215)::VARCHAR END AS tid,
       CASE lane_class WHEN 'gpu' THEN 'stream ' || stream
            ELSE (SELECT any_value(s.value) FROM nsys_ThreadNames t JOIN nsys_StringIds s ON s.id = t.nameId
                  WHERE t.globalTid = keys.globalTid) END AS name
FROM keys;

INSERT INTO lanes
SELECT getvariable('trace_id'), lane_id, kind, pid, tid,
       CASE WHEN lane_class = 'gpu' THEN device::INTEGER END, CASE WHEN lane_class = 'gpu' THEN stream END,
       (SELECT process_name FROM nsys_procs WHERE globalPid = getvariable('nsys_gpid')), name
FROM nsys_lanes;

CREATE OR REPLACE TEMP TABLE nsys_events AS
SELECT (row_number() OVER (ORDER BY s."start", l.lane_id, s.idx) - 1) AS event_id, s.*, l.lane_id
FROM nsys_staged s
JOIN nsys_lanes l ON l.lane_class = s.lane_class AND l.device IS NOT DISTINCT FROM s.device
                 AND l.stream IS NOT DISTINCT FROM s.stream AND l.globalTid IS NOT DISTINCT FROM s.globalTid;

INSERT INTO events
SELECT getvariable('trace_id'), event_id, lane_id, kind, CASE kind WHEN 'instant' THEN 'i' ELSE 'X' END,
       name, category, getvariable('time_base_ns') + "start", "end" - "start", correlation, NULL,
       device::INTEGER, stream, bytes, copy_kind, src_kind, dst_kind,
       CASE WHEN kind = 'collective' THEN nullif(regexp_extract(name, '(?i)(?:nccl|rccl)(?:Dev)?Kernel_([A-Za-z]+)', 1), '') END,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, args
FROM nsys_events;

-- Correlation ids are unique within a process, and this trace is one process. Some exports record
-- one call twice at two layers under one correlation id (nsys 2022.2: 'cudaLaunchKernel' around
-- 'cudaLaunchKernel_v7000'); the innermost record is the launch.
INSERT INTO deps
SELECT getvariable('trace_id'), c.event_id, g.event_id, 'launch'
FROM (SELECT correlation, arg_max(event_id, "start") AS event_id FROM nsys_events
      WHERE kind IN ('runtime', 'driver') AND correlation IS NOT NULL GROUP BY correlation) c
JOIN nsys_events g ON g.correlation = c.correlation
WHERE g.kind IN ('kernel', 'collective', 'memcpy', 'memset');
