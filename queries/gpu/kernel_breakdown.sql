-- The GPU ops that take the most time: per name, with its class, count, duration statistics and
-- share of all GPU op time (durations summed, so concurrent ops each count).
-- @param trace_id BIGINT     trace to analyse
-- @param top_n BIGINT = 20   how many names to return
-- @column name VARCHAR       kernel (or copy / memset) name
-- @column class VARCHAR      gemm | attention | convolution | reduction | elementwise | communication | memory | other
-- @column count BIGINT
-- @column total_ns BIGINT
-- @column mean_ns DOUBLE
-- @column p50_ns DOUBLE
-- @column p99_ns DOUBLE
-- @column max_ns BIGINT
-- @column share_pct DOUBLE   total_ns as a share of all GPU op time
-- @empty the trace has no GPU kernels, copies or memsets
SELECT name, any_value(class) AS class, count(*) AS count, sum(dur_ns)::BIGINT AS total_ns,
       round(avg(dur_ns), 1) AS mean_ns, quantile_cont(dur_ns, 0.5) AS p50_ns, quantile_cont(dur_ns, 0.99) AS p99_ns,
       max(dur_ns) AS max_ns,
       round(100.0 * sum(dur_ns) / sum(sum(dur_ns)) OVER (), 2) AS share_pct
FROM gpu_ops($trace_id)
GROUP BY name
ORDER BY total_ns DESC, name
LIMIT $top_n;
