"""One definition of a step window: Kineto traces written before 2021-09 record ProfilerStep#N as a
CPU operator (category "Operator"), today's as a user annotation. The step queries, the report and
the replayer see the same six steps of a real 2021 V100 ResNet-50 trace."""
from __future__ import annotations

import pytest

from tests.conftest import SHARED_TRACES, shared_store

OLD_FORMAT = SHARED_TRACES / "kineto" / "tb_plugin_resnet50_nw0_2021-06.pt.trace.json.gz"


@pytest.fixture(scope="module")
def old_steps(tmp_path_factory):
    with shared_store(tmp_path_factory, OLD_FORMAT) as (store, [t]):
        yield store, t


def test_an_operator_named_profilerstep_is_a_step_window(old_steps):
    store, t = old_steps
    kinds = store.sql("SELECT DISTINCT kind, category FROM events WHERE trace_id = $t AND name LIKE 'ProfilerStep#%'", params={"t": t})
    assert kinds.rows() == [("annotation", "Operator")]  # its category kept as written
    steps = store.query("step_times", t)
    assert steps["step"].to_list() == [f"ProfilerStep#{n}" for n in range(5, 11)]
    # the step is no operator: the host time inside it is its children's, less than the step itself
    assert (steps["top_level_cpu_ns"] < steps["dur_ns"]).all()
    assert store.query("launch_bound", t).height == 6
    assert set(store.query("step_timeline", t)["step"]) == {"ProfilerStep#5"}


def test_the_replayer_and_the_queries_agree_on_the_steps(old_steps):
    store, t = old_steps
    steps = store.query("step_times", t)
    result = store.replay(t, ["cpu.speed=2x"], save=True)
    assert [s.name for s in result.steps] == steps["step"].to_list()
    assert [s.measured_ns for s in result.steps] == steps["dur_ns"].to_list()
    assert store.iteration(t)["step_ns"] is not None
    assert store.against(result, t).basis == "median step"  # steps compared, not spans
    shares = store.query("critical_path_shares", result.saved_trace_id)
    assert shares["step"].drop_nulls().n_unique() == 6
