-- Write the staged events of trace `trace_id` into events, classified into retime's kinds and
-- with the fields analyses need pulled out of args as columns. event_id follows time order.
-- Kinds come from Kineto's categories (lower-cased: 2020-era traces write 'Operator', 'Kernel', ...);
-- other Chrome categories are 'slice'. NCCL/RCCL kernels are 'collective'. A step window,
-- ProfilerStep#N, is an 'annotation' whatever its category (before 2021-09 Kineto wrote it as an
-- 'Operator'): every step query and the replayer see it as today's traces write it.
-- Memcpy direction and memory kinds come from the name Kineto gives copies,
-- e.g. 'Memcpy HtoD (Pageable -> Device)'; memsets from 'Memset (Device)'.
CREATE OR REPLACE TEMP MACRO step_or_op(name) AS
    CASE WHEN regexp_full_match(coalesce(name, ''), 'ProfilerStep#[0-9]+') THEN 'annotation' ELSE 'cpu_op' END;

CREATE OR REPLACE TEMP TABLE staged_events AS
WITH kinded AS (
    SELECT s.idx, s.phase, s.ts_ns, s.dur_ns, l.lane_id,
           CASE WHEN s.phase IN ('i', 'I', 'R', 'n') THEN 'instant'
                WHEN s.phase IN ('b', 'S') THEN 'async'
                ELSE CASE lower(coalesce(r.cat, ''))
                    WHEN 'cpu_op' THEN step_or_op(r.name) WHEN 'operator' THEN step_or_op(r.name)
                    WHEN 'python_function' THEN 'python'
                    WHEN 'user_annotation' THEN 'annotation'
                    WHEN 'gpu_user_annotation' THEN 'gpu_annotation'
                    WHEN 'cuda_runtime' THEN 'runtime' WHEN 'runtime' THEN 'runtime'
                    WHEN 'cuda_driver' THEN 'driver' WHEN 'driver' THEN 'driver'
                    WHEN 'kernel' THEN CASE WHEN is_collective_kernel(r.name) THEN 'collective' ELSE 'kernel' END
                    WHEN 'gpu_memcpy' THEN 'memcpy' WHEN 'memcpy' THEN 'memcpy'
                    WHEN 'gpu_memset' THEN 'memset' WHEN 'memset' THEN 'memset'
                    WHEN 'cuda_sync' THEN 'sync'
                    WHEN 'trace' THEN 'profiler' WHEN 'overhead' THEN 'profiler' WHEN 'cuda_profiler_range' THEN 'profiler'
                    ELSE 'slice' END
           END AS kind
    FROM staged s
    JOIN staged_lanes l ON l.pid = s.pid AND l.track = s.track
    JOIN raw r ON r.rowid = s.idx
)
SELECT (row_number() OVER (ORDER BY ts_ns, lane_id, idx) - 1) AS event_id, idx, lane_id, kind, phase, ts_ns, dur_ns
FROM kinded;

DROP TABLE staged;

-- The args fields the reader pulled out (raw.arg1 ... arg15), for every event but Python stack
-- frames (which carry none of them).
INSERT INTO events BY NAME
SELECT getvariable('trace_id') AS trace_id, event_id, lane_id, kind, phase, name, cat AS category, ts_ns, dur_ns,
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
       coalesce(a[6], CASE WHEN kind = 'collective' THEN collective_op_from_name(name) END) AS coll_op,
       a[7] AS coll_dtype,
       TRY_CAST(a[8] AS BIGINT) AS coll_in_nelems,
       TRY_CAST(a[9] AS BIGINT) AS coll_out_nelems,
       TRY_CAST(a[10] AS INTEGER) AS coll_group_size,
       a[11] AS coll_pg_name,
       a[12] AS coll_pg_desc,
       a[13] AS coll_pg_ranks,
       TRY_CAST(coalesce(a[14], a[15]) AS BIGINT) AS coll_seq,
       args
FROM (SELECT e.*, r.name, r.cat, r.args,
             CASE WHEN e.kind <> 'python' THEN [r.arg1, r.arg2, r.arg3, r.arg4, r.arg5, r.arg6, r.arg7, r.arg8, r.arg9,
                                                r.arg10, r.arg11, r.arg12, r.arg13, r.arg14, r.arg15] END AS a
      FROM staged_events e JOIN raw r ON r.rowid = e.idx);
