-- Take the traces $ids out of job $job: the files of their folder are not the ranks of one run.
UPDATE traces SET job = NULL WHERE job = $job AND list_contains($ids, trace_id);
