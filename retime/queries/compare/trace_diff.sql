-- Two traces side by side (run vs run, e.g. two GPUs or two software versions): GPU time per
-- resource and per class of op, with the change. Positive delta: the second trace spends more.
-- @include gpu
-- @param trace_id BIGINT      the baseline trace
-- @param other_id BIGINT      the trace to compare with it
-- @column level VARCHAR       'resource' (compute | communication | memory) or 'class' (gemm, attention, ...)
-- @column bucket VARCHAR
-- @column base_ops BIGINT
-- @column base_ns BIGINT      durations summed
-- @column other_ops BIGINT
-- @column other_ns BIGINT
-- @column delta_ns BIGINT     other_ns - base_ns
-- @column ratio DOUBLE        other_ns / base_ns
-- @empty neither trace has GPU kernels, copies or memsets
WITH
a AS (SELECT resource, class, ops, ns FROM gpu_name_totals($trace_id)),  -- retime/foundation/gpu.sql
b AS (SELECT resource, class, ops, ns FROM gpu_name_totals($other_id)),
per AS (
    SELECT 'resource' AS level, resource AS bucket, 'a' AS side, sum(ops) AS ops, sum(ns) AS ns FROM a GROUP BY 1, 2, 3
    UNION ALL SELECT 'resource', resource, 'b', sum(ops), sum(ns) FROM b GROUP BY 1, 2, 3
    UNION ALL SELECT 'class', class, 'a', sum(ops), sum(ns) FROM a GROUP BY 1, 2, 3
    UNION ALL SELECT 'class', class, 'b', sum(ops), sum(ns) FROM b GROUP BY 1, 2, 3
)
SELECT level, bucket,
       coalesce(sum(ops) FILTER (WHERE side = 'a'), 0)::BIGINT AS base_ops, coalesce(sum(ns) FILTER (WHERE side = 'a'), 0)::BIGINT AS base_ns,
       coalesce(sum(ops) FILTER (WHERE side = 'b'), 0)::BIGINT AS other_ops, coalesce(sum(ns) FILTER (WHERE side = 'b'), 0)::BIGINT AS other_ns,
       (other_ns - base_ns)::BIGINT AS delta_ns, round(other_ns / nullif(base_ns, 0), 3) AS ratio
FROM per GROUP BY level, bucket
ORDER BY level DESC, abs(other_ns - base_ns) DESC, greatest(base_ns, other_ns) DESC, bucket;  -- ties in a fixed order
