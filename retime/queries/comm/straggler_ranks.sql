-- Which ranks of a job arrive last at collectives, and by how much (see collective_skew).
-- @include comm
-- @param job VARCHAR            job whose rank traces to compare
-- @column rank INTEGER
-- @column collectives BIGINT    collectives this rank took part in
-- @column times_last BIGINT     how often it was the last to arrive
-- @column mean_lateness_ns DOUBLE  mean of (its start - first rank's start)
-- @column max_lateness_ns BIGINT
-- @empty the job has no rank traces with collective kernels
WITH per_rank AS (SELECT * FROM collective_arrivals($job)),  -- retime/foundation/comm.sql
framed AS (
    SELECT *, ts_ns - min(ts_ns) OVER (PARTITION BY seq) AS lateness_ns,
           rank = arg_max(rank, ts_ns) OVER (PARTITION BY seq) AS is_last
    FROM per_rank
)
SELECT rank, count(*) AS collectives, count(*) FILTER (WHERE is_last) AS times_last,
       round(avg(lateness_ns), 1) AS mean_lateness_ns, max(lateness_ns) AS max_lateness_ns
FROM framed GROUP BY rank ORDER BY times_last DESC, rank;
