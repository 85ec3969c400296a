-- The rank traces of a job (job_rank_traces, retime/foundation/jobs.sql), by rank.
SELECT trace_id, rank FROM job_rank_traces($job) ORDER BY rank NULLS LAST, trace_id;
