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
