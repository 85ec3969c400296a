-- Copy bandwidth over time, per device and direction: the trace's span cut into buckets, each
-- copy's bytes spread evenly over its duration, and the bytes that fall in a bucket over the
-- bucket's length. Concurrent copies add up, so a bucket shows what the link carried then (HTA's
-- memory bandwidth time series sums the copies running at each instant the same way). Memsets
-- write device memory and are a direction of their own.
-- @param trace_id BIGINT       trace to analyse
-- @param buckets BIGINT = 100  how many equal buckets the trace's GPU span is cut into
-- @column device INTEGER
-- @column direction VARCHAR    H2D | D2H | D2D | P2P | H2H | memset
-- @column bucket BIGINT        0-based bucket number
-- @column offset_ms DOUBLE     bucket start, ms after the trace's first GPU op
-- @column gbps DOUBLE          bytes moved in the bucket over its length, GB/s
-- @column copies BIGINT        copies running in the bucket
-- @empty the trace has no copy or memset with a byte count
WITH
span AS (
    SELECT min(ts_ns) AS t0, greatest(1, (max(end_ns) - min(ts_ns) + $buckets - 1) // $buckets) AS width  -- the last bucket ends at or after the last op
    FROM gpu_timeline WHERE trace_id = $trace_id
),
copies AS (
    SELECT g.device, CASE WHEN g.kind = 'memset' THEN 'memset' ELSE e.copy_kind END AS direction,
           g.ts_ns, g.end_ns, e.bytes
    FROM gpu_timeline g JOIN events e ON e.trace_id = g.trace_id AND e.event_id = g.event_id
    WHERE g.trace_id = $trace_id AND g.kind IN ('memcpy', 'memset') AND e.bytes IS NOT NULL
),
spread AS (  -- each copy over the buckets it touches, with the share of its duration in each
    SELECT c.*, unnest(range((c.ts_ns - s.t0) // s.width, (greatest(c.end_ns - 1, c.ts_ns) - s.t0) // s.width + 1)) AS bucket,
           s.t0, s.width
    FROM copies c, span s
)
SELECT device, direction, bucket, round((bucket * width) / 1e6, 6) AS offset_ms,
       round(sum(CASE WHEN end_ns = ts_ns THEN bytes
                      ELSE bytes * (least(end_ns, t0 + (bucket + 1) * width) - greatest(ts_ns, t0 + bucket * width))
                           / (end_ns - ts_ns) END) / any_value(width), 4) AS gbps,
       count(*) AS copies
FROM spread
GROUP BY device, direction, bucket, width
ORDER BY device, direction, bucket;
