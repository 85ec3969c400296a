"""What an event's kind and args mean is declared once: the GPU-op kinds and the step pattern in
retime/foundation/kinds.sql, the Kineto args keys the store reads in retime/ingest/kineto_args.toml;
the readers, derived tables, queries and exports use those declarations instead of their own lists."""
from __future__ import annotations

import re

from retime import foundation
from retime.ingest import json_tokens, kineto_args
from retime.queries import runner
from retime.core.sqlfiles import filled_sql
from tests.conftest import ROOT

GPU_KINDS = re.compile(r"IN \((?:'(?:kernel|collective|memcpy|memset)', ){2,}'(?:kernel|collective|memcpy|memset)'\)")


def _code():
    for path in sorted((ROOT / "retime").rglob("*")):
        if path.suffix in (".sql", ".py") and "__pycache__" not in path.parts:
            yield path, path.read_text()


def test_the_gpu_op_kinds_and_the_step_pattern_are_written_once():
    kinds_sql = ROOT / "retime" / "foundation" / "kinds.sql"
    lists = [p.relative_to(ROOT) for p, text in _code() if p != kinds_sql and GPU_KINDS.search(text)]
    patterns = [p.relative_to(ROOT) for p, text in _code() if p != kinds_sql and "ProfilerStep#[0-9]" in text]
    assert lists == [] and patterns == []
    assert foundation.STEP_PATTERN == "^ProfilerStep#[0-9]+$"
    defaults = {q.name: p.default for q in runner.catalogue().values() for p in q.params if p.name == "window"}
    assert defaults and set(defaults.values()) == {foundation.STEP_PATTERN}


def test_the_args_keys_are_the_declarations_in_every_reader(store):
    declared = kineto_args.fields()
    assert json_tokens.ARG_KEYS == tuple(k for f in declared for k in f.keys) == kineto_args.keys()
    events = dict(store.con.execute("SELECT column_name, column_type FROM (DESCRIBE events)").fetchall())
    assert all(events[f.column] == f.type for f in declared)  # each fills an events column of its type
    for script in ("chrome_read", "chrome_read_batch", "chrome_events"):
        text = filled_sql("retime.ingest", script, kineto_args.fill())
        assert not re.search(r"\{(arg|args)_\w+\}", text), script  # every piece filled
        assert not re.search(r"\barg[0-9]+\b|\ba\[[0-9]+\] AS", filled_sql("retime.ingest", script, {}))  # no key by position
