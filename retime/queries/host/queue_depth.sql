-- How far the host ran ahead of each GPU stream, over time: the number of ops launched on the
-- stream and not yet finished (a launch call's start counts it in, the op's end out), per time
-- bucket. A depth near 0 while the stream idles means the GPU waited for launches; a deep queue
-- means the host was ahead and the GPU was the bottleneck.
-- @include gpu intervals
-- @param trace_id BIGINT           trace to analyse
-- @param bucket_ns BIGINT = 1000000  bucket width (ns)
-- @column device INTEGER
-- @column stream BIGINT
-- @column bucket_start_ns BIGINT  buckets count from the trace's first event (traces.start_ns)
-- @column mean_depth DOUBLE        time-weighted mean over the bucket
-- @column max_depth BIGINT
-- @empty the trace has no GPU op with a launch call
WITH
launched AS (SELECT * FROM gpu_launches($trace_id)),  -- retime/foundation/gpu.sql
origin AS (SELECT start_ns AS o FROM traces WHERE trace_id = $trace_id),
bounds AS (
    SELECT device, stream, o + (min(call_t) - o) // $bucket_ns * $bucket_ns AS lo, max(end_ns) AS hi
    FROM launched, origin GROUP BY device, stream, o
),
changes AS (  -- +1 at a launch, -1 at an op's end, 0 at every bucket boundary (so no segment crosses one)
    SELECT {'device': device, 'stream': stream} AS grp, call_t AS t, 1 AS delta FROM launched
    UNION ALL SELECT {'device': device, 'stream': stream}, end_ns, -1 FROM launched
    UNION ALL SELECT {'device': b.device, 'stream': b.stream}, unnest(range(b.lo, b.hi + $bucket_ns, $bucket_ns)), 0 FROM bounds b
),
segments AS (  -- the depth from each instant to the next (step_levels, retime/foundation/intervals.sql)
    SELECT grp.device, grp.stream, t, level AS depth, next_t - t AS len FROM step_levels(changes)
)
SELECT device, stream, bucket_start_ns,
       round(sum(depth * len) / nullif(sum(len), 0), 3) AS mean_depth, max(depth) AS max_depth
FROM (SELECT s.*, o + (t - o) // $bucket_ns * $bucket_ns AS bucket_start_ns FROM segments s, origin WHERE len IS NOT NULL)
GROUP BY ALL
HAVING sum(len) > 0
ORDER BY device, stream, bucket_start_ns;
