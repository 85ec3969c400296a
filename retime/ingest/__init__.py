"""Readers that normalize profiler traces into the store: one module per source format."""


def define_macros(con) -> None:
    """The macros every reader's SQL uses: its own (sql/macros.sql) and the foundation's event kinds
    (is_gpu_op, step_pattern: retime/foundation/kinds.sql)."""
    from retime import foundation
    from retime.core.sqlfiles import run_script
    run_script(con, "retime.ingest", "macros")
    foundation.load(con, "kinds")
