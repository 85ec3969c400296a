"""XPlane protobufs (JAX / TensorFlow profiler): three real JAX files from MI300-class GPUs land
with every timed event of their host and GPU planes, each kernel on its GPU and stream, and a launch
edge from each host call to the GPU work with its correlation id; checked against the files read
independently (tests/ingest/xplane_reference.py)."""
from __future__ import annotations

from collections import Counter

import pytest

from tests.conftest import SHARED_TRACES, table_counts
from tests.ingest.xplane_reference import timeline

FILES = ["jax08_conv_mi300_tw003.xplane.pb", "jax_legacy_conv_mi300.xplane.pb", "jax_te_fused_attn_934987a2fc2f.xplane.pb"]


@pytest.mark.parametrize("name", FILES)
def test_every_timed_event_lands_with_its_name_and_times(store, name):
    path = SHARED_TRACES / "xplane" / name
    if not path.is_file():
        pytest.skip("../shared/traces is not present in this checkout")
    expected = timeline(path)
    [r] = store.ingest(path)
    assert r.status == "ingested" and r.format == "xplane", r.error
    assert r.events == len(expected)
    got = store.sql("SELECT name, ts_ns, ts_ns + dur_ns AS end_ns FROM events WHERE trace_id = $t", params={"t": r.trace_id})
    assert Counter(got.rows()) == Counter((e["name"], e["start"], e["end"]) for e in expected)
    # GPU work on the lane of its GPU and stream, as many ops as the device planes' stream lines hold
    on_streams = [e for e in expected if e["plane"].startswith("/device:") and e["line"].startswith("Stream #")]
    gpu = store.sql("SELECT l.device, l.stream, count(*) AS n FROM events e JOIN lanes l USING (trace_id, lane_id) "
                    "WHERE e.trace_id = $t AND l.kind = 'gpu_stream' GROUP BY ALL", params={"t": r.trace_id})
    assert {(d, s): n for d, s, n in gpu.rows()} == Counter(
        (int(e["plane"].rsplit(":", 1)[1]), int(e["line"].split("#")[1].split("(")[0])) for e in on_streams)
    # a host event with the correlation id of GPU work launched it
    device_ids = {e["correlation"] for e in on_streams if e["correlation"] is not None}
    launched = [e for e in on_streams if e["correlation"] is not None and any(
        h["correlation"] == e["correlation"] for h in expected if h["plane"] == "/host:CPU")]
    launches = store.sql("SELECT count(*) AS n FROM deps WHERE trace_id = $t AND kind = 'launch'", params={"t": r.trace_id}).item()
    assert launches == len(launched) > 0 and device_ids


def test_a_cut_off_xplane_file_is_one_line_and_leaves_the_store_as_it_was(store, tmp_path):
    path = SHARED_TRACES / "xplane" / FILES[0]
    if not path.is_file():
        pytest.skip("../shared/traces is not present in this checkout")
    cut = tmp_path / "cut.xplane.pb"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    before = table_counts(store)
    [r] = store.ingest(cut)
    assert r.status == "failed" and str(cut) in r.error and "\n" not in r.error and "XPlane" in r.error
    assert table_counts(store) == before
