"""Property: whatever byte a real trace is cut at, or whichever byte is corrupted, ingest never raises,
never half-writes the store, and keeps no more events than the whole file has."""
from __future__ import annotations

import gzip

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retime
from tests.conftest import SAMPLE_TRACES, STORE_TABLES, table_counts

TRACE = SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz"
PLAIN = gzip.decompress(TRACE.read_bytes())
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def whole_count(tmp_path) -> int:
    with retime.open(tmp_path / "whole.duckdb") as s:
        [r] = s.ingest(TRACE)
        return r.events


def ingest_bytes(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    with retime.open(tmp_path / f"{name}.duckdb") as s:
        [result] = s.ingest(path)
        return result, table_counts(s)


@SETTINGS
@given(cut=st.integers(min_value=0, max_value=len(PLAIN)), gzipped=st.booleans())
def test_a_cut_file_keeps_a_prefix_or_fails_cleanly(tmp_path_factory, cut, gzipped):
    tmp_path = tmp_path_factory.mktemp("cut")
    data = gzip.compress(PLAIN[:cut]) if gzipped else PLAIN[:cut]
    result, counts = ingest_bytes(tmp_path, "cut.json.gz" if gzipped else "cut.json", data)
    if result.status == "failed":
        assert result.error and "\n" not in result.error
        assert counts == dict.fromkeys(STORE_TABLES, 0)
    else:
        assert counts["events"] == result.events <= whole_count(tmp_path)
        if cut < len(PLAIN.rstrip()):
            assert result.warnings, "a file cut before its end says so"


@SETTINGS
@given(position=st.integers(min_value=0, max_value=len(PLAIN) - 1), value=st.integers(min_value=0, max_value=255))
def test_a_corrupted_byte_never_raises(tmp_path_factory, position, value):
    tmp_path = tmp_path_factory.mktemp("flip")
    data = bytearray(PLAIN)
    data[position] = value
    result, counts = ingest_bytes(tmp_path, "flip.json", bytes(data))
    if result.status == "failed":
        assert result.error.startswith(str(tmp_path)) and "\n" not in result.error
        assert counts["traces"] == counts["events"] == 0
    else:
        assert counts["events"] == result.events
