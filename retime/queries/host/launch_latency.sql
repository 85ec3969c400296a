-- Time from a runtime/driver call starting to the GPU work it launched starting, per call name and
-- kind of launch: the launch path's latency plus any time the work queued behind earlier work.
-- A call that launched one op (cudaLaunchKernel, hipMemcpyAsync, ...) counts once per op. A call
-- that launched several (a CUDA / HIP graph: cudaGraphLaunch, hipGraphLaunch) counts once, as the
-- launch of a graph (op_kind 'graph': call start -> its first op starting); the ops inside it count
-- by their own queueing (op_kind '<kind> in graph': from the previous op of the same launch on their
-- stream ending, or for the first on a stream from the graph's first op starting, to their start),
-- not from the call, which would time the graph's last kernel by everything before it (an op that
-- overlapped the one before it, as programmatic dependent launch lets it, queued 0).
-- @param trace_id BIGINT     trace to analyse
-- @column call VARCHAR       runtime / driver API name
-- @column op_kind VARCHAR    kernel | collective | memcpy | memset | graph | kernel in graph | ...
-- @column launches BIGINT    calls for a graph, ops otherwise
-- @column p50_ns DOUBLE
-- @column p90_ns DOUBLE
-- @column p99_ns DOUBLE
-- @column max_ns BIGINT
-- @column short_op_pct DOUBLE  share of launches whose work (an op; a graph: its first op start to its last op end) ran for less than their latency
-- @empty the trace has no launch edges (no runtime calls with correlation ids)
WITH
launched AS (  -- each GPU op with the call that launched it (gpu_timeline, retime/store/sql/schema.sql)
    SELECT call_event_id, call_name, call_ts_ns, kind, ts_ns, end_ns,
           count(*) OVER (PARTITION BY call_event_id) AS ops_of_call,
           min(ts_ns) OVER (PARTITION BY call_event_id) AS graph_start,
           lag(end_ns) OVER (PARTITION BY call_event_id, stream ORDER BY ts_ns, event_id) AS prev_end,
           row_number() OVER (PARTITION BY call_event_id ORDER BY ts_ns, event_id) AS nth
    FROM gpu_timeline
    WHERE trace_id = $trace_id AND call_event_id IS NOT NULL
),
launches AS (
    SELECT call_name, kind AS op_kind, ts_ns - call_ts_ns AS latency_ns, end_ns - ts_ns AS work_ns
    FROM launched WHERE ops_of_call = 1
    UNION ALL
    SELECT any_value(call_name), 'graph', min(ts_ns) - any_value(call_ts_ns), max(end_ns) - min(ts_ns)
    FROM launched WHERE ops_of_call > 1 GROUP BY call_event_id
    UNION ALL
    SELECT call_name, kind || ' in graph', greatest(ts_ns - greatest(coalesce(prev_end, graph_start), graph_start), 0), end_ns - ts_ns
    FROM launched WHERE ops_of_call > 1 AND nth > 1
)
SELECT call_name AS call, op_kind, count(*) AS launches,
       quantile_cont(latency_ns, 0.5) AS p50_ns, quantile_cont(latency_ns, 0.9) AS p90_ns,
       quantile_cont(latency_ns, 0.99) AS p99_ns, max(latency_ns) AS max_ns,
       round(100.0 * count(*) FILTER (WHERE work_ns < latency_ns) / count(*), 2) AS short_op_pct
FROM launches
GROUP BY ALL ORDER BY launches DESC, call, op_kind;
