-- @include jobs
-- The collective kernels of a job's rank traces (job_rank_traces: its measured traces, or a saved
-- job replay's), numbered per rank: ranks issue collectives in the same order, so the
-- n-th collective of every rank is taken to be the same collective. The straggler queries and the
-- job replay (retime/replay/sql/job_collectives.sql) both match collectives this way.
-- @arg job_name VARCHAR the job (traces.job)
-- @column rank INTEGER
-- @column trace_id BIGINT
-- @column event_id BIGINT
-- @column ts_ns BIGINT
-- @column coll_op VARCHAR
-- @column seq BIGINT 0-based position on its rank
CREATE OR REPLACE TEMP MACRO collective_arrivals(job_name) AS TABLE
    SELECT t.rank, e.trace_id, e.event_id, e.ts_ns, e.coll_op,
           row_number() OVER (PARTITION BY e.trace_id ORDER BY e.ts_ns, e.event_id) - 1 AS seq
    FROM events e
    JOIN job_rank_traces(job_name) t ON t.trace_id = e.trace_id
    JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    WHERE t.rank IS NOT NULL
      AND e.kind = 'collective' AND l.kind = 'gpu_stream' AND e.dur_ns IS NOT NULL;

-- Bytes per element of a collective's data type as Kineto and PyTorch's NCCL slices name it (NULL
-- where unknown).
-- @arg coll_dtype VARCHAR its element type (events.coll_dtype)
-- @returns BIGINT bytes per element; NULL for an unknown type
CREATE OR REPLACE TEMP MACRO collective_dtype_bytes(coll_dtype) AS
    CASE lower(coalesce(coll_dtype, ''))
        WHEN 'float' THEN 4 WHEN 'float32' THEN 4 WHEN 'int' THEN 4 WHEN 'int32' THEN 4
        WHEN 'half' THEN 2 WHEN 'bfloat16' THEN 2 WHEN 'float16' THEN 2
        WHEN 'double' THEN 8 WHEN 'long' THEN 8 WHEN 'int64' THEN 8 WHEN 'long int' THEN 8
        WHEN 'byte' THEN 1 WHEN 'char' THEN 1 WHEN 'bool' THEN 1 WHEN 'int8' THEN 1 WHEN 'uint8' THEN 1
        WHEN 'unsigned char' THEN 1 WHEN 'signed char' THEN 1 WHEN 'short int' THEN 2
        WHEN 'c10::half' THEN 2 WHEN 'c10::bfloat16' THEN 2
    END;

-- What one rank of a collective moves over the links, in bytes, under the ring algorithm NCCL uses
-- by default: all-reduce 2(n-1)/n of its buffer, all-gather / reduce-scatter / all-to-all (n-1)/n,
-- others (broadcast, reduce, send/recv) the buffer once. NULL where the element count or type is
-- not in the trace. The replayer's absolute `net` bandwidth divides this.
-- @arg coll_op VARCHAR the collective (events.coll_op)
-- @arg coll_dtype VARCHAR its element type (events.coll_dtype)
-- @arg nelems BIGINT elements of its buffer
-- @arg group_size INTEGER ranks taking part
-- @returns BIGINT bytes each rank moves under the ring algorithm
CREATE OR REPLACE TEMP MACRO collective_bus_bytes(coll_op, coll_dtype, nelems, group_size) AS
    (nelems * collective_dtype_bytes(coll_dtype)
     * CASE WHEN coalesce(group_size, 0) < 2 THEN 1.0
            WHEN regexp_matches(lower(coll_op), 'all_?reduce') THEN 2.0 * (group_size - 1) / group_size
            WHEN regexp_matches(lower(coll_op), 'all_?gather|reduce_?scatter|all_?to_?all') THEN 1.0 * (group_size - 1) / group_size
            ELSE 1.0 END)::BIGINT;

-- A collective's operation as the measured NCCL curves name it (retime/replay/presets/kernel_db/nccl.parquet:
-- all_reduce, all_gather, reduce_scatter, alltoall) from the names traces give it (allreduce,
-- _allgather_base, reduce_scatter_tensor, all_to_all, ...); NULL for the others (broadcast, send,
-- recv, ...), which have no curve.
-- @arg coll_op VARCHAR the collective (events.coll_op)
-- @returns VARCHAR the measured NCCL curve's operation; NULL where none
CREATE OR REPLACE TEMP MACRO nccl_curve_op(coll_op) AS
    CASE WHEN regexp_matches(lower(coalesce(coll_op, '')), 'all_?reduce') THEN 'all_reduce'
         WHEN regexp_matches(lower(coalesce(coll_op, '')), 'all_?gather') THEN 'all_gather'
         WHEN regexp_matches(lower(coalesce(coll_op, '')), 'reduce_?scatter') THEN 'reduce_scatter'
         WHEN regexp_matches(lower(coalesce(coll_op, '')), 'all_?to_?all') THEN 'alltoall'
    END;

-- The size of each collective kernel of trace t as its launching call's innermost `nccl:<op>` slice
-- records it (PyTorch's ProcessGroupNCCL wraps each collective in one, with the tensor's "Input Dims"
-- and "Input type"), for traces whose kernels carry no element count of their own (Kineto before
-- its "In msg nelems" args).
-- @arg t BIGINT the trace
-- @column event_id BIGINT the kernel
-- @column coll_op VARCHAR all_reduce, all_to_all, ...
-- @column coll_dtype VARCHAR
-- @column nelems BIGINT the product of the first input's dims
CREATE OR REPLACE TEMP MACRO collective_launch_sizes(t) AS TABLE
    WITH slices AS (
        SELECT g.event_id, arg_max(s.event_id, u.depth) AS slice_id
        FROM (SELECT * FROM gpu_timeline WHERE trace_id = t AND kind = 'collective') g,  -- collectives first,
             unnest(g.call_stack) WITH ORDINALITY AS u(slice_event_id, depth)             -- then their stacks
        JOIN events s ON s.trace_id = g.trace_id AND s.event_id = u.slice_event_id
        WHERE s.name LIKE 'nccl:%'
        GROUP BY g.event_id
    )
    SELECT c.event_id, substr(s.name, 6) AS coll_op,
           json_extract_string(s.args, '$."Input type"[0]') AS coll_dtype,
           list_product(TRY_CAST(json_extract(s.args, '$."Input Dims"[0]') AS BIGINT[]))::BIGINT AS nelems
    FROM slices c JOIN events s ON s.trace_id = t AND s.event_id = c.slice_id;
