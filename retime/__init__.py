"""retime: ingest profiler traces into DuckDB, re-time them under hypothetical hardware, find stress points in SQL."""
from retime.core.errors import QueryError, RetimeError, ScenarioError, StoreError, TraceFormatError

__all__ = ["Store", "open", "open_lake", "topology", "RetimeError", "TraceFormatError", "StoreError", "QueryError", "ScenarioError"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """Store, open, open_lake and topology, imported on first use: `retime --help` need not load DuckDB."""
    if name in ("Store", "open", "open_lake", "topology"):
        from retime import api
        return getattr(api, name)
    raise AttributeError(f"module 'retime' has no attribute {name!r}")
