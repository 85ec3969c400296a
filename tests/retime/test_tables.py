"""Each table is declared once (retime/store/sql/schema.sql, `-- @table KIND`), and what lists or
acts on tables reads that declaration."""
from __future__ import annotations

import re

from retime.export import lake
from retime.store import derived, tables
from tests.conftest import ROOT


def test_the_declaration_is_the_store_a_fresh_open_makes(store):
    declared = {t.name: t.columns for t in tables.tables()}
    made = {name: tuple(store.sql(f"SELECT column_name FROM (DESCRIBE {name})")["column_name"])
            for name in store.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_catalog <> 'temp'")["table_name"]}
    assert made == declared
    assert all(t.doc for t in tables.tables())  # each says what it holds


def test_every_list_of_tables_is_read_from_the_declaration():
    assert derived.TABLES == tables.names("derived") and "gpu_timeline" in derived.TABLES
    assert lake.TABLES == tables.names("base", "derived", "replay") and "schema_info" not in lake.TABLES
    # no SQL file names the derived tables one by one any more (drops, copies, views are made from templates)
    listed = {}
    for path in ROOT.glob("**/sql/*.sql"):
        if ".venv" in path.parts:
            continue
        text = path.read_text()
        named = {t for t in derived.TABLES if re.search(rf"\b(DROP TABLE IF EXISTS|INSERT INTO|CREATE VIEW) {t}\b", text)}
        if len(named) > 2:
            listed[path.name] = sorted(named)
    assert listed == {"derive_trace.sql": sorted(set(derived.TABLES) - {"op_shapes", "cpu_top_ops"})}


def test_the_statements_cover_each_table_of_their_kinds_once():
    drops = tables.statements("drop", "derived").splitlines()
    assert drops == [f"DROP TABLE IF EXISTS {t};" for t in derived.TABLES]
    copies = tables.statements("commit_staged", *tables.PER_TRACE)
    assert [m for m in re.findall(r"INSERT INTO (\w+) BY NAME", copies)] == list(tables.names(*tables.PER_TRACE))


def test_every_insert_into_a_declared_table_names_its_columns():
    """Rows go in by column name (BY NAME, or a column list), so a column added to a table cannot
    shift another's values."""
    declared = "|".join(tables.names(*tables.KINDS))
    positional = []
    for path in (ROOT / "retime").glob("**/*.sql"):
        for m in re.finditer(rf"INSERT INTO ({declared})\b(?! BY NAME)(?! \()", path.read_text()):
            positional.append(f"{path.relative_to(ROOT)}: {m[0]}")
    assert positional == []


def test_no_python_string_reads_or_writes_a_traces_table():
    """Statements over a trace's rows live in .sql files (retime/core/sqlfiles.py); a string literal in
    the code that names a per-trace table (base, derived or replay) in SQL is one that escaped."""
    import ast
    per_trace = set(tables.names("base", "derived", "replay"))
    sql = re.compile(r"^\s*(SELECT|WITH|INSERT|DELETE|UPDATE|CREATE|DROP)\b", re.I)
    escaped = []
    for path in sorted((ROOT / "retime").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and sql.match(node.value):
                named = {t for t in per_trace if re.search(rf"\b{t}\b", node.value)}
                if named:
                    escaped.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(named)}")
    assert escaped == []
