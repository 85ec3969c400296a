-- Write the staged events of trace `trace_id` into events, classified into retime's kinds and
-- with the fields analyses need pulled out of args as columns. event_id follows time order.
-- Kinds come from Kineto's categories (lower-cased: 2020-era traces write 'Operator', 'Kernel', ...);
-- other Chrome categories are 'slice'. NCCL/RCCL kernels are 'collective'. A step window,
-- ProfilerStep#N (step_pattern(), retime/foundation/kinds.sql), is an 'annotation' whatever its category (before 2021-09 Kineto wrote it as an
-- 'Operator'): every step query and the replayer see it as today's traces write it.
-- Memcpy direction and memory kinds come from the name Kineto gives copies,
-- e.g. 'Memcpy HtoD (Pageable -> Device)'; memsets from 'Memset (Device)'.
CREATE OR REPLACE TEMP MACRO step_or_op(name) AS
    CASE WHEN regexp_matches(coalesce(name, ''), step_pattern()) THEN 'annotation' ELSE 'cpu_op' END;

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

-- The args fields the reader pulled out (raw.arg_correlation, ...: retime/ingest/kineto_args.toml),
-- typed, for every event but Python stack frames (which carry none of them); a collective kernel
-- without a `Collective name` gets the one its name says.
INSERT INTO events BY NAME
SELECT * REPLACE (coalesce(coll_op, CASE WHEN kind = 'collective' THEN collective_op_from_name(name) END) AS coll_op)
FROM (
    SELECT getvariable('trace_id') AS trace_id, e.event_id, e.lane_id, e.kind, e.phase, r.name, r.cat AS category,
           e.ts_ns, e.dur_ns,
           {arg_columns},
           CASE WHEN e.kind = 'memcpy' THEN
               CASE regexp_extract(r.name, 'Memcpy\s+(\w+)', 1)
                   WHEN 'HtoD' THEN 'H2D' WHEN 'DtoH' THEN 'D2H' WHEN 'DtoD' THEN 'D2D'
                   WHEN 'PtoP' THEN 'P2P' WHEN 'HtoH' THEN 'H2H' END END AS copy_kind,
           CASE WHEN e.kind = 'memcpy' THEN nullif(lower(regexp_extract(r.name, '\((\w+)\s*->\s*(\w+)\)', 1)), '') END AS src_kind,
           CASE WHEN e.kind = 'memcpy' THEN nullif(lower(regexp_extract(r.name, '\((\w+)\s*->\s*(\w+)\)', 2)), '')
                WHEN e.kind = 'memset' THEN nullif(lower(regexp_extract(r.name, 'Memset\s*\((\w+)\)', 1)), '') END AS dst_kind,
           r.args
    FROM staged_events e JOIN raw r ON r.rowid = e.idx
);
