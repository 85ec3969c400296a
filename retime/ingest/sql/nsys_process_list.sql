-- The processes to write as traces, ranks first.
SELECT globalPid, pid, process_name, gpu_ops, rank, world_size FROM nsys_procs ORDER BY rank NULLS LAST, pid;
