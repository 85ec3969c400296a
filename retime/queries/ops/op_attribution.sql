-- GPU time attributed to the CPU side that caused it: each GPU op (kernel, copy, memset,
-- collective) belongs to every CPU slice open on its launch call's thread when the call started
-- (gpu_timeline.call_stack: python functions, annotations such as ProfilerStep#N or
-- record_function / NVTX ranges, and CPU operators, outermost first). total_ns is the GPU time
-- launched anywhere beneath a slice, self_ns what it launched itself (it was the innermost open
-- slice). With depth -1 a row is the innermost slice of `kind` around each launch (the launching
-- operator); with depth N the slices N levels below the outermost (0: the outermost, e.g. the
-- ProfilerStep); with depth -2 every open slice, whatever its depth (a name's total over the whole
-- tree, as TraceLens's per-operator GPU time). Rows are per name: a name open twice around one
-- launch (recursion) counts it once. NVTX ranges of torch's emit_nvtx (Nsight traces) are named by
-- their operator, without the op_id / seq / sizes it appends (op_name).
-- @include ops
-- @param trace_id BIGINT       trace to analyse
-- @param depth BIGINT = -1     -1: the innermost slice of `kind` around each launch; N >= 0: slices at depth N; -2: any depth
-- @param kind VARCHAR = ''     only slices of this event kind (cpu_op, python, annotation, ...); empty: any
-- @param top_n BIGINT = 30     how many names to return, by total GPU time
-- @column name VARCHAR         slice name
-- @column kind VARCHAR         its event kind
-- @column instances BIGINT     slices of this name that launched GPU work at or beneath them
-- @column gpu_ops BIGINT       GPU ops launched beneath them
-- @column self_ns BIGINT       GPU time of the ops they launched themselves (innermost open slice)
-- @column total_ns BIGINT      GPU time of every op launched beneath them (durations summed)
-- @column pct_of_gpu DOUBLE    total_ns as a share of all the trace's GPU op time
-- @empty no GPU op has a launch call inside a CPU slice (a CPU-only trace, or launches outside any operator)
WITH
ops AS (
    SELECT event_id AS op_id, end_ns - ts_ns AS ns, call_stack
    FROM gpu_timeline WHERE trace_id = $trace_id AND call_stack IS NOT NULL
),
-- any kind, one depth (or the innermost): one slice per op, read straight from its stack
direct AS (
    SELECT slice_id, count(*) AS gpu_ops, sum(ns) FILTER (WHERE is_self) AS self_ns, sum(ns) AS total_ns
    FROM (SELECT ns, call_stack[CASE WHEN $depth >= 0 THEN $depth + 1 ELSE len(call_stack) END] AS slice_id,
                 $depth < 0 OR len(call_stack) = $depth + 1 AS is_self
          FROM ops WHERE $kind = '' AND $depth >= -1 AND len(call_stack) > greatest($depth, 0))
    GROUP BY slice_id
),
direct_named AS (  -- per slice name first, then per operator name (op_name once per distinct name)
    SELECT op_name(name) AS name, kind, sum(instances) AS instances, sum(gpu_ops) AS gpu_ops,
           sum(self_ns) AS self_ns, sum(total_ns) AS total_ns
    FROM (SELECT e.name, e.kind, count(*) AS instances, sum(d.gpu_ops) AS gpu_ops,
                 sum(d.self_ns) AS self_ns, sum(d.total_ns) AS total_ns
          FROM direct d JOIN events e ON e.trace_id = $trace_id AND e.event_id = d.slice_id
          GROUP BY ALL)
    GROUP BY ALL
),
-- one kind, or every depth: every open slice of each op, with its name and kind
stacked AS (
    SELECT o.op_id, o.ns, s.slice_id, s.depth, s.depth = len(o.call_stack) - 1 AS is_self, op_name(e.name) AS name, e.kind
    FROM ops o,
         LATERAL (SELECT unnest(o.call_stack) AS slice_id, generate_subscripts(o.call_stack, 1) - 1 AS depth) s
    JOIN events e ON e.trace_id = $trace_id AND e.event_id = s.slice_id
    WHERE ($kind <> '' OR $depth = -2) AND ($kind = '' OR e.kind = $kind)
),
picked AS (
    SELECT * FROM (SELECT *, max(depth) OVER (PARTITION BY op_id) AS innermost FROM stacked)
    WHERE CASE WHEN $depth >= 0 THEN depth = $depth WHEN $depth = -2 THEN true ELSE depth = innermost END
),
stacked_named AS (
    SELECT name, kind, count(DISTINCT slice_id) AS instances, count(DISTINCT op_id) AS gpu_ops,
           sum(ns) FILTER (WHERE is_self) AS self_ns, sum(ns) AS total_ns
    FROM (SELECT DISTINCT ON (op_id, name) * FROM picked ORDER BY op_id, name, is_self DESC)  -- recursion: a name counts an op once
    GROUP BY name, kind
),
per_name AS (SELECT * FROM direct_named UNION ALL SELECT * FROM stacked_named)
SELECT name, kind, instances, gpu_ops, coalesce(self_ns, 0)::BIGINT AS self_ns, total_ns::BIGINT AS total_ns,
       round(100.0 * total_ns / (SELECT sum(end_ns - ts_ns) FROM gpu_timeline WHERE trace_id = $trace_id), 2) AS pct_of_gpu
FROM per_name
ORDER BY total_ns DESC, name
LIMIT $top_n;
