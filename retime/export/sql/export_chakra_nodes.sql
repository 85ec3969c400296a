-- The nodes of trace $trace_id as a Chakra execution trace holds them (mlcommons/chakra
-- schema/protobuf/et_def.proto), in start order: every GPU op (kernels and memsets as compute
-- nodes, host-device copies as memory load / store nodes, collectives of a known operation as
-- collective communication nodes) and every host call that launched one (a CPU compute node).
-- Times are the trace's own (a saved replay's are its predicted ones), in µs from its first event.
-- @include comm
WITH
launchers AS (SELECT DISTINCT src_event_id AS event_id FROM deps WHERE trace_id = $trace_id AND kind = 'launch'),
chosen AS (
    SELECT e.event_id, e.lane_id, e.name, e.ts_ns, e.dur_ns, e.kind, e.copy_kind, e.bytes, l.kind = 'gpu_stream' AS on_gpu,
           nccl_curve_op(e.coll_op) AS curve_op, lower(coalesce(e.coll_op, '')) AS coll_op,
           greatest(e.coll_in_nelems, coalesce(e.coll_out_nelems, 0)) * collective_dtype_bytes(e.coll_dtype) AS coll_bytes
    FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    WHERE e.trace_id = $trace_id AND e.dur_ns IS NOT NULL
      AND ((l.kind = 'gpu_stream' AND is_gpu_op(e.kind))
           OR e.event_id IN (SELECT event_id FROM launchers))
)
SELECT c.event_id, c.lane_id, coalesce(c.name, '') AS name, c.on_gpu,
       -- NodeType: COMP_NODE 4, MEM_LOAD_NODE 2, MEM_STORE_NODE 3, COMM_COLL_NODE 7
       CASE WHEN c.kind = 'collective' AND comm_type IS NOT NULL THEN 7
            WHEN c.kind = 'memcpy' AND c.copy_kind = 'H2D' THEN 2
            WHEN c.kind = 'memcpy' AND c.copy_kind = 'D2H' THEN 3
            ELSE 4 END::BIGINT AS node_type,
       -- CollectiveCommType: ALL_REDUCE 0, REDUCE 1, ALL_GATHER 2, GATHER 3, SCATTER 4, BROADCAST 5,
       -- ALL_TO_ALL 6, REDUCE_SCATTER 7, BARRIER 9; -1: none
       coalesce(comm_type, -1)::BIGINT AS comm_type,
       coalesce(CASE WHEN c.kind = 'collective' THEN c.coll_bytes ELSE c.bytes END, -1)::BIGINT AS size_bytes,
       ((c.ts_ns - (SELECT min(ts_ns) FROM chosen)) // 1000)::BIGINT AS start_us,
       ((c.dur_ns + 500) // 1000)::BIGINT AS dur_us
FROM (SELECT *, CASE WHEN kind <> 'collective' THEN NULL
                     WHEN curve_op = 'all_reduce' THEN 0 WHEN curve_op = 'all_gather' THEN 2
                     WHEN curve_op = 'reduce_scatter' THEN 7 WHEN curve_op = 'alltoall' THEN 6
                     WHEN regexp_matches(coll_op, 'broadcast') THEN 5 WHEN regexp_matches(coll_op, '^_?reduce$') THEN 1
                     WHEN regexp_matches(coll_op, 'gather') THEN 3 WHEN regexp_matches(coll_op, 'scatter') THEN 4
                     WHEN regexp_matches(coll_op, 'barrier') THEN 9 END AS comm_type
      FROM chosen) c
ORDER BY c.ts_ns, c.event_id;
