"""Nsight Systems exports land in the same shape as Kineto traces; checked against the SQLite itself."""
from __future__ import annotations

import shutil
import sqlite3

import pytest

import retime
from retime.ingest import nsys
from tests.conftest import table_counts

EXPORTS = ["nsys/h100_2gpu_1s.sqlite", "nsys/rtx3080_tiny.sqlite", "pipit/saxpy_mpi_cuda_a100_nsys2022.2.sqlite"]
GPU_TABLES = {"CUPTI_ACTIVITY_KIND_KERNEL": None, "CUPTI_ACTIVITY_KIND_MEMCPY": "memcpy",
              "CUPTI_ACTIVITY_KIND_MEMSET": "memset", "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION": "sync"}
HOST_TABLES = {"CUPTI_ACTIVITY_KIND_RUNTIME": "runtime", "CUPTI_ACTIVITY_KIND_DRIVER": "driver"}


def sqlite_counts(path) -> dict:
    """Per-kind record counts and total kernel time, straight from the export with sqlite3."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    counts = {}
    for table, kind in {**GPU_TABLES, **HOST_TABLES}.items():
        if table in tables:
            n = db.execute(f'SELECT count(*) FROM "{table}" WHERE "end" >= start').fetchone()[0]
            if kind:
                counts[kind] = counts.get(kind, 0) + n
    if "NVTX_EVENTS" in tables:
        counts["annotation"] = db.execute("SELECT count(*) FROM NVTX_EVENTS WHERE eventType IN (59, 60) "
                                          "AND \"end\" >= start").fetchone()[0]
        counts["instant"] = db.execute("SELECT count(*) FROM NVTX_EVENTS WHERE eventType = 34").fetchone()[0]
    kernels = db.execute("SELECT count(*), coalesce(sum(\"end\" - start), 0) FROM CUPTI_ACTIVITY_KIND_KERNEL").fetchone()
    counts["kernel+collective"], counts["kernel_ns"] = kernels
    launches = 0
    for gpu_table in ("CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_MEMCPY", "CUPTI_ACTIVITY_KIND_MEMSET"):
        if gpu_table in tables:
            launches += db.execute(f"""
                SELECT count(*) FROM "{gpu_table}" g WHERE EXISTS (
                    SELECT 1 FROM CUPTI_ACTIVITY_KIND_RUNTIME r
                    WHERE r.correlationId = g.correlationId AND (r.globalTid >> 24) = (g.globalPid >> 24))""").fetchone()[0]
    counts["launches"] = launches
    return {k: v for k, v in counts.items() if v}


@pytest.mark.parametrize("name", EXPORTS)
def test_every_record_is_an_event_and_every_launch_an_edge(store, shared_traces, name):
    path = shared_traces / name
    expected = sqlite_counts(path)
    [result] = store.ingest(path)
    assert result.status == "ingested", result.error
    ids = result.trace_ids
    got = store.sql("SELECT kind, count(*) AS n FROM events WHERE list_contains($ids, trace_id) GROUP BY kind",
                    params={"ids": ids})
    by_kind = dict(zip(got["kind"], got["n"]))
    kernel_ns = store.sql("SELECT coalesce(sum(dur_ns), 0) AS ns FROM events WHERE list_contains($ids, trace_id) "
                          "AND kind IN ('kernel', 'collective')", params={"ids": ids})["ns"][0]
    launches = store.sql("SELECT count(*) AS n FROM deps WHERE list_contains($ids, trace_id) AND kind = 'launch'",
                         params={"ids": ids})["n"][0]
    actual = {k: v for k, v in by_kind.items() if k not in ("kernel", "collective")}
    actual["kernel+collective"] = by_kind.get("kernel", 0) + by_kind.get("collective", 0)
    actual["kernel_ns"], actual["launches"] = kernel_ns, launches
    assert {k: v for k, v in actual.items() if v} == expected


def test_a_report_of_two_gpu_processes_is_a_two_rank_job(store, shared_traces):
    [result] = store.ingest(shared_traces / "nsys" / "h100_2gpu_1s.sqlite")
    traces = store.sql("SELECT job, rank, world_size, format FROM traces ORDER BY rank").to_dicts()
    assert traces == [{"job": "h100_2gpu_1s", "rank": 0, "world_size": 2, "format": "nsys"},
                      {"job": "h100_2gpu_1s", "rank": 1, "world_size": 2, "format": "nsys"}]
    devices = store.sql("SELECT t.rank, list(DISTINCT e.device) AS devices FROM events e JOIN traces t USING (trace_id) "
                        "WHERE e.kind = 'kernel' GROUP BY t.rank ORDER BY t.rank")["devices"].to_list()
    assert devices == [[0], [1]]


def test_copies_read_like_kineto_copies(store, shared_traces):
    path = shared_traces / "pipit" / "saxpy_mpi_cuda_a100_nsys2022.2.sqlite"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    # this 2022.2 export has no ENUM tables; copyKind 1 / 2 are host-to-device / device-to-host
    by_kind = dict(db.execute("SELECT copyKind, count(*) FROM CUPTI_ACTIVITY_KIND_MEMCPY GROUP BY 1").fetchall())
    total_bytes = db.execute("SELECT sum(bytes) FROM CUPTI_ACTIVITY_KIND_MEMCPY").fetchone()[0]
    [r] = store.ingest(path)
    got = store.sql("SELECT copy_kind, count(*) AS n, sum(bytes) AS b FROM events WHERE trace_id = $t AND kind = 'memcpy' "
                    "GROUP BY 1", params={"t": r.trace_id})
    assert dict(zip(got["copy_kind"], got["n"])) == {"H2D": by_kind[1], "D2H": by_kind[2]}
    assert got["b"].sum() == total_bytes
    names = set(store.sql("SELECT DISTINCT name FROM events WHERE trace_id = $t AND kind = 'memcpy'",
                          params={"t": r.trace_id})["name"])
    assert names == {"Memcpy HtoD (Pageable -> Device)", "Memcpy DtoH (Device -> Pageable)"}


def test_times_are_on_the_session_clock(store, shared_traces):
    path = shared_traces / "nsys" / "rtx3080_tiny.sqlite"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    base = db.execute("SELECT utcEpochNs FROM TARGET_INFO_SESSION_START_TIME").fetchone()[0]
    first = db.execute("SELECT min(start) FROM CUPTI_ACTIVITY_KIND_RUNTIME").fetchone()[0]
    [r] = store.ingest(path)
    got = store.sql("SELECT min(ts_ns) AS t FROM events WHERE trace_id = $t AND kind = 'runtime'", params={"t": r.trace_id})
    assert got["t"][0] == base + first


def test_bad_sqlite_files_fail_cleanly(store, shared_traces, tmp_path):
    [good] = store.ingest(shared_traces / "nsys" / "rtx3080_tiny.sqlite")
    before = table_counts(store)

    no_strings = tmp_path / "no_stringids.sqlite"
    shutil.copy(shared_traces / "nsys" / "rtx3080_tiny.sqlite", no_strings)
    with sqlite3.connect(no_strings) as db:
        db.execute("DROP TABLE StringIds")
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    locked = tmp_path / "locked.sqlite"
    shutil.copy(shared_traces / "nsys" / "rtx3080_tiny.sqlite", locked)
    with sqlite3.connect(locked) as db:
        db.execute("INSERT INTO StringIds VALUES (999999, 'changed so the bytes differ')")
    holder = sqlite3.connect(locked, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # as a writer that has not finished
    try:
        results = {p.name: store.ingest(p)[0] for p in (no_strings, corrupt, locked)}
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert "not an Nsight Systems export" in results["no_stringids.sqlite"].error
    assert "unreadable SQLite file" in results["corrupt.sqlite"].error
    assert "locked" in results["locked.sqlite"].error
    assert all(r.status == "failed" and r.error.startswith(str(tmp_path)) for r in results.values())
    assert table_counts(store) == before and good.status == "ingested"


def nvtx_names(store, result) -> list[tuple]:
    return store.sql("SELECT trace_id - $first AS t, event_id, name FROM events WHERE list_contains($ids, trace_id) "
                     "AND category = 'nvtx' ORDER BY ALL", params={"ids": result.trace_ids, "first": result.trace_id}).rows()


def test_registered_nvtx_strings_before_literal_ones_read_alike(store, shared_traces, tmp_path, monkeypatch):
    """nsys writes an NVTX range's message as its text, or as the id of a registered string
    (textId, text NULL). A report whose first 3,000 ranges use registered strings reads as the same
    events, in parts of 1,000 rows read on two threads: the driver infers a column's type from one
    batch, and a part is one batch, so a part of NULL texts is no type for the next part's texts."""
    source = shared_traces / "nsys" / "h100_2gpu_1s.sqlite"
    registered = tmp_path / "registered.sqlite"
    shutil.copy(source, registered)
    with sqlite3.connect(registered) as db:
        base = db.execute("SELECT max(id) + 1 FROM StringIds").fetchone()[0]
        db.execute("INSERT INTO StringIds SELECT ? + rowid, text FROM NVTX_EVENTS WHERE rowid <= 3000", [base])
        db.execute("UPDATE NVTX_EVENTS SET textId = ? + rowid, text = NULL WHERE rowid <= 3000", [base])
    monkeypatch.setattr(nsys, "PART_ROWS", 1000)
    [read] = store.ingest(registered)
    assert read.status == "ingested", read.error
    with retime.open(tmp_path / "plain.duckdb") as plain_store:
        [plain] = plain_store.ingest(source)
        expected = nvtx_names(plain_store, plain)
    assert len(expected) > 3000 and nvtx_names(store, read) == expected
