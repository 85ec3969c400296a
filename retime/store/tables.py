"""The store's tables, declared once: retime/store/sql/schema.sql, where each CREATE TABLE follows a
`-- @table KIND` line. KIND is `meta` (the store's own bookkeeping), `base` (what ingest writes from
a trace's file), `derived` (computed from a trace's base rows when it is written,
retime/store/sql/derive_trace.sql) or `replay` (what a saved replay on a topology adds). Every list
of tables (the ones an upgrade drops and derives again, a parallel ingest's commit copies, the lake
exports and views, the rows a re-derivation deletes) is read from here, and every statement over
such a list is made from one template of retime/store/sql/table_statements.sql."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from retime.foundation import comment_above
from retime.core.sqlfiles import load_sql

KINDS = ("meta", "base", "derived", "replay")
PER_TRACE = ("base", "derived", "replay")  # tables keyed by trace_id: copied, exported, viewed per trace
DECLARATION = re.compile(r"^-- @table (\w+)\s*\nCREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", re.M | re.S)
COLUMN = re.compile(r"^\s{4}(?!PRIMARY |UNIQUE |CHECK |FOREIGN |CONSTRAINT )(\w+)\s+[A-Z]", re.M)
STATEMENT = re.compile(r"^-- @statement (\w+)\s*\n(.*?)(?=^-- @statement |\Z)", re.M | re.S)


@dataclass(frozen=True)
class Table:
    name: str
    kind: str
    columns: tuple[str, ...]
    doc: str  # the comment above its declaration, as one line


@lru_cache(maxsize=1)
def tables() -> tuple[Table, ...]:
    """Every table schema.sql declares, in its order."""
    schema = load_sql("retime.store", "schema")
    found = tuple(Table(m[2], m[1], tuple(COLUMN.findall(m[3])),
                        " ".join(line[2:].strip() for line in comment_above(schema, m.start())))
                  for m in DECLARATION.finditer(schema))
    unknown = [t.name for t in found if t.kind not in KINDS]
    if unknown:
        raise ValueError(f"retime/store/sql/schema.sql: tables of no known kind ({', '.join(KINDS)}): {', '.join(unknown)}")
    return found


def markdown() -> str:
    """The tables as docs/schema.md lists them (its generated block, docs/make_docs.py)."""
    rows = ["| table | kind | columns | what it holds |", "|---|---|---|---|"]
    rows += [f"| `{t.name}` | {t.kind} | {', '.join(f'`{c}`' for c in t.columns)} | {t.doc} |" for t in tables()]
    return "\n".join(rows) + "\n"


def names(*kinds: str) -> tuple[str, ...]:
    """The names of the tables of these kinds, in schema order."""
    return tuple(t.name for t in tables() if t.kind in kinds)


@lru_cache(maxsize=None)
def statements(template: str, *kinds: str) -> str:
    """One statement a table of these kinds, from a template of table_statements.sql (its `{table}`
    the table's declared name: a declared identifier, never a value)."""
    found = dict(STATEMENT.findall(load_sql("retime.store", "table_statements")))
    body = "\n".join(line for line in found[template].strip().splitlines() if not line.startswith("--"))
    return "".join(body.replace("{table}", name) + "\n" for name in names(*kinds))
