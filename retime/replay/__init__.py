"""The replayer: re-times a trace's dependency graph under hypothetical hardware (graph.py builds
it in DuckDB, scenario.py reads what changes, engine.py re-times it with passes.py's numba passes
and summarizes; job.py joins a job's ranks into one graph, sweep.py runs many scenarios at once)."""
