-- The records of every process of a rocprofv3 document in retime's kinds (retime/ingest/rocprof.py hands
-- them in as columns: rocprof_raw, and the document's agents, operation names and kernel symbols):
-- kernel dispatches and memory copies on a GPU lane (its GPU and HIP stream), HIP runtime calls
-- and ROCTx markers on a CPU thread. A runtime call and the GPU work it enqueued share
-- correlation_id.internal.

-- Each process's agents; a GPU's device is its index among the GPUs (as HIP numbers them)
CREATE OR REPLACE TEMP TABLE rocprof_agents AS
SELECT process, agent, type = 2 AS is_gpu, product,
       (row_number() OVER (PARTITION BY process, type ORDER BY node) - 1)::INTEGER AS device
FROM rocprof_agents_in;

CREATE OR REPLACE TEMP TABLE rocprof_records AS
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
       coalesce(f.stream, 0) AS stream, f.args
FROM rocprof_raw f
LEFT JOIN rocprof_symbols_in s ON s.process = f.process AND s.kernel_id = f.kernel_id
LEFT JOIN rocprof_operations_in op ON op.process = f.process AND op.kind = f.kind_code AND op.operation = f.operation;
