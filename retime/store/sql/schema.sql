-- retime store schema, version 5 (retime/store/__init__.py SCHEMA_VERSION; older stores are upgraded on open).
--
-- Each table is declared here once, after a `-- @table KIND` line (meta, base, derived, replay):
-- every list of tables and every statement over one is made from these (retime/store/tables.py).
--
-- One DuckDB file holds any number of traces (measured files and, later, their replays), so
-- that a trace and its variants compare in one query. All times are integer nanoseconds on the
-- trace's absolute clock (Kineto's relative `ts` plus `baseTimeNanoseconds`; older traces are
-- already absolute microseconds). The same page, with the closed sets of values, is
-- docs/schema.md; `retime sql "DESCRIBE events"` shows the live columns.

-- The schema version of the retime that made the store, and of each that upgraded it.
-- @table meta
CREATE TABLE IF NOT EXISTS schema_info (
    version      INTEGER NOT NULL,     -- bumped on every incompatible change; checked on open
    created_at   TIMESTAMP NOT NULL
);

CREATE SEQUENCE IF NOT EXISTS trace_id_seq START 1;

-- One row per ingested file (or, later, per replay result).
-- @table base
CREATE TABLE IF NOT EXISTS traces (
    trace_id          BIGINT PRIMARY KEY,
    job               VARCHAR,            -- job name: --job, else the directory a job was ingested from
    format            VARCHAR NOT NULL,   -- 'kineto' | 'chrome' | 'nsys' | 'rocprof' | 'xplane' | 'pytorch_et' | 'replay'
    source_path       VARCHAR,            -- absolute path at ingest time
    sha256            VARCHAR,            -- of the file's bytes as stored on disk; re-ingest is a no-op
    size_bytes        BIGINT,
    rank              INTEGER,            -- from the trace (distributedInfo), never from the file name
    world_size        INTEGER,
    backend           VARCHAR,            -- distributed backend, e.g. 'nccl', 'gloo'
    gpu_names         VARCHAR[],          -- deviceProperties[].name, in device-id order
    device_properties JSON,               -- deviceProperties (or the older computeProperties) as written
    distributed_info  JSON,               -- distributedInfo as written (process groups, ...)
    metadata          JSON,               -- the file's other top-level keys (schemaVersion, versions, ...)
    time_base_ns      BIGINT,             -- added to the file's relative timestamps (0 when absolute)
    start_ns          BIGINT,             -- first event start
    end_ns            BIGINT,             -- last event end
    event_count       BIGINT,
    warnings          VARCHAR[],          -- what was dropped or repaired, one readable line each
    ingested_at       TIMESTAMP,
    parent_trace_id   BIGINT,             -- the measured trace a replay derives from (NULL when measured)
    scenario          JSON                -- the replay's scenario (NULL when measured)
);

-- Where work runs: a CPU thread, a GPU stream, an async track, or a profiler's own row.
-- @table base
CREATE TABLE IF NOT EXISTS lanes (
    trace_id      BIGINT NOT NULL,
    lane_id       INTEGER NOT NULL,       -- dense 0..n-1 within a trace
    kind          VARCHAR NOT NULL,       -- 'cpu_thread' | 'gpu_stream' | 'async' | 'other'
    pid           VARCHAR,                -- as written in the trace (numbers as text; Kineto also writes names)
    tid           VARCHAR,
    device        INTEGER,                -- GPU index for gpu_stream lanes
    stream        BIGINT,                 -- CUDA/HIP stream for gpu_stream lanes
    process_name  VARCHAR,                -- from 'M' process_name metadata
    name          VARCHAR,                -- from 'M' thread_name metadata (or the async track's name)
    PRIMARY KEY (trace_id, lane_id)
);

-- One row per interval or instant.
-- @table base
CREATE TABLE IF NOT EXISTS events (
    trace_id         BIGINT NOT NULL,
    event_id         BIGINT NOT NULL,     -- dense 0..n-1 within a trace, in (ts_ns, lane_id) order
    lane_id          INTEGER NOT NULL,
    kind             VARCHAR NOT NULL,    -- closed set, see docs/schema.md
    phase            VARCHAR NOT NULL,    -- how the trace wrote it: 'X', 'B' (a matched B/E pair), 'i', 'b' (async pair), ...
    name             VARCHAR,
    category         VARCHAR,             -- the trace's own 'cat'
    ts_ns            BIGINT NOT NULL,
    dur_ns           BIGINT,              -- 0 for instants; NULL for a slice that never closed
    correlation      BIGINT,              -- runtime call <-> GPU op
    external_id      BIGINT,              -- CPU op <-> runtime call (Kineto 'External id')
    device           INTEGER,             -- GPU ops: device index
    stream           BIGINT,              -- GPU ops: stream
    bytes            BIGINT,              -- memcpy / memset size
    copy_kind        VARCHAR,             -- memcpy: 'H2D' | 'D2H' | 'D2D' | 'P2P' | 'H2H'
    src_kind         VARCHAR,             -- memcpy source memory: 'pageable' | 'pinned' | 'device' | 'host' | ...
    dst_kind         VARCHAR,             -- memcpy / memset destination memory
    coll_op          VARCHAR,             -- collective: 'allreduce', 'all_to_allv', 'AllReduce' (from kernel name), ...
    coll_dtype       VARCHAR,
    coll_in_nelems   BIGINT,
    coll_out_nelems  BIGINT,
    coll_group_size  INTEGER,
    coll_pg_name     VARCHAR,
    coll_pg_desc     VARCHAR,
    coll_pg_ranks    VARCHAR,             -- as written, e.g. '[0, 1, 2, 3]'
    coll_seq         BIGINT,
    args             JSON                 -- the event's full args, as written
);

-- Edges between events.
-- @table base
CREATE TABLE IF NOT EXISTS deps (
    trace_id      BIGINT NOT NULL,
    src_event_id  BIGINT NOT NULL,
    dst_event_id  BIGINT NOT NULL,
    kind          VARCHAR NOT NULL        -- 'launch' | 'fwd_bwd' | 'flow'
);

-- One row per GPU op (kernel, collective, copy, memset with a duration), written with its trace by
-- retime/store/sql/derive_trace.sql: the device and stream it ran on and the host call that launched it,
-- which the launch-path and time-accounting queries would otherwise join from lanes, deps and events
-- on every run. Derived, so any row can be re-derived from those three tables.
-- @table derived
CREATE TABLE IF NOT EXISTS gpu_timeline (
    trace_id       BIGINT NOT NULL,
    event_id       BIGINT NOT NULL,     -- the op in events
    kind           VARCHAR NOT NULL,    -- 'kernel' | 'collective' | 'memcpy' | 'memset'
    name           VARCHAR,
    resource       VARCHAR NOT NULL,    -- 'compute' | 'communication' | 'memory' (retime/foundation/gpu.sql)
    device         INTEGER,             -- of the lane the op ran on
    stream         BIGINT,
    ts_ns          BIGINT NOT NULL,
    end_ns         BIGINT NOT NULL,
    call_event_id  BIGINT,              -- the launch call (deps kind 'launch'; the latest to start, if several); NULL when none
    call_name      VARCHAR,
    call_ts_ns     BIGINT,
    call_stack     BIGINT[],            -- the CPU slices open on the call's thread when it started (event ids,
                                        -- outermost first; the last is the operator that launched the op); NULL without a call
    op_event_id    BIGINT,              -- a kernel's operator for the roofline: the innermost slice of call_stack
                                        -- in op_work (kernel_costs, retime/foundation/ops.sql); NULL when none
    category       VARCHAR,             -- gemm | attention | conv | norm | elementwise | communication | memory | other
                                        -- (gpu_op_category, retime/foundation/ops.sql)
    category_source VARCHAR,            -- 'operator': a categorised slice of call_stack decided it; 'kernel': its kind or name
    category_operator VARCHAR           -- that slice's operator name (op_name), else the op's own name
);

-- The recorded shapes of a trace's CPU operators (torch.profiler record_shapes=True), taken out of
-- events.args once when the trace is written: the roofline queries and the replay's matmul
-- intensities (op_costs, retime/foundation/ops.sql) read these instead of parsing JSON on each run.
-- @table derived
CREATE TABLE IF NOT EXISTS op_shapes (
    trace_id   BIGINT NOT NULL,
    event_id   BIGINT NOT NULL,     -- the CPU operator in events
    name       VARCHAR,
    dims       VARCHAR,             -- "Input Dims" as written, e.g. [[512,1024],[1024,1024]]
    dtype      VARCHAR,             -- the first entry of "Input type", e.g. float, c10::BFloat16
    concrete   VARCHAR              -- "Concrete Inputs" as written (scalars: stride, padding, is_causal, ...); NULL without
);

-- The CPU operators of a trace that op_costs (retime/foundation/ops.sql) can cost from their recorded
-- shapes, with those costs: written once when the trace is, so the roofline queries, the operator
-- of each kernel (gpu_timeline.op_event_id) and the replay's kernel model read them instead of
-- parsing and costing every shape on each run.
-- @table derived
CREATE TABLE IF NOT EXISTS op_work (
    trace_id   BIGINT NOT NULL,
    event_id   BIGINT NOT NULL,     -- the CPU operator in events
    shape_id   BIGINT NOT NULL,     -- one number per distinct (name, dims, dtype, concrete inputs) in the trace
    name       VARCHAR,
    dims       VARCHAR,
    dtype      VARCHAR,
    category   VARCHAR,             -- op_rules.toml's category of the operator
    model      VARCHAR,             -- the op_rules.toml model its FLOPs and bytes follow (mm, addmm, sdpa, conv, ...)
    tensor     BOOLEAN,             -- runs against the matrix-unit roof (gemm, attention, conv)
    tf32       BOOLEAN,             -- a cuDNN convolution on FP32 (TF32 tensor cores)
    flops      DOUBLE,
    bytes      DOUBLE,
    kernel_ns  BIGINT NOT NULL,     -- the kernels it launched (gpu_timeline.op_event_id), durations summed; 0 for none
    tf32_kernels BOOLEAN NOT NULL   -- one of them ran on TF32 tensor cores by its name (tf32_kernel, retime/foundation/hardware.sql)
);

-- The outermost CPU operators of each thread (outermost_cpu_ops, retime/foundation/host.sql): the
-- host time per step without nested operators counted twice (step_times).
-- @table derived
CREATE TABLE IF NOT EXISTS cpu_top_ops (
    trace_id   BIGINT NOT NULL,
    event_id   BIGINT NOT NULL,
    lane_id    INTEGER NOT NULL,
    ts_ns      BIGINT NOT NULL,
    dur_ns     BIGINT NOT NULL
);

-- Each device's GPU time per combination of work kinds running at once (gpu_combinations,
-- retime/foundation/gpu.sql): overlap_combinations and gpu_device_time read it.
-- @table derived
CREATE TABLE IF NOT EXISTS gpu_overlap (
    trace_id       BIGINT NOT NULL,
    device         INTEGER,
    compute        BOOLEAN NOT NULL,   -- some compute op ran
    communication  BOOLEAN NOT NULL,   -- some collective (or data-moving kernel) ran
    memory         BOOLEAN NOT NULL,   -- some copy or memset ran
    ns             BIGINT NOT NULL     -- time exactly this combination ran (all false: idle inside the device's span)
);

-- Each device's busy islands (busy_islands_covered, retime/foundation/gpu.sql): the maximal intervals
-- during which some GPU op ran, of compute alone or of any resource, with the busy time before each,
-- so the time covered up to any instant is one ASOF lookup (launch_bound, collective_bandwidth).
-- @table derived
CREATE TABLE IF NOT EXISTS gpu_busy_islands (
    trace_id   BIGINT NOT NULL,
    resources  VARCHAR NOT NULL,   -- 'compute' (compute ops only) | 'any' (compute, communication and memory)
    device     INTEGER,
    lo         BIGINT NOT NULL,    -- the island's start
    hi         BIGINT NOT NULL,    -- its end
    prev_hi    BIGINT,             -- where the island before it ended (NULL for the first)
    before_ns  BIGINT NOT NULL     -- busy time of the device's earlier islands
);

-- The depth of each device's launch queue at each launch call (launch_queue, retime/foundation/gpu.sql):
-- ops launched and not yet finished, the new one included (launch_bound).
-- @table derived
CREATE TABLE IF NOT EXISTS gpu_launch_queue (
    trace_id     BIGINT NOT NULL,
    event_id     BIGINT NOT NULL,   -- the GPU op launched
    device       INTEGER,
    call_ts_ns   BIGINT NOT NULL,   -- its launch call's start
    depth        BIGINT NOT NULL
);

-- The idle gaps of each GPU stream (stream_gaps, retime/foundation/gpu.sql): an op that starts after
-- every earlier op of its stream has ended opens a gap from that end (idle_breakdown, idle_intervals).
-- @table derived
CREATE TABLE IF NOT EXISTS gpu_stream_gaps (
    trace_id     BIGINT NOT NULL,
    device       INTEGER,
    stream       BIGINT,
    gap_ns       BIGINT NOT NULL,
    free_since   BIGINT NOT NULL,   -- the end of the stream's earlier ops
    launched_at  BIGINT             -- the start of the call that launched the op ending the gap (NULL: none)
);

-- Which rules and definitions the derived tables were made with (retime/store/derived.py
-- fingerprint): a store opened by a retime whose rules differ derives them again.
-- @table meta
CREATE TABLE IF NOT EXISTS derived_info (
    fingerprint  VARCHAR NOT NULL,
    derived_at   TIMESTAMP NOT NULL
);

-- Each device's GPU time over the whole trace, split by what ran (retime/foundation/gpu.sql,
-- gpu_time_split), written with gpu_timeline: the temporal breakdown and the communication overlap
-- of a trace are then a read, not a sweep over its ops.
-- @table derived
CREATE TABLE IF NOT EXISTS gpu_device_time (
    trace_id            BIGINT NOT NULL,
    device              INTEGER,
    span_ns             BIGINT NOT NULL,   -- first GPU op start to last GPU op end on the device
    compute_ns          BIGINT NOT NULL,   -- some compute op ran
    comm_overlapped_ns  BIGINT NOT NULL,   -- a collective ran under compute
    comm_exposed_ns     BIGINT NOT NULL,   -- a collective ran, no compute
    memory_only_ns      BIGINT NOT NULL,   -- only copies / memsets ran
    busy_ns             BIGINT NOT NULL    -- anything ran
);

-- Counter samples ('C' events): one row per series per sample.
-- @table base
CREATE TABLE IF NOT EXISTS counters (
    trace_id   BIGINT NOT NULL,
    pid        VARCHAR,
    name       VARCHAR NOT NULL,          -- counter name (with its id when the trace gives one)
    series     VARCHAR NOT NULL,          -- key inside args
    ts_ns      BIGINT NOT NULL,
    value      DOUBLE
);

-- A saved replay on a topology (retime replay TRACE --topology NAME --save; retime/replay/links.py): every
-- transfer that crossed the server's links (a copy between GPU and host memory, or a rank's network
-- traffic), with its time alone and under sharing; the links each crossed; and every link
-- direction's bandwidth. Times are from the replay's origin (its parent's first event). The link
-- queries (retime/queries/replay/link_demand.sql, link_load.sql, link_collisions.sql) read them.
-- @table replay
CREATE TABLE IF NOT EXISTS replay_transfers (
    trace_id   BIGINT NOT NULL,           -- the saved replay
    transfer   BIGINT NOT NULL,           -- its number within the replay
    rank       BIGINT,
    kind       VARCHAR NOT NULL,          -- 'h2d' | 'd2h' | 'network'
    name       VARCHAR,                   -- the copy's, or the collective kernel's, name
    server     BIGINT NOT NULL,
    gpu        BIGINT NOT NULL,           -- the GPU's index on its server
    bytes      BIGINT NOT NULL,           -- what it moves over each of its links (a NIC's share of a collective)
    start_ns   BIGINT NOT NULL,
    wanted_ns  BIGINT NOT NULL,           -- its duration alone under the scenario
    took_ns    BIGINT NOT NULL,           -- its duration with the links shared
    slowed     BOOLEAN NOT NULL           -- it got less than it wanted at some time
);

-- The links each transfer of a saved replay on a topology crossed, one row a link direction.
-- @table replay
CREATE TABLE IF NOT EXISTS replay_transfer_links (
    trace_id   BIGINT NOT NULL,
    transfer   BIGINT NOT NULL,
    server     BIGINT NOT NULL,
    link       VARCHAR NOT NULL,          -- named by the node below it ('gpu0', 'sw0', 'cpu1'), or a NIC's port ('nic0.port')
    direction  VARCHAR NOT NULL           -- 'to host' | 'to device' on PCIe and the sockets' link, 'out' | 'in' on a port
);

-- The bandwidth of every link direction of the servers a saved replay on a topology used.
-- @table replay
CREATE TABLE IF NOT EXISTS replay_link_capacity (
    trace_id   BIGINT NOT NULL,
    server     BIGINT NOT NULL,
    link       VARCHAR NOT NULL,
    direction  VARCHAR NOT NULL,
    gb_s       DOUBLE NOT NULL,           -- bandwidth, GB/s = bytes per ns
    parent     VARCHAR NOT NULL           -- the node the link joins its node to ('network' for a NIC's port)
);
