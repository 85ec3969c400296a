"""The SQL the front door (retime/api.py), the replayer's comparisons and the CLI read a store with:
a trace by id, hash or path, its extent, rank, job and GPUs, the trace list, `info`'s summaries, a
trace's step windows and the workload overlap of two traces. Load them with
`load_sql("retime.reads", NAME)`."""
