"""The stress-point query library: one .sql file per analysis, grouped by topic, run by runner.py."""
