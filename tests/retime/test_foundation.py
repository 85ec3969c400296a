"""The shared macros (retime/foundation/) and the queries built on them: every include resolves, every
query runs on a fresh connection with only the modules it includes, and answers the columns its
header documents, in that order."""
from __future__ import annotations

import duckdb
import pytest
from retime import foundation
from retime.queries import runner

import retime
from tests.conftest import SAMPLE_TRACES


def test_every_include_names_a_foundation_module():
    known = set(foundation.modules())
    for query in runner.catalogue().values():
        assert set(query.includes) <= known, query.name
    for module in known:
        assert set(foundation.includes(foundation.text(module))) <= known, module


def test_a_module_comes_after_what_it_includes():
    order = foundation.closure(("critical_path",))
    assert order.index("_kernel_class_rules") < order.index("gpu") < order.index("critical_path")
    assert "host" in order and "comm" not in order


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    db = tmp_path_factory.mktemp("foundation") / "store.duckdb"
    with retime.open(db) as s:
        s.ingest([SAMPLE_TRACES / "gpu_h100" / "h2d_pinned.pt.trace.json.gz",
                  SAMPLE_TRACES / "gpu_h100" / "h2d_pageable.pt.trace.json.gz", SAMPLE_TRACES / "ddp_gloo_2rank"])
        s.replay(1, {"pcie.h2d": "2x"}, save=True)
        ids = s.sql("SELECT trace_id, format, job FROM traces ORDER BY trace_id").rows()
    return db, ids


@pytest.mark.parametrize("name", sorted(runner.catalogue()))
def test_each_query_needs_only_what_it_includes_and_answers_its_documented_columns(sample_store, name):
    db, ids = sample_store
    query = runner.catalogue()[name]
    measured, other = ids[0][0], ids[1][0]
    replay_id = next(trace_id for trace_id, fmt, _ in ids if fmt == "replay")
    values = {"trace_id": replay_id if query.topic == "replay" else measured, "other_id": other, "job": next(job for _, _, job in ids if job)}
    params = {p.name: values[p.name] for p in query.params if p.name in values}
    con = duckdb.connect(str(db), read_only=True)  # no macro defined on it yet
    try:
        result = runner.run(con, name, params)
    finally:
        con.close()
    assert result.columns == [column for column, _, _ in query.columns]


def test_the_foundations_tables_outlive_a_blocks_scratch_tables(tmp_path):
    """A store that loaded a module before an ingest (`traces` first, as a new user's session goes)
    keeps every table the modules made, so a replay after the ingest finds its rules."""
    with retime.open(tmp_path / "s.duckdb") as store:
        store.traces()
        store.ingest(SAMPLE_TRACES / "gpu_h100" / "h2d_pageable.pt.trace.json.gz")
        assert store.replay(1, []).predicted_ns > 0
        foundation.load(store.con, *foundation.modules())
        temp = {r[0] for r in store.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
        assert temp == foundation.TEMP_TABLES


def defined_names(module: str) -> set[str]:
    """What a module gives the SQL that includes it: its macros, its tables, its first-match macro."""
    import re
    text = foundation.text(module)
    names = {m.name for m in foundation.macros(module)}
    names |= set(re.findall(r"CREATE (?:OR REPLACE )?(?:TEMP )?TABLE (?:IF NOT EXISTS )?(\w+)", text))
    names |= {macro for key, (macro, *_rest) in foundation._FIRST_MATCH.items() if key == module}
    return names


def test_every_macro_documents_its_arguments_and_what_it_answers():
    """Each macro: a line of prose, `@arg NAME TYPE doc` for every argument in order, and `@column`s
    (a table macro) or `@returns` (a scalar one)."""
    faults = []
    for module in foundation.modules():
        for macro in foundation.macros(module):
            where = f"{module}.{macro.name}"
            if not macro.doc:
                faults.append(f"{where}: no description")
            if tuple(name for name, _, _ in macro.args) != macro.params:
                faults.append(f"{where}: @arg {[a for a, _, _ in macro.args]} for arguments {list(macro.params)}")
            faults += [f"{where}: @arg {name} has no type or doc" for name, kind, doc in macro.args if not (kind and doc)]
            if macro.table and (not macro.columns or macro.returns):
                faults.append(f"{where}: a table macro documents its @columns, not a @returns")
            if not macro.table and (macro.columns or not macro.returns):
                faults.append(f"{where}: a scalar macro documents its @returns")
    assert faults == []


def test_each_table_macro_answers_the_columns_it_documents(sample_store):
    """DuckDB's DESCRIBE of every table macro, on a real store, against its @column lines."""
    db, ids = sample_store
    values = {"t": str(ids[0][0]), "replay_id": str(next(t for t, fmt, _ in ids if fmt == "replay")),
              "job_name": f"'{next(job for _, _, job in ids if job)}'", "window_pattern": "'ProfilerStep'",
              "pattern": "'ProfilerStep'", "bucket_ns": "1000000", "resources": "['compute']", "gpu": "''"}
    # the interval macros read any table: one of their documented columns each, from the GPU ops
    tables = {"interval_union": "SELECT device AS grp, ts_ns AS s, end_ns AS e FROM gpu_timeline",
              "covered_before": "SELECT device AS grp, lo, hi FROM gpu_busy_islands",
              "step_levels": "SELECT device AS grp, ts_ns AS t, 1 AS delta FROM gpu_timeline"}
    con = duckdb.connect(str(db), read_only=True)
    try:
        foundation.load(con, *foundation.modules())
        for name, sql in tables.items():
            con.execute(f"CREATE TEMP VIEW {name}_input AS {sql}")
        for module in foundation.modules():
            for macro in (m for m in foundation.macros(module) if m.table):
                given = dict(values, tbl=f"'{macro.name}_input'")
                call = f"{macro.name}({', '.join(given[p] for p in macro.params)})"
                described = [(row[0], row[1]) for row in con.execute(f"DESCRIBE SELECT * FROM {call}").fetchall()]
                documented = [(name, of_type) for name, of_type, _ in macro.columns]
                assert len(described) == len(documented), f"{module}.{macro.name}"
                assert all(d[0] == w[0] and w[1] in (d[1], "ANY") for d, w in zip(described, documented)), \
                    f"{module}.{macro.name}: {described} against {documented}"
    finally:
        con.close()


def test_every_include_is_used_and_private_helpers_stay_in_their_module():
    """A module or query names something of each module it includes; a `_helper` macro is used
    only in the module that defines it."""
    import re
    unused = []
    for module in foundation.modules():
        text = foundation.text(module)
        for inner in foundation.includes(text):
            if not any(re.search(rf"\b{name}\b", text) for name in defined_names(inner)):
                unused.append(f"{module} includes {inner}")
    for query in runner.catalogue().values():
        for inner in query.includes:
            if not any(re.search(rf"\b{name}\b", query.sql) for name in defined_names(inner)):
                unused.append(f"query {query.name} includes {inner}")
    assert unused == []
    private = {m.name: module for module in foundation.modules() for m in foundation.macros(module) if m.name.startswith("_")}
    leaks = [f"{name} ({home}) used in {other}" for name, home in private.items()
             for other in foundation.modules() if other != home and re.search(rf"\b{name}\b", foundation.text(other))]
    leaks += [f"{name} used in query {q.name}" for name in private for q in runner.catalogue().values()
              if re.search(rf"\b{name}\b", q.sql)]
    assert leaks == []


def test_ad_hoc_sql_can_call_the_librarys_macros(sample_store):
    db, ids = sample_store
    with retime.open(db, read_only=True) as store:
        spans = store.sql("SELECT count(*) AS n FROM gpu_spans($t)", params={"t": ids[0][0]})["n"][0]
        assert spans == store.sql("SELECT count(*) AS n FROM gpu_timeline WHERE trace_id = $t", params={"t": ids[0][0]})["n"][0] > 0
    assert foundation.modules_called("SELECT collective_bus_bytes(a, b, c, d), gpu_class(k, n) FROM x") == ["comm", "gpu"]
    assert foundation.modules_called("SELECT gpu_classes FROM x") == []
