"""retime: ingest profiler traces into DuckDB, re-time them under hypothetical hardware, find stress points in SQL."""
from retime.api import Store, open, open_lake
from retime.errors import QueryError, RetimeError, ScenarioError, StoreError, TraceFormatError

__all__ = ["Store", "open", "open_lake", "RetimeError", "TraceFormatError", "StoreError", "QueryError", "ScenarioError"]
__version__ = "0.1.0"
