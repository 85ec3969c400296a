"""A trace cut off mid-write keeps every intact event and says what it dropped."""
from __future__ import annotations

import gzip
import json
import zlib

from tests.conftest import SAMPLE_TRACES, load_json
from tests.ingest.reference_counts import reference_counts
from tests.ingest.test_shared_traces import store_counts

SAMPLE = SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz"


def complete_events_before(text: str, cut: int) -> list:
    """The events of a Kineto document that end before byte `cut`, decoded one by one with json."""
    decoder = json.JSONDecoder()
    at = text.index("[", text.index('"traceEvents"')) + 1
    events = []
    while True:
        while at < cut and text[at] in " \t\r\n,":
            at += 1
        try:
            event, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            break
        if end > cut:
            break
        events.append(event)
        at = end
    return events


def test_a_kineto_file_cut_mid_event_keeps_every_complete_event(store, shared_traces):
    original = gzip.decompress((shared_traces / "hta" / "alexnet_cuda_sync.json.gz").read_bytes()).decode()
    cut_file = shared_traces / "derived" / "alexnet_cuda_sync_cut_mid_event.json"
    kept = complete_events_before(original, cut_file.stat().st_size)

    [result] = store.ingest(cut_file)

    assert result.status == "ingested"
    assert store_counts(store, result.trace_id) == reference_counts(kept)
    assert any("cut off" in w and "dropped the incomplete tail" in w for w in result.warnings)


def test_an_array_trace_without_its_closing_bracket_is_complete(store, shared_traces):
    [cut] = store.ingest(shared_traces / "derived" / "tall_trace_no_closing_bracket.json")
    assert cut.status == "ingested" and cut.warnings == []
    assert store_counts(store, cut.trace_id) == reference_counts(load_json(shared_traces / "catapult" / "tall_trace.json"))


def test_a_gzip_stream_cut_short_keeps_what_decompresses(store, shared_traces, tmp_path):
    whole = (shared_traces / "hta" / "trace_diff_control.json.gz").read_bytes()
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    text = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(whole[: len(whole) // 2])
    kept = complete_events_before(text.decode(), len(text))

    [result] = store.ingest(cut)

    assert result.status == "ingested"
    assert store_counts(store, result.trace_id) == reference_counts(kept)
    assert any("gzip stream ends early" in w for w in result.warnings)


def test_leading_whitespace_longer_than_any_sniff_window_is_still_a_trace(store, tmp_path):
    path = tmp_path / "padded.json"
    path.write_bytes(b" \n" * 5000 + (SAMPLE_TRACE_BYTES := gzip.decompress(SAMPLE.read_bytes())))
    [padded] = store.ingest(path)
    assert padded.status == "ingested", padded.error
    assert store_counts(store, padded.trace_id) == reference_counts(json.loads(SAMPLE_TRACE_BYTES))
