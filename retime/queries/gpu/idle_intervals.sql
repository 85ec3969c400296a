-- The idle intervals of each GPU stream as a distribution: how many gaps between consecutive ops
-- (a gap: the next op starts after every earlier op of the stream has ended, as idle_breakdown
-- finds them), their quantiles and a histogram by decade of length. Many gaps of a few µs mean
-- back-to-back kernels the host keeps up with; a few long ones mean the stream waited on the host,
-- a synchronization or another stream (idle_breakdown says which).
-- @param trace_id BIGINT      trace to analyse
-- @column device INTEGER
-- @column stream BIGINT
-- @column gaps BIGINT
-- @column idle_ns BIGINT      the gaps' lengths, summed
-- @column p50_ns DOUBLE       gap length quantiles (linear interpolation)
-- @column p90_ns DOUBLE
-- @column p99_ns DOUBLE
-- @column max_ns BIGINT
-- @column under_1us BIGINT    gaps shorter than 1 µs
-- @column us_1_10 BIGINT      1 µs to under 10 µs
-- @column us_10_100 BIGINT    10 µs to under 100 µs
-- @column us_100_1000 BIGINT  100 µs to under 1 ms
-- @column ms_1_10 BIGINT      1 ms to under 10 ms
-- @column over_10ms BIGINT    10 ms and longer
-- @empty the trace has no GPU stream with a gap between two ops
WITH gaps AS (SELECT * FROM gpu_stream_gaps WHERE trace_id = $trace_id)  -- stream_gaps of retime/foundation/gpu.sql, as idle_breakdown finds them
SELECT device, stream, count(*) AS gaps, sum(gap_ns)::BIGINT AS idle_ns,
       quantile_cont(gap_ns, 0.5) AS p50_ns, quantile_cont(gap_ns, 0.9) AS p90_ns, quantile_cont(gap_ns, 0.99) AS p99_ns,
       max(gap_ns) AS max_ns,
       count(*) FILTER (WHERE gap_ns < 1000) AS under_1us,
       count(*) FILTER (WHERE gap_ns >= 1000 AND gap_ns < 10000) AS us_1_10,
       count(*) FILTER (WHERE gap_ns >= 10000 AND gap_ns < 100000) AS us_10_100,
       count(*) FILTER (WHERE gap_ns >= 100000 AND gap_ns < 1000000) AS us_100_1000,
       count(*) FILTER (WHERE gap_ns >= 1000000 AND gap_ns < 10000000) AS ms_1_10,
       count(*) FILTER (WHERE gap_ns >= 10000000) AS over_10ms
FROM gaps
GROUP BY device, stream
ORDER BY device, stream;
