-- Do the rank traces of job $job (a folder's name, given to the files found in it, or a name given
-- with --job; job_rank_traces, retime/foundation/jobs.sql) look like the ranks of one run
-- (retime/store/jobs.py)? One row: how many traces, how many name no rank, the ranks written more
-- than once, the world sizes written, and how far apart their first events are (ns).
SELECT count(*) AS traces, count(*) FILTER (WHERE rank IS NULL) AS no_rank,
       (SELECT list(rank ORDER BY rank) FROM (SELECT rank FROM job_rank_traces($job)
                                               WHERE rank IS NOT NULL GROUP BY rank HAVING count(*) > 1)) AS repeated_ranks,
       list(DISTINCT world_size ORDER BY world_size) FILTER (WHERE world_size IS NOT NULL) AS world_sizes,
       max(start_ns) - min(start_ns) AS start_spread_ns
FROM job_rank_traces($job);
