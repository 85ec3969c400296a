-- The host side: blocking calls, what spans a trace, annotation windows, outermost CPU operators.
-- @include kinds

-- What counts as a host call that blocks until the GPU catches up, for sync_stalls and the replayer:
-- device, stream and event synchronize (CUDA runtime, HIP, CUDA driver) and the synchronous
-- copies and memsets; versioned runtime names ('cudaMemcpy_v3020') included.
-- @arg name VARCHAR the event's name
-- @returns BOOLEAN the host call waits for the GPU
CREATE OR REPLACE TEMP MACRO is_blocking_call(name) AS
    regexp_matches(coalesce(name, ''),
                   '^(cuda|hip)(DeviceSynchronize|StreamSynchronize|EventSynchronize|Memcpy|Memset|Memcpy2D|Memcpy3D)(_v[0-9]+)?$|^cu(Ctx|Stream|Event)Synchronize');

-- The events a trace's span covers and its replay moves (retime/replay/sql/graph_events.sql): every event
-- with a duration on a CPU thread, and the kernels, collectives, copies and memsets on GPU streams;
-- not the profiler's own markers on lanes of their own (Kineto's "Record Window End" and the
-- like), flows, counters, async spans or GPU-side annotations.
-- @arg lane_kind VARCHAR lanes.kind of the event's lane
-- @arg kind VARCHAR events.kind of the op
-- @arg dur_ns BIGINT the event's duration
-- @returns BOOLEAN the event counts toward a trace's span
CREATE OR REPLACE TEMP MACRO is_span_event(lane_kind, kind, dur_ns) AS
    dur_ns IS NOT NULL AND dur_ns >= 0
    AND (lane_kind = 'cpu_thread' OR (lane_kind = 'gpu_stream' AND is_gpu_op(kind)));

-- Every trace's span: its first span event's start and its last one's end (is_span_event), as
-- `traces`, `info`, a replay's "measured" and --against read it.
-- @column trace_id BIGINT
-- @column first_ns BIGINT
-- @column last_ns BIGINT
-- @column span_ns BIGINT
CREATE OR REPLACE TEMP MACRO trace_spans() AS TABLE
    SELECT e.trace_id, min(e.ts_ns) AS first_ns, max(e.ts_ns + e.dur_ns) AS last_ns,
           max(e.ts_ns + e.dur_ns) - min(e.ts_ns) AS span_ns
    FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    WHERE is_span_event(l.kind, e.kind, e.dur_ns)
    GROUP BY e.trace_id;

-- The windows of trace t that per-step answers are reported on: events on a CPU thread whose name
-- matches `pattern` (ProfilerStep#N, an NVTX range, a record_function) and that have a length, of
-- any kind: Kineto writes ProfilerStep#N as a user annotation today and as a CPU operator before
-- 2021-09 (category "Operator"). The replayer's steps are the same events (retime/replay/engine.py
-- step_windows).
-- @arg t BIGINT the trace
-- @arg pattern VARCHAR regular expression over the windows' names
-- @column name VARCHAR
-- @column ws BIGINT the window's start, ns
-- @column we BIGINT its end, ns
CREATE OR REPLACE TEMP MACRO annotation_windows(t, pattern) AS TABLE
    SELECT e.name, e.ts_ns AS ws, e.ts_ns + e.dur_ns AS we
    FROM events e JOIN lanes l ON l.trace_id = e.trace_id AND l.lane_id = e.lane_id
    WHERE e.trace_id = t AND l.kind = 'cpu_thread' AND e.dur_ns > 0
      AND regexp_matches(e.name, pattern);

-- The outermost CPU operators of trace t: an operator is outermost when it starts after every earlier
-- operator of its thread has ended (operators sorted by start, the longer first, so a parent precedes
-- the children that start with it). Written to cpu_top_ops when a trace is (retime/store/sql/derive_trace.sql).
-- @arg t BIGINT the trace
-- @column event_id BIGINT
-- @column lane_id INTEGER
-- @column ts_ns BIGINT
-- @column dur_ns BIGINT
CREATE OR REPLACE TEMP MACRO outermost_cpu_ops(t) AS TABLE
    SELECT event_id, lane_id, ts_ns, dur_ns
    FROM (SELECT event_id, lane_id, ts_ns, dur_ns,
                 max(ts_ns + dur_ns) OVER (PARTITION BY lane_id ORDER BY ts_ns, dur_ns DESC
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS open_until
          FROM events WHERE trace_id = t AND kind = 'cpu_op' AND dur_ns IS NOT NULL)
    WHERE open_until IS NULL OR ts_ns >= open_until;
