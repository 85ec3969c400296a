-- Write the staged events of trace `trace_id` into events, classified into retime's kinds and
-- with the fields analyses need pulled out of args as columns. event_id follows time order.
-- Kinds come from Kineto's categories (lower-cased: 2020-era traces write 'Operator', 'Kernel', ...);
-- other Chrome categories are 'slice'. NCCL/RCCL kernels are 'collective'.
-- Memcpy direction and memory kinds come from the name Kineto gives copies,
-- e.g. 'Memcpy HtoD (Pageable -> Device)'; memsets from 'Memset (Device)'.
CREATE OR REPLACE TEMP TABLE staged_events AS
WITH fields AS (
    SELECT s.idx, s.phase, s.ts_ns, s.dur_ns, l.lane_id, r.name, lower(coalesce(r.cat, '')) AS lcat,
           -- one parse of args for all fields; Python stack frames carry none of them
           CASE WHEN lower(coalesce(r.cat, '')) <> 'python_function' THEN
               json_extract_string(r.args, ['$.correlation', '$."External id"', '$.device', '$.stream', '$.bytes',
                                            '$."Collective name"', '$.dtype', '$."In msg nelems"', '$."Out msg nelems"',
                                            '$."Group size"', '$."Process Group Name"', '$."Process Group Description"',
                                            '$."Process Group Ranks"', '$.Seq', '$.seq']) END AS a
    FROM staged s
    JOIN staged_lanes l ON l.pid = s.pid AND l.track = s.track
    JOIN raw r ON r.rowid = s.idx
),
kinded AS (
    SELECT *,
           CASE WHEN phase IN ('i', 'I', 'R', 'n') THEN 'instant'
                WHEN phase IN ('b', 'S') THEN 'async'
                WHEN lcat IN ('cpu_op', 'operator') THEN 'cpu_op'
                WHEN lcat = 'python_function' THEN 'python'
                WHEN lcat = 'user_annotation' THEN 'annotation'
                WHEN lcat = 'gpu_user_annotation' THEN 'gpu_annotation'
                WHEN lcat IN ('cuda_runtime', 'runtime') THEN 'runtime'
                WHEN lcat IN ('cuda_driver', 'driver') THEN 'driver'
                WHEN lcat = 'kernel' AND regexp_matches(name, '^(nccl|rccl|ncclDev)|nccl(Dev)?Kernel', 'i') THEN 'collective'
                WHEN lcat = 'kernel' THEN 'kernel'
                WHEN lcat IN ('gpu_memcpy', 'memcpy') THEN 'memcpy'
                WHEN lcat IN ('gpu_memset', 'memset') THEN 'memset'
                WHEN lcat = 'cuda_sync' THEN 'sync'
                WHEN lcat IN ('trace', 'overhead', 'cuda_profiler_range') THEN 'profiler'
                ELSE 'slice' END AS kind
    FROM fields
)
SELECT (row_number() OVER (ORDER BY ts_ns, lane_id, idx) - 1) AS event_id, idx, lane_id, kind, phase,
       ts_ns, dur_ns,
       TRY_CAST(a[1] AS BIGINT) AS correlation,
       TRY_CAST(a[2] AS BIGINT) AS external_id,
       TRY_CAST(a[3] AS INTEGER) AS device,
       TRY_CAST(a[4] AS BIGINT) AS stream,
       TRY_CAST(a[5] AS BIGINT) AS bytes,
       CASE WHEN kind = 'memcpy' THEN
           CASE regexp_extract(name, 'Memcpy\s+(\w+)', 1)
               WHEN 'HtoD' THEN 'H2D' WHEN 'DtoH' THEN 'D2H' WHEN 'DtoD' THEN 'D2D'
               WHEN 'PtoP' THEN 'P2P' WHEN 'HtoH' THEN 'H2H' END END AS copy_kind,
       CASE WHEN kind = 'memcpy' THEN nullif(lower(regexp_extract(name, '\((\w+)\s*->\s*(\w+)\)', 1)), '') END AS src_kind,
       CASE WHEN kind = 'memcpy' THEN nullif(lower(regexp_extract(name, '\((\w+)\s*->\s*(\w+)\)', 2)), '')
            WHEN kind = 'memset' THEN nullif(lower(regexp_extract(name, 'Memset\s*\((\w+)\)', 1)), '') END AS dst_kind,
       coalesce(a[6], CASE WHEN kind = 'collective'
                           THEN nullif(regexp_extract(name, '(?i)(?:nccl|rccl)(?:Dev)?Kernel_([A-Za-z]+)', 1), '') END) AS coll_op,
       a[7] AS coll_dtype,
       TRY_CAST(a[8] AS BIGINT) AS coll_in_nelems,
       TRY_CAST(a[9] AS BIGINT) AS coll_out_nelems,
       TRY_CAST(a[10] AS INTEGER) AS coll_group_size,
       a[11] AS coll_pg_name,
       a[12] AS coll_pg_desc,
       a[13] AS coll_pg_ranks,
       TRY_CAST(coalesce(a[14], a[15]) AS BIGINT) AS coll_seq
FROM kinded;

DROP TABLE staged;

INSERT INTO events
SELECT getvariable('trace_id'), e.event_id, e.lane_id, e.kind, e.phase, r.name, r.cat, e.ts_ns, e.dur_ns,
       e.correlation, e.external_id, e.device, e.stream, e.bytes, e.copy_kind, e.src_kind, e.dst_kind,
       e.coll_op, e.coll_dtype, e.coll_in_nelems, e.coll_out_nelems, e.coll_group_size, e.coll_pg_name,
       e.coll_pg_desc, e.coll_pg_ranks, e.coll_seq, r.args
FROM staged_events e JOIN raw r ON r.rowid = e.idx
ORDER BY e.event_id;
