"""`host.input`: the input pipeline's host work as one knob, checked on a measured CPU pair
(sample_traces/input_pipeline: one training loop fed by a DataLoader whose samples cost 2 units of
decoding, then 1; recorded by sample_traces/make_samples.py)."""
from __future__ import annotations

import pytest
from retime.replay import scenario
from retime.replay.scenario import ScenarioError

from tests.conftest import SAMPLE_TRACES

PAIR = SAMPLE_TRACES / "input_pipeline"
LOADER_NEXT = r"^enumerate\(DataLoader\)#.*\.__next__$"


@pytest.fixture
def pair(store):
    slow, fast = (r.trace_id for r in store.ingest([PAIR / "loader_1x.pt.trace.json.gz", PAIR / "loader_2x.pt.trace.json.gz"]))
    return store, slow, fast


def per_step_loader_ns(store, trace_id: int) -> float:
    steps = store.sql("SELECT count(*) AS n FROM events WHERE trace_id = $t AND name LIKE 'ProfilerStep#%'", params={"t": trace_id})
    loader = store.sql("SELECT sum(dur_ns)::DOUBLE AS ns FROM events WHERE trace_id = $t AND regexp_matches(name, $p)",
                       params={"t": trace_id, "p": LOADER_NEXT})
    return loader["ns"][0] / steps["n"][0]


@pytest.mark.parametrize("knob, direction", [("2x", "slow -> fast"), ("0.5x", "fast -> slow")])
def test_an_input_pipeline_of_another_speed_is_predicted_from_the_measured_run(pair, knob, direction):
    store, slow, fast = pair
    base, target = (slow, fast) if direction == "slow -> fast" else (fast, slow)
    result = store.replay(base, [f"host.input={knob}"])
    check = store.against(result, target)
    measured, base_step = check.measured_ns, store.iteration(base)["step_ns"]
    # the loader is most of each step here (num_workers=0 on the training thread): no change is far off
    assert abs(base_step - measured) / measured > 0.3
    assert abs(check.error_pct) < 10
    # a sum of durations (the step less the loader's time saved) lands within a few points as well:
    # nothing overlaps the loader on one CPU thread; the graph earns its keep where a GPU runs meanwhile
    naive = base_step + (1 / float(knob[:-1]) - 1) * per_step_loader_ns(store, base)
    assert abs(check.predicted_ns - naive) / measured < 0.05
    assert result.warnings == []


def test_the_knob_acts_on_the_loaders_spans_with_their_children(pair):
    store, slow, _ = pair
    knobbed = store.replay(slow, ["host.input=2x"])
    by_rule = store.replay(slow, scenario.parse([], scale=[(LOADER_NEXT, 0.5)]))
    assert knobbed.predicted_ns == by_rule.predicted_ns and knobbed.scenario == "host.input=2x"


def test_a_trace_without_a_data_loader_is_told_the_knob_changes_nothing(store):
    [mlp] = store.ingest(SAMPLE_TRACES / "cpu_mlp_train_step.pt.trace.json.gz")
    result = store.replay(mlp.trace_id, ["host.input=2x"])
    assert result.predicted_ns == result.measured_ns
    assert any("host.input=2x changes nothing" in w and "DataLoader" in w for w in result.warnings)


def test_the_knob_takes_a_factor_and_is_no_sweep_axis(pair):
    with pytest.raises(ScenarioError, match="a factor like 2x"):
        scenario.parse(["host.input=5GB/s"])
    store, slow, _ = pair
    with pytest.raises(Exception, match="cannot be a sweep axis"):
        store.sweep(slow, ["host.input=1x,2x"])
    # in the base scenario it holds for every point of the grid
    swept = store.sweep(slow, ["cpu.speed=1x,2x"], base=["host.input=2x"])
    one = swept.scenarios.filter(swept.scenarios["cpu.speed"] == "1x")["predicted_span_ns"][0]
    assert one == store.replay(slow, ["host.input=2x"]).predicted_ns
