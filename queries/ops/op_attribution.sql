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
stacked AS (
    SELECT g.event_id AS op_id, g.end_ns - g.ts_ns AS ns, unnest(g.call_stack) AS slice_id,
           generate_subscripts(g.call_stack, 1) - 1 AS depth, len(g.call_stack) AS height
    FROM gpu_timeline g WHERE g.trace_id = $trace_id AND g.call_stack IS NOT NULL
),
named AS (
    SELECT s.*, op_name(e.name) AS name, e.kind
    FROM stacked s JOIN events e ON e.trace_id = $trace_id AND e.event_id = s.slice_id
    WHERE $kind = '' OR e.kind = $kind
),
picked AS (
    SELECT *, depth = height - 1 AS is_self FROM named
    WHERE CASE WHEN $depth >= 0 THEN depth = $depth WHEN $depth = -2 THEN true
               ELSE depth = (SELECT max(n2.depth) FROM named n2 WHERE n2.op_id = named.op_id) END
),
per_name AS (
    SELECT name, kind, count(DISTINCT slice_id) AS instances, count(DISTINCT op_id) AS gpu_ops,
           sum(ns) FILTER (WHERE is_self)::BIGINT AS self_ns, sum(ns)::BIGINT AS total_ns
    FROM (SELECT DISTINCT ON (op_id, name) * FROM picked)  -- recursion: one name counts an op once
    GROUP BY name, kind
)
SELECT name, kind, instances, gpu_ops, coalesce(self_ns, 0) AS self_ns, total_ns,
       round(100.0 * total_ns / (SELECT sum(end_ns - ts_ns) FROM gpu_timeline WHERE trace_id = $trace_id), 2) AS pct_of_gpu
FROM per_name
ORDER BY total_ns DESC, name
LIMIT $top_n;
