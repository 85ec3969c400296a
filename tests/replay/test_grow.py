"""Growing a measured job to another number of ranks (retime/replay/grow.py), on the real 8-rank DLRM job."""
from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from retime.cli import main
from retime.core.errors import QueryError, ScenarioError
from retime.replay import grow, kernel_db, presets
from tests.conftest import SAMPLE_TRACES, SHARED_TRACES

DLRM = SHARED_TRACES / "param" / "dlrm_8rank"


@pytest.fixture(scope="module")
def dlrm(tmp_path_factory):
    """The DLRM job's directory ingested as a job (its ranks from the traces)."""
    import retime
    if not DLRM.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    with retime.open(tmp_path_factory.mktemp("dlrm") / "s.duckdb") as store:
        yield store, [r.trace_id for r in store.ingest(DLRM)]


def test_grown_to_its_own_size_from_every_rank_is_the_measured_job(dlrm):
    store, ids = dlrm
    grown = store.replay(ids[0], ranks=8, all_ranks=True)
    assert grown.measured_ranks == list(range(8)) and all(v == [r] for r, v in grown.copies.items())
    assert np.all(grown.collectives.factor == 1.0)
    for rank, result in grown.results:
        assert result.predicted_ns == result.measured_ns, rank  # the identity, exactly
    assert grown.predicted_ns == grown.measured_ns == max(r.measured_ns for _, r in store.replay(ids[0], all_ranks=True))
    assert grown.error_bar.pct == 0 and grown.error_bar.text.startswith("none")  # nothing moved: no error to quote


def test_copies_carry_the_measured_ranks_and_cost_what_they_cost(dlrm):
    """8 ranks from ranks 0-3: rank i copies rank i mod 4; the job is the slowest of them. Grown to
    1,024 ranks the graph is still the 4 ranks' graph."""
    store, ids = dlrm
    grown = store.replay(ids[0], ranks=8, copy_ranks=[0, 1, 2, 3], all_ranks=True)
    assert grown.copies == {0: [0, 4], 1: [1, 5], 2: [2, 6], 3: [3, 7]}
    assert [rank for rank, _ in grown.results] == [0, 1, 2, 3]
    measured = {rank: r.measured_ns for rank, r in store.replay(ids[0], all_ranks=True)}
    assert grown.predicted_ns == max(measured[r] for r in range(4))
    big = store.replay(ids[0], ranks=1024, copy_ranks=[0, 1, 2, 3], topology="dgx-h100", all_ranks=True)
    assert sum(len(v) for v in big.copies.values()) == 1024 and big.growth.servers == 128


def test_collectives_across_servers_take_longer_and_send_over_the_nics(dlrm):
    store, ids = dlrm
    inside = store.replay(ids[0], ranks=8, topology="dgx-h100", all_ranks=True)
    across = store.replay(ids[0], ranks=64, topology="dgx-h100", all_ranks=True)
    known = across.collectives.op >= 0
    assert known.all()  # all-reduces, and all-to-alls as their nccl:all_to_all slices name the SendRecv kernels
    assert set(across.collectives.op.tolist()) == {0, 3}
    assert (across.collectives.factor > 1).all() and across.network_gb > 0 and inside.network_gb == 0
    assert 0 < across.between_servers_share < 1 and inside.between_servers_share == 0
    links = {link["link"]: link for link in across.under_load}
    assert links["NIC per GPU"]["gb"] == pytest.approx(across.network_gb, abs=1e-6) and links["NIC per GPU"]["gb_s"] == 50
    assert 0 < links["NIC per GPU"]["busy_share"] < 1 and links["scale-up (NVLink) per GPU"]["gb_s"] == 450
    assert [link["link"] for link in inside.under_load] == ["scale-up (NVLink) per GPU"]
    # the distinct ranks fill a DGX H100 server: their copies and collectives share its links
    assert all(r.link_report is not None for _, r in across.results)
    assert any("the 8 distinct ranks fill 1 server(s) of 8" in n for n in across.notes)
    bigger = store.replay(ids[0], ranks=512, topology="dgx-h100", all_ranks=True)
    assert (bigger.collectives.factor >= across.collectives.factor).all()
    assert across.predicted_ns >= inside.predicted_ns
    assert across.error_bar.pct is None and "across servers" in across.error_bar.text


def test_within_a_server_a_collective_moves_by_its_parts_measured_curves():
    growth = grow.Growth(ranks=8, per_server=8, nic_gb_s=None, step_latency_us=10, network_source="")
    specs = presets.presets()
    sizes = np.array([1e4, 1e6, 1e8])
    for op, name in enumerate(kernel_db.COLLECTIVES):
        assert np.allclose(grow.collective_us("h100", op, 8, sizes, growth),
                           kernel_db.collective_latency("h100", name, 8, sizes, specs))
    across = grow.Growth(ranks=64, per_server=8, nic_gb_s=50, step_latency_us=10, network_source="")
    t8, t64 = grow.collective_us("h100", 0, 8, sizes, across), grow.collective_us("h100", 0, 64, sizes, across)
    # all-reduce over 8 servers: a ring's 2 (8-1) steps of 10 µs and 2 (7/8) x buffer / 8 over 50 GB/s a
    # GPU more, or a double binary tree's 2 log2(8) steps and 2 x buffer / 8, whichever is faster
    ring, tree = 14 * 10 + 2 * 7 / 8 * sizes / 8 / 50e3, 6 * 10 + 2 * sizes / 8 / 50e3
    assert np.allclose(t64 - t8, np.minimum(ring, tree)) and tree[0] < ring[0]
    for size in sizes:
        t = grow.collective_us("h100", 0, 8, np.array([size]), growth)[0]
        assert grow.buffer_for("h100", 0, 8, t, growth) == pytest.approx(size, rel=1e-3)


def test_a_count_a_part_was_not_measured_at_moves_as_its_siblings_do():
    specs = presets.presets()
    sizes = np.array([1e5, 1e7])
    assert kernel_db.measured_ranks("gb200", "all_reduce", 8) == 4
    ratio = kernel_db.count_ratio("gb200", "all_reduce", 4, 8, sizes, specs)
    assert not np.allclose(ratio, 1)  # 8 GPUs differ from 4, as on the parts measured at both
    assert np.allclose(kernel_db.collective_latency("gb200", "all_reduce", 8, sizes, specs),
                       kernel_db.collective_latency("gb200", "all_reduce", 4, sizes, specs) * ratio)
    assert np.all(kernel_db.count_ratio("h100", "all_reduce", 8, 8, sizes, specs) == 1)


def test_a_grown_job_against_the_measured_job_of_its_size(dlrm, tmp_path):
    """Ranks 0-3 grown to 8 against the measured 8 ranks: rank i (a copy of rank i mod 4) against
    measured rank i, the job's span against the slowest measured rank's, computed here from the
    measured job's own replay; a job of another size is refused, and the CLI prints the comparison."""
    store, ids = dlrm
    grown = store.replay(ids[0], ranks=8, copy_ranks=[0, 1, 2, 3], against=ids[5], all_ranks=True)
    measured = {rank: r.measured_ns for rank, r in store.replay(ids[0], all_ranks=True)}
    predicted = {rank: r.predicted_ns for rank, r in grown.results}
    errors = [100 * (predicted[i % 4] / measured[i] - 1) for i in range(8)]
    a = grown.against
    assert a.job == "dlrm_8rank" and a.measured_ns == max(measured.values())
    assert a.error_pct == pytest.approx(100 * (grown.predicted_ns / max(measured.values()) - 1), abs=0.01)
    assert a.rank_max_abs_error_pct == pytest.approx(max(map(abs, errors)), abs=0.01)
    assert a.rank_median_abs_error_pct == pytest.approx(float(np.median(np.abs(errors))), abs=0.01)
    assert grown.to_dict()["against"] == dataclasses.asdict(a)
    with pytest.raises(ScenarioError, match="compares with a measured job of ranks 0-15"):
        store.replay(ids[0], ranks=16, topology="dgx-h100", against=ids[0], all_ranks=True)
    store.con.execute("CHECKPOINT")
    copy = tmp_path / "copy.duckdb"
    __import__("shutil").copy(store.path, copy)
    done = CliRunner().invoke(main, ["replay", str(ids[0]), "--db", str(copy), "--all-ranks", "--ranks", "8",
                                     "--copy-ranks", "0-3", "--against", str(ids[0])])
    assert done.exit_code == 0, done.output
    assert f"against    job 'dlrm_8rank': measured {max(measured.values()) / 1e6:.3f} ms" in done.output


def test_growing_says_what_it_cannot_do(dlrm, tmp_path):
    store, ids = dlrm
    with pytest.raises(ScenarioError, match="give a topology"):
        store.replay(ids[0], ranks=16, all_ranks=True)  # V100: no network between servers is known
    with pytest.raises(QueryError, match="no rank 9"):
        store.replay(ids[0], ranks=8, copy_ranks=[0, 9], all_ranks=True)
    import retime
    with retime.open(tmp_path / "one.duckdb") as single:
        [one] = single.ingest(SAMPLE_TRACES / "gpu_h100" / "hostwork_1x.pt.trace.json.gz")
        with pytest.raises(QueryError, match="no rank of a job"):
            single.replay(one.trace_id, ranks=8, all_ranks=True)
    store.con.execute("CHECKPOINT")
    copy = tmp_path / "copy.duckdb"
    __import__("shutil").copy(store.path, copy)
    done = CliRunner().invoke(main, ["replay", str(ids[0]), "--db", str(copy), "--ranks", "8"])
    assert done.exit_code == 2 and done.output == "error: growing the job to 8 ranks (--ranks N, or the scenario file's ranks) needs --all-ranks\n"


def test_the_cli_prints_the_grown_job(dlrm, tmp_path):
    import shutil
    store, ids = dlrm
    store.con.execute("CHECKPOINT")
    copy = tmp_path / "copy.duckdb"
    shutil.copy(store.path, copy)
    done = CliRunner().invoke(main, ["replay", str(ids[0]), "--db", str(copy), "--all-ranks", "--ranks", "64",
                                     "--topology", "dgx-h100", "--copy-ranks", "0-3"])
    assert done.exit_code == 0, done.output
    assert "grown to 64 ranks on 8 server(s) of 8 GPUs from measured ranks 0, 1, 2, 3" in done.output
    assert "GB/s per GPU between servers" in done.output and "unvalidated" in done.output
    as_json = CliRunner().invoke(main, ["replay", str(ids[0]), "--db", str(copy), "--all-ranks", "--ranks", "64",
                                        "--topology", "dgx-h100", "--format", "json"])
    assert as_json.exit_code == 0 and '"servers": 8' in as_json.output


def test_a_saved_grown_job_is_a_job_whose_numbers_the_store_rederives(dlrm):
    store, ids = dlrm
    grown = store.replay(ids[0], ranks=64, copy_ranks=[0, 1, 2, 3], topology="dgx-h100", save=True, all_ranks=True)
    assert grown.saved_job and store.job_of(grown.results[0][1].saved_trace_id) == grown.saved_job
    for rank, result in grown.results:
        span, scenario = store.sql(
            "SELECT (SELECT max(ts_ns + dur_ns) - min(ts_ns) FROM events WHERE trace_id = $t), "
            "(SELECT scenario FROM traces WHERE trace_id = $t)", params={"t": result.saved_trace_id}).row(0)
        assert span == result.predicted_ns
        import json
        record = json.loads(scenario)["grown"]
        assert record["ranks"] == 64 and record["measured_rank"] == rank and record["copies"] == grown.copies[rank]
    assert store.query("straggler_ranks", job=grown.saved_job).height == 4


def test_a_sweep_grows_the_job_along_a_ranks_axis(dlrm):
    """ranks x net x link.nic: each growth swept in one batch; every row equals grow_job's replay."""
    store, ids = dlrm
    result = store.sweep(ids[0], ["ranks=8,64", "net=1x,2x", "link.nic=400Gb/s,800Gb/s"], ["cpu.speed=2x"],
                         all_ranks=True, topology="dgx-h100")
    assert result.scenarios.height == 8 and result.scenarios.columns[:3] == ["ranks", "link.nic", "net"]
    assert set(result.sensitivity["knob"]) == {"ranks", "net", "link.nic"}
    row = result.scenarios.filter((pl.col("ranks") == "64") & (pl.col("net") == "1x") & (pl.col("link.nic") == "400Gb/s"))
    grown = store.replay(ids[0], ["cpu.speed=2x"], ranks=64, topology="dgx-h100", all_ranks=True)
    spans = [r.predicted_ns for _, r in grown.results]
    assert row["predicted_span_ns"][0] >= max(spans)  # the job's, first start to last end, over its ranks
    with pytest.raises(ScenarioError, match="all_ranks"):
        store.sweep(ids[0], ["ranks=8,64"])


def test_a_scenario_file_grows_the_job_as_the_flags_do(dlrm, tmp_path):
    """ranks, copy_ranks and global_batch in a scenario file: the API and the CLI grow the job as the
    arguments would; a replay of one rank refuses it rather than leave it out."""
    import json
    import shutil
    store, ids = dlrm
    path = tmp_path / "grow.toml"
    path.write_text('ranks = 64\ncopy_ranks = [0, 1, 2, 3]\ntopology = "dgx-h100"\n[set]\n"cpu.speed" = "2x"\n')
    from_file = store.replay(ids[0], store.scenario(ids[0], file=path), all_ranks=True)
    from_args = store.replay(ids[0], ["cpu.speed=2x"], ranks=64, copy_ranks=[0, 1, 2, 3], topology="dgx-h100", all_ranks=True)
    assert from_file.to_dict() == from_args.to_dict()
    with pytest.raises(ScenarioError, match="growing the job to 64 ranks .* needs all_ranks=True") as refused:
        store.replay(ids[0], store.scenario(ids[0], file=path))
    assert "needs --all-ranks" in refused.value.cli_message()
    with pytest.raises(ScenarioError, match="copy_ranks=: these grow a job"):
        store.replay(ids[0], copy_ranks=[0, 1], all_ranks=True)
    store.con.execute("CHECKPOINT")
    copy = tmp_path / "copy.duckdb"
    shutil.copy(store.path, copy)
    done = CliRunner().invoke(main, ["replay", str(ids[0]), "--db", str(copy), "--all-ranks", "--scenario", str(path),
                                     "--format", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["predicted_ns"] == from_args.predicted_ns
    (tmp_path / "bad.toml").write_text('ranks = 0\n')
    with pytest.raises(ScenarioError, match="ranks must be 1 or more"):
        store.scenario(ids[0], file=tmp_path / "bad.toml")


def test_a_job_whose_ranks_meet_on_the_cpu_grows_by_its_copies(tmp_path):
    """The shipped gloo job (its all-reduces on the CPU: no GPU collective joins its ranks) grown to 8
    ranks: each copy runs as its rank does, and the answer says why."""
    import retime
    with retime.open(tmp_path / "g.duckdb") as store:
        first = store.ingest(SAMPLE_TRACES / "ddp_gloo_2rank")[0].trace_id
        grown = store.replay(first, ranks=8, all_ranks=True)
        assert grown.copies == {0: [0, 2, 4, 6], 1: [1, 3, 5, 7]}
        assert grown.predicted_ns == grown.measured_ns and any("no GPU collective" in n for n in grown.notes)
