"""The replayer: re-times a trace's dependency graph under hypothetical hardware (graph.py builds
it in DuckDB, scenario.py reads what changes, kernels.py re-times it in one numba pass)."""
