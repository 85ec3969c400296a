"""Fuzzing the ingester with structured damage to real traces (tests/ingest/mutations.py): a bounded
slice here, the long run in bench/fuzz.py."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SAMPLE_TRACES
from tests.ingest.mutations import MUTATIONS, check_case, load

SOURCES = {name: load(SAMPLE_TRACES / name) for name in
           ("cpu_mlp_train_step.pt.trace.json.gz", "gpu_h100/streams_graph.pt.trace.json.gz")}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_every_kind_of_damage_ends_cleanly(tmp_path, mutation):
    for seed in range(2):
        for source in SOURCES.values():
            assert check_case(tmp_path, source, mutation, seed) is None


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=st.sampled_from(sorted(MUTATIONS)), seed=st.integers(0, 2**32 - 1), source=st.sampled_from(sorted(SOURCES)))
def test_random_damage_ends_cleanly(tmp_path_factory, mutation, seed, source):
    assert check_case(tmp_path_factory.mktemp("fuzz"), SOURCES[source], mutation, seed) is None
