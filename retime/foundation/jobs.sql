-- What a job's ranks are: its measured traces (a replay saved from one of them keeps their job name
-- and is no rank of it), or, for a job that no measured trace belongs to (a whole job's replay saved
-- with `retime replay --all-ranks --save`, under a job name of its own), its replayed traces.
CREATE OR REPLACE TEMP MACRO job_rank_traces(job_name) AS TABLE
SELECT * FROM traces t
WHERE t.job = job_name
  AND (t.format <> 'replay' OR NOT EXISTS (SELECT 1 FROM traces m WHERE m.job = job_name AND m.format <> 'replay'));
