-- The GPU ops that take the most time: per name, with its class, count, duration statistics and
-- share of all GPU op time (durations summed, so concurrent ops each count).
-- @include gpu
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
WITH per_name AS (
    SELECT name, any_value(kind) AS kind, count(*) AS count, sum(end_ns - ts_ns) AS total_ns,
           avg(end_ns - ts_ns) AS mean_ns, quantile_cont(end_ns - ts_ns, 0.5) AS p50_ns,
           quantile_cont(end_ns - ts_ns, 0.99) AS p99_ns, max(end_ns - ts_ns) AS max_ns
    FROM gpu_timeline WHERE trace_id = $trace_id  -- every GPU op (retime/store/sql/schema.sql)
    GROUP BY name
)
SELECT name, gpu_class(kind, coalesce(name, '')) AS class, count, total_ns::BIGINT AS total_ns,
       round(mean_ns, 1) AS mean_ns, p50_ns, p99_ns, max_ns,
       round(100.0 * total_ns / sum(total_ns) OVER (), 2) AS share_pct
FROM per_name
ORDER BY total_ns DESC, name
LIMIT $top_n;
