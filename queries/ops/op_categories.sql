-- GPU time per category of work, decided by the operator that launched it where one is known: a
-- kernel belongs to the innermost CPU operator around its launch call that a rule of
-- retime/foundation/op_rules.toml names (aten::addmm: gemm, aten::native_layer_norm: norm,
-- c10d::allreduce_: communication, aten::copy_: memory, ...); a kernel no named operator launched
-- takes its category from its own name (kernel_classes.toml: convolution -> conv, reduction ->
-- elementwise, the rest as named). Collectives are communication and copies / memsets memory by
-- their kind, whatever launched them. source says which decided. In Nsight traces the operators
-- are torch's emit_nvtx ranges, named without the op_id it appends.
-- @include ops gpu
-- @param trace_id BIGINT       trace to analyse
-- @column category VARCHAR     gemm | attention | conv | norm | elementwise | communication | memory | other
-- @column source VARCHAR       operator (a named CPU operator launched it) | kernel (its kind or name decided)
-- @column gpu_ops BIGINT
-- @column gpu_ns BIGINT        durations summed
-- @column pct DOUBLE           share of all GPU op time
-- @column top_operator VARCHAR the operator (or, by kernel, the kernel name) with the most GPU time in the row
-- @empty the trace has no GPU kernels, copies or memsets
WITH
ops AS (SELECT event_id, kind, name, end_ns - ts_ns AS ns, call_stack FROM gpu_timeline WHERE trace_id = $trace_id),
slice_names AS (  -- the categorised CPU operators of the trace (and emit_nvtx ranges, by their operator), by name
    SELECT name, op_name(name) AS operator, op_category(op_name(name)) AS category
    FROM (SELECT DISTINCT name FROM events WHERE trace_id = $trace_id AND kind IN ('cpu_op', 'annotation'))
),
stacked AS (
    SELECT o.event_id, unnest(o.call_stack) AS slice_id, generate_subscripts(o.call_stack, 1) AS pos
    FROM ops o WHERE o.kind = 'kernel' AND o.call_stack IS NOT NULL
),
by_operator AS (  -- each kernel's innermost categorised operator
    SELECT s.event_id, arg_max(n.category, s.pos) AS category, arg_max(n.operator, s.pos) AS operator
    FROM stacked s
    JOIN events e ON e.trace_id = $trace_id AND e.event_id = s.slice_id AND e.kind IN ('cpu_op', 'annotation')
    JOIN slice_names n ON n.name = e.name AND n.category IS NOT NULL
    GROUP BY s.event_id
),
kernel_names AS (
    SELECT kind, name, gpu_class(kind, coalesce(name, '')) AS class FROM (SELECT DISTINCT kind, name FROM ops)
),
classed AS (
    SELECT o.ns,
           CASE WHEN o.kind = 'collective' THEN 'communication' WHEN o.kind IN ('memcpy', 'memset') THEN 'memory'
                WHEN b.category IS NOT NULL THEN b.category
                ELSE CASE k.class WHEN 'convolution' THEN 'conv' WHEN 'reduction' THEN 'elementwise' ELSE k.class END
                END AS category,
           CASE WHEN o.kind = 'kernel' AND b.category IS NOT NULL THEN 'operator' ELSE 'kernel' END AS source,
           coalesce(CASE WHEN o.kind = 'kernel' THEN b.operator END, o.name) AS operator
    FROM ops o
    LEFT JOIN by_operator b USING (event_id)
    LEFT JOIN kernel_names k ON k.kind = o.kind AND k.name IS NOT DISTINCT FROM o.name
),
per_operator AS (  -- one pass over the ops: time per category, source and deciding operator (or kernel name)
    SELECT category, source, operator, count(*) AS gpu_ops, sum(ns) AS ns FROM classed GROUP BY ALL
),
rows AS (
    SELECT category, source, sum(gpu_ops) AS gpu_ops, sum(ns)::BIGINT AS gpu_ns FROM per_operator GROUP BY ALL
),
tops AS (
    SELECT category, source, arg_max(operator, ns) AS top_operator FROM per_operator GROUP BY ALL
)
SELECT r.category, r.source, r.gpu_ops::BIGINT AS gpu_ops, r.gpu_ns, round(100.0 * r.gpu_ns / sum(r.gpu_ns) OVER (), 2) AS pct, t.top_operator
FROM rows r JOIN tops t USING (category, source)
ORDER BY r.gpu_ns DESC, r.category, r.source;
