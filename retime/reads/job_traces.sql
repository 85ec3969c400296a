-- The measured rank traces of a job, by rank.
SELECT trace_id, rank FROM traces WHERE job = $job AND format <> 'replay' ORDER BY rank NULLS LAST, trace_id;
