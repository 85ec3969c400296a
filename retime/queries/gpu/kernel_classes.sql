-- GPU time per class of op (see gpu_class in retime/foundation/gpu.sql for the rules).
-- @include gpu
-- @param trace_id BIGINT     trace to analyse
-- @column class VARCHAR
-- @column count BIGINT
-- @column total_ns BIGINT    durations summed
-- @column share_pct DOUBLE   of all GPU op time
-- @empty the trace has no GPU kernels, copies or memsets
SELECT class, sum(ops) AS count, sum(ns)::BIGINT AS total_ns,
       round(100.0 * sum(ns) / sum(sum(ns)) OVER (), 2) AS share_pct
FROM gpu_name_totals($trace_id) GROUP BY class ORDER BY total_ns DESC;
