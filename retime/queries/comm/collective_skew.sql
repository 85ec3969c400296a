-- Arrival skew of each collective across the ranks of a job: the n-th collective kernel of every
-- rank is taken to be the same collective (ranks issue collectives in the same order), and the
-- transfer cannot finish before the last rank arrives.
-- @include comm
-- @param job VARCHAR           job whose rank traces to compare
-- @column seq BIGINT           position of the collective on every rank (0-based)
-- @column coll_op VARCHAR      e.g. AllReduce, SendRecv
-- @column ranks BIGINT         ranks that have this collective
-- @column first_start_ns BIGINT
-- @column skew_ns BIGINT       last rank's kernel start minus the first's
-- @column last_rank INTEGER    the rank that arrived last
-- @empty the job has no rank traces with collective kernels
WITH per_rank AS (SELECT * FROM collective_arrivals($job))  -- retime/foundation/comm.sql
SELECT seq, any_value(coll_op) AS coll_op, count(*) AS ranks, min(ts_ns) AS first_start_ns,
       max(ts_ns) - min(ts_ns) AS skew_ns, arg_max(rank, ts_ns) AS last_rank
FROM per_rank GROUP BY seq ORDER BY seq;
