"""The bottom of the house, below the store, the readers, the SQL library and the replayer: the
errors users see (errors.py), loading and running the .sql files (sqlfiles.py), progress reports
(progress.py), whether a numba pass would compile first (jit.py) and Arrow arrays made without
pyarrow's pandas checks (arrow.py). Nothing here imports the rest of retime."""

# temp tables that outlive any scratch block (sqlfiles.scratch_tables): a module that makes them
# names them here when it is imported (retime/foundation: the tables its macros read)
LASTING_TEMP_TABLES: set[str] = set()
