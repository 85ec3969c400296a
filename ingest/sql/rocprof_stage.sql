-- The records of every process of a rocprofv3 document (rocprof_doc), in retime's kinds: kernel
-- dispatches and memory copies on a GPU lane (its GPU and HIP stream), HIP runtime calls and ROCTx
-- markers on a CPU thread. Field names are rocprofiler-sdk's buffer tracing records
-- (rocprofiler-sdk/buffer_tracing.h): start_timestamp / end_timestamp (ns), correlation_id.internal
-- (a runtime call and the GPU work it enqueued share it), thread_id, dispatch_info.agent_id /
-- kernel_id, stream_id, a copy's src_agent_id / dst_agent_id / bytes.

-- Each process's agents; a GPU's device is its index among the GPUs (as HIP numbers them)
CREATE OR REPLACE TEMP TABLE rocprof_agents AS
SELECT d.process, TRY_CAST(a->>'$.id.handle' AS BIGINT) AS agent, TRY_CAST(a->>'$.type' AS INTEGER) = 2 AS is_gpu,
       coalesce(nullif(a->>'$.product_name', ''), a->>'$.name') AS product,
       (row_number() OVER (PARTITION BY d.process, TRY_CAST(a->>'$.type' AS INTEGER)
                           ORDER BY TRY_CAST(a->>'$.node_id' AS BIGINT)) - 1)::INTEGER AS device
FROM rocprof_doc d, unnest(CAST(d.t.agents AS JSON[])) AS u(a);

-- The operation names of each record kind: strings.buffer_records[kind].operations[operation]
CREATE OR REPLACE TEMP TABLE rocprof_operations AS
SELECT d.process, (k.i - 1)::INTEGER AS kind, k.v->>'$.kind' AS kind_name, (o.j - 1)::INTEGER AS operation, o.name
FROM rocprof_doc d, unnest(CAST(d.t.strings.buffer_records AS JSON[])) WITH ORDINALITY AS k(v, i),
     unnest(CAST(k.v->'$.operations' AS VARCHAR[])) WITH ORDINALITY AS o(name, j);

CREATE OR REPLACE TEMP TABLE rocprof_symbols AS
SELECT d.process, TRY_CAST(s->>'$.kernel_id' AS BIGINT) AS kernel_id,
       coalesce(nullif(s->>'$.formatted_kernel_name', ''), nullif(s->>'$.truncated_kernel_name', ''), s->>'$.kernel_name') AS name
FROM rocprof_doc d, unnest(CAST(d.t.kernel_symbols AS JSON[])) AS u(s);

CREATE OR REPLACE TEMP TABLE rocprof_processes AS
SELECT process, TRY_CAST(t.metadata.pid AS BIGINT) AS pid FROM rocprof_doc;

-- every record read, with the fields the store keeps
CREATE OR REPLACE TEMP TABLE rocprof_records AS
WITH raw AS (
    SELECT d.process, 'kernel_dispatch' AS source, r FROM rocprof_doc d, unnest(CAST(d.t.buffer_records.kernel_dispatch AS JSON[])) AS u(r)
    UNION ALL
    SELECT d.process, 'memory_copy', r FROM rocprof_doc d, unnest(CAST(d.t.buffer_records.memory_copy AS JSON[])) AS u(r)
    UNION ALL
    SELECT d.process, 'hip_api', r FROM rocprof_doc d, unnest(CAST(d.t.buffer_records.hip_api AS JSON[])) AS u(r)
    UNION ALL
    SELECT d.process, 'marker_api', r FROM rocprof_doc d, unnest(CAST(d.t.buffer_records.marker_api AS JSON[])) AS u(r)
),
fields AS (
    SELECT process, source, r,
           TRY_CAST(r->>'$.kind' AS INTEGER) AS kind_code, TRY_CAST(r->>'$.operation' AS INTEGER) AS operation,
           TRY_CAST(r->>'$.correlation_id.internal' AS BIGINT) AS correlation,
           coalesce(TRY_CAST(r->>'$.correlation_id.external' AS BIGINT),
                    TRY_CAST(r->>'$.correlation_id.external.value' AS BIGINT)) AS external_id,
           TRY_CAST(r->>'$.thread_id' AS BIGINT) AS thread_id,
           TRY_CAST(r->>'$.start_timestamp' AS BIGINT) AS start_ns, TRY_CAST(r->>'$.end_timestamp' AS BIGINT) AS end_ns,
           coalesce(TRY_CAST(r->>'$.dispatch_info.agent_id.handle' AS BIGINT), TRY_CAST(r->>'$.agent_id.handle' AS BIGINT)) AS agent,
           TRY_CAST(r->>'$.dispatch_info.kernel_id' AS BIGINT) AS kernel_id,
           TRY_CAST(r->>'$.stream_id.handle' AS BIGINT) AS stream,
           TRY_CAST(r->>'$.src_agent_id.handle' AS BIGINT) AS src_agent, TRY_CAST(r->>'$.dst_agent_id.handle' AS BIGINT) AS dst_agent,
           TRY_CAST(r->>'$.bytes' AS BIGINT) AS bytes
    FROM raw
)
SELECT f.process, f.source, f.correlation, f.external_id, f.thread_id, f.start_ns, f.end_ns, f.bytes,
       CASE f.source WHEN 'kernel_dispatch' THEN CASE WHEN is_collective_kernel(s.name) THEN 'collective' ELSE 'kernel' END
                     WHEN 'memory_copy' THEN 'memcpy' WHEN 'hip_api' THEN 'runtime' ELSE 'annotation' END AS kind,
       CASE f.source WHEN 'kernel_dispatch' THEN coalesce(s.name, 'kernel ' || f.kernel_id)
                     WHEN 'memory_copy' THEN 'Memcpy ' || CASE op.name WHEN 'MEMORY_COPY_HOST_TO_DEVICE' THEN 'HtoD'
                         WHEN 'MEMORY_COPY_DEVICE_TO_HOST' THEN 'DtoH' WHEN 'MEMORY_COPY_DEVICE_TO_DEVICE' THEN 'DtoD'
                         WHEN 'MEMORY_COPY_HOST_TO_HOST' THEN 'HtoH' ELSE coalesce(op.name, 'copy') END
                     ELSE coalesce(op.name, f.source || ' ' || f.operation) END AS name,
       op.kind_name AS category,
       CASE op.name WHEN 'MEMORY_COPY_HOST_TO_DEVICE' THEN 'H2D' WHEN 'MEMORY_COPY_DEVICE_TO_HOST' THEN 'D2H'
                    WHEN 'MEMORY_COPY_DEVICE_TO_DEVICE' THEN CASE WHEN f.src_agent IS DISTINCT FROM f.dst_agent THEN 'P2P' ELSE 'D2D' END
                    WHEN 'MEMORY_COPY_HOST_TO_HOST' THEN 'H2H' END AS copy_kind,
       -- the GPU a record ran on: a dispatch's agent; a copy's device end (its destination for H2D and D2D)
       CASE WHEN f.source = 'kernel_dispatch' THEN f.agent
            WHEN f.source = 'memory_copy' THEN CASE WHEN op.name = 'MEMORY_COPY_DEVICE_TO_HOST' THEN f.src_agent ELSE f.dst_agent END
       END AS gpu_agent,
       coalesce(f.stream, 0) AS stream, f.r AS args
FROM fields f
LEFT JOIN rocprof_symbols s ON s.process = f.process AND s.kernel_id = f.kernel_id
LEFT JOIN rocprof_operations op ON op.process = f.process AND op.kind = f.kind_code AND op.operation = f.operation;
