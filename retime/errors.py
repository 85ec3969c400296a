"""The exception families users see.

Each is raised deep in the library with a message that already names the file, the place in it
and what was expected; the CLI catches them once and prints that line, never a traceback.
"""


class RetimeError(Exception):
    """Base of every error retime reports to a user."""


class TraceFormatError(RetimeError):
    """A trace file is unreadable, malformed, truncated beyond use, or of an unsupported format."""


class StoreError(RetimeError):
    """The DuckDB store cannot be opened, is locked, or has an incompatible schema."""


class QueryError(RetimeError):
    """A query or SQL statement is unknown or failed."""


class ScenarioError(RetimeError):
    """A replay scenario names an unknown knob or a value that cannot be read."""
