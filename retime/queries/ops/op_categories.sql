-- GPU time per category of work, decided by the operator that launched it where one is known: a
-- kernel belongs to the innermost CPU operator around its launch call that a rule of
-- retime/foundation/op_rules.toml names (aten::addmm: gemm, aten::native_layer_norm: norm,
-- c10d::allreduce_: communication, aten::copy_: memory, ...); a kernel no named operator launched
-- takes its category from its own name (kernel_classes.toml: convolution -> conv, reduction ->
-- elementwise, the rest as named). Collectives are communication and copies / memsets memory by
-- their kind, whatever launched them. source says which decided. In Nsight traces the operators
-- are torch's emit_nvtx ranges, named without the op_id it appends.
-- @param trace_id BIGINT       trace to analyse
-- @column category VARCHAR     gemm | attention | conv | norm | elementwise | communication | memory | other
-- @column source VARCHAR       operator (a named CPU operator launched it) | kernel (its kind or name decided)
-- @column gpu_ops BIGINT
-- @column gpu_ns BIGINT        durations summed
-- @column pct DOUBLE           share of all GPU op time
-- @column top_operator VARCHAR the operator (or, by kernel, the kernel name) with the most GPU time in the row
-- @empty the trace has no GPU kernels, copies or memsets
WITH
-- each GPU op's category, source and deciding operator were found when the trace was written
-- (gpu_timeline.category: gpu_op_category in retime/foundation/ops.sql, over the innermost
-- categorised slice of its call stack, retime/store/nesting.py)
per_operator AS (  -- one pass over the ops: time per category, source and deciding operator (or kernel name)
    SELECT category, category_source AS source, category_operator AS operator, count(*) AS gpu_ops, sum(end_ns - ts_ns) AS ns
    FROM gpu_timeline WHERE trace_id = $trace_id
    GROUP BY ALL
),
rows AS (
    SELECT category, source, sum(gpu_ops) AS gpu_ops, sum(ns)::BIGINT AS gpu_ns FROM per_operator GROUP BY ALL
),
tops AS (
    SELECT category, source, first(operator ORDER BY ns DESC, operator) AS top_operator  -- a tie: the first by name
    FROM per_operator GROUP BY ALL
)
SELECT r.category, r.source, r.gpu_ops::BIGINT AS gpu_ops, r.gpu_ns, round(100.0 * r.gpu_ns / sum(r.gpu_ns) OVER (), 2) AS pct, t.top_operator
FROM rows r JOIN tops t USING (category, source)
ORDER BY r.gpu_ns DESC, r.category, r.source;
