"""Copies between GPUs and host memory sharing a server's PCIe links (--topology): the physics,
on the real two-GPU Nsight capture whose copies pull 27.7 GB/s per GPU, 55 GB/s together."""
from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from retime.cli import main
from retime.replay import link_passes, topology
from retime.replay.scenario import ScenarioError

import retime
from tests.conftest import SAMPLE_TRACES, SHARED_TRACES

COPY_BOUND = SHARED_TRACES / "nsys" / "h100_2gpu_1s.sqlite"
PAGEABLE = SAMPLE_TRACES / "gpu_h100" / "h2d_pageable.pt.trace.json.gz"
DGX = "dgx-h100"


@pytest.fixture(scope="module")
def two_gpus(tmp_path_factory):
    if not COPY_BOUND.is_file():
        pytest.skip("../shared/traces is not present in this checkout")
    with retime.open(tmp_path_factory.mktemp("topology") / "t.duckdb") as store:
        ranks = store.ingest(COPY_BOUND)
        yield store, ranks[0].trace_id


def job(two_gpus, knobs=(), server=None):
    store, trace = two_gpus
    return [r for _, r in store.replay(trace, list(knobs), topology=server, all_ranks=True)]


def spans(results) -> list[int]:
    return [r.predicted_ns for r in results]


def test_two_copies_on_one_link_take_their_bytes_over_its_bandwidth():
    # 64 MB each, wanting 50 GB/s alone (1.28 ms), on one 64 GB/s link at once: 2 ms each
    duration, slowed, saturated, carried = link_passes.share_links(
        np.array([0.0, 0.0]), np.array([1.28e6, 1.28e6]), np.array([64e6, 64e6]),
        np.array([0, 1, 2]), np.array([0, 0]), np.array([64.0]), np.zeros(2, np.int64))
    assert duration == pytest.approx([2e6, 2e6]) and slowed.all() and saturated[0] == pytest.approx(2e6)
    # one alone, or both under the link's bandwidth together: each keeps its own time exactly
    alone = link_passes.share_links(np.array([0.0, 5e6]), np.array([1.28e6, 1.28e6]), np.array([64e6, 64e6]),
                                     np.array([0, 1, 2]), np.array([0, 0]), np.array([64.0]), np.zeros(2, np.int64))[0]
    assert alone.tolist() == [1.28e6, 1.28e6]


def test_with_no_link_over_subscribed_the_replay_is_the_topology_free_one(two_gpus):
    assert spans(job(two_gpus, server=DGX)) == spans(job(two_gpus))


def test_two_gpus_behind_one_switch_share_its_uplink(two_gpus):
    free = spans(job(two_gpus, ["pcie.h2d=2x"]))
    shared = job(two_gpus, ["pcie.h2d=2x"], DGX)
    uplink = {(u.link, u.direction): u for u in shared[0].links}[("sw0", "to device")]
    assert uplink.copies == 450 and uplink.saturated_ns > 0.5 * shared[0].predicted_ns
    # both GPUs' 51 GB cross the 64 GB/s uplink: the run takes at least that, and little more
    through = uplink.bytes / uplink.gb_s
    for run, alone in zip(spans(shared), free):
        assert through <= run <= 1.05 * through and run > 1.2 * alone
    assert all(r.bound_by == "h2d" for r in shared)
    assert "held back by shared links (sw0 to device" in shared[0].warnings[0]


def test_moved_to_separate_switches_they_overlap_freely(two_gpus):
    apart = topology.load(DGX).moved({"gpu1": "sw1"})
    assert spans(job(two_gpus, ["pcie.h2d=2x"], apart)) == spans(job(two_gpus, ["pcie.h2d=2x"]))


def test_a_rank_placed_on_a_gpu_behind_another_switch_overlaps_freely_as_a_moved_gpu_does(two_gpus):
    dgx = topology.load(DGX)
    placed = job(two_gpus, ["pcie.h2d=2x"], dgx.placed({"1": "gpu2"}))  # rank 1 from gpu1 (sw0) to gpu2 (sw1)
    assert spans(placed) == spans(job(two_gpus, ["pcie.h2d=2x"], dgx.moved({"gpu1": "sw1"})))
    assert spans(placed) == spans(job(two_gpus, ["pcie.h2d=2x"]))
    assert set(placed[0].link_report.transfers.filter(rank=1)["gpu"]) == {2}
    with pytest.raises(ScenarioError, match="ranks 0 and 1 would both be on server 0's gpu0"):
        job(two_gpus, server=dgx.placed({"1": "gpu0"}))
    with pytest.raises(ScenarioError, match="the job has no rank 7"):
        job(two_gpus, server=dgx.placed({"7": "gpu0"}))
    store, trace = two_gpus
    with pytest.raises(ScenarioError, match="replay the job"):
        store.replay(trace, [], topology=dgx.placed({"0": "gpu3"}))


def test_more_bandwidth_never_slows_the_run(two_gpus):
    runs = [max(spans(job(two_gpus, ["pcie.h2d=2x"], topology.load(DGX).with_links(links))))
            for links in ({}, {"sw0": "1.25x"}, {"sw0": "1.5x"}, {"sw0": "2x"}, {"pcie.gen": "6"})]
    assert runs == sorted(runs, reverse=True) and runs[0] > runs[-1]
    assert runs[-1] == max(spans(job(two_gpus, ["pcie.h2d=2x"])))


def test_one_trace_on_a_topology_replays_as_measured(store):
    [r] = store.ingest(PAGEABLE)
    on_server = store.replay(r.trace_id, topology=DGX)
    assert on_server.predicted_ns == on_server.measured_ns
    assert {u.link for u in on_server.links} == {"gpu0", "sw0"}


def test_topology_show_draws_the_tree_with_its_links_and_sources():
    out = CliRunner().invoke(main, ["topology", "show", DGX, "--move", "gpu1=sw1", "--link", "sw0=2x"])
    assert out.exit_code == 0
    assert "gpu1  [64 GB/s each way to sw1]" in out.output and "sw0  [128 GB/s each way to cpu0]" in out.output
    assert "source: NVIDIA DGX H100" in out.output


def test_topology_show_draws_the_tree_as_svg_too(tmp_path):
    svg = tmp_path / "dgx.svg"
    out = CliRunner().invoke(main, ["topology", "show", DGX, "--move", "nic3=sw0", "--svg", str(svg)])
    assert out.exit_code == 0 and f"wrote {svg}" in out.output
    text = svg.read_text()
    assert text.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and text.count("<rect") == 8 * 2 + 4 + 2 + 8 + 8  # GPUs, NICs, switches, sockets, NIC ports, NVLink ports
    assert "<title>nic3 to sw0: 64 GB/s each way</title>" in text and "nic3.port to network: 50 GB/s" in text


@pytest.mark.parametrize("args, message", [
    (["topology", "show", "dgx-a1"], "unknown topology 'dgx-a1'"),
    (["topology", "show", DGX, "--move", "sw1=sw0", "--move", "sw0=sw1"], "sw1 hangs below sw0"),
    (["topology", "show", DGX, "--move", "sw0=gpu3"], "a node hangs under a switch or a CPU socket"),
    (["topology", "show", DGX, "--link", "sw9=2x"], "has no link 'sw9'"),
    (["topology", "show", DGX, "--link", "sw0=fast"], "expected a positive factor"),
])
def test_a_bad_topology_what_if_is_one_line(args, message):
    out = CliRunner().invoke(main, args)
    assert out.exit_code != 0 and message in out.output and "Traceback" not in out.output


def test_moves_are_checked():
    with pytest.raises(ScenarioError, match="CPU socket"):
        topology.load(DGX).moved({"cpu0": "sw1"})


def test_a_scenario_file_names_the_topology_its_moves_and_links(two_gpus, tmp_path):
    db = tmp_path / "cli.duckdb"  # the CLI opens its own store
    assert CliRunner().invoke(main, ["ingest", str(COPY_BOUND), "--db", str(db)]).exit_code == 0
    trace = 1
    scenario = tmp_path / "server.toml"
    scenario.write_text('topology = "dgx-h100"\n[set]\n"pcie.h2d" = "2x"\n[move]\ngpu1 = "sw1"\n')
    by_file = CliRunner().invoke(main, ["replay", str(trace), "--db", str(db), "--all-ranks", "--scenario", str(scenario),
                                        "--format", "json"])
    assert by_file.exit_code == 0, by_file.output
    doc = json.loads(by_file.output[by_file.output.index("{"):])
    assert doc["scenario"] == "pcie.h2d=2x topology=dgx-h100 gpu1 under sw1"
    assert doc["total"]["predicted_span_ns"] == max(spans(job(two_gpus, ["pcie.h2d=2x"])))
    # a flag overrides the file's move: back behind switch 0 with GPU 0
    shared = CliRunner().invoke(main, ["replay", str(trace), "--db", str(db), "--all-ranks", "--scenario", str(scenario),
                                       "--move", "gpu1=sw0", "--format", "json"])
    doc = json.loads(shared.output[shared.output.index("{"):])
    assert doc["total"]["predicted_span_ns"] == max(spans(job(two_gpus, ["pcie.h2d=2x"], DGX)))
    # a sweep reads the file's topology too: with GPU 1 on its own switch nothing is shared, as without one
    def sweep(*args):
        out = CliRunner().invoke(main, ["sweep", str(trace), "--db", str(db), "--all-ranks", "--grid", "hbm=1x,2x",
                                        "--format", "json", *args])
        assert out.exit_code == 0, out.output
        return [r["predicted_span_ns"] for r in json.loads(out.output[out.output.index("{"):])["scenarios"]]
    assert sweep("--scenario", str(scenario)) == sweep("--set", "pcie.h2d=2x")
    shared, free = sweep("--scenario", str(scenario), "--move", "gpu1=sw0"), sweep("--set", "pcie.h2d=2x")
    assert all(a > 1.2 * b for a, b in zip(sorted(shared), sorted(free)))


def test_a_saved_replay_on_a_topology_answers_its_link_queries_from_the_store(store):
    """The 64 MiB pageable batch at twice its speed through a GPU link cut to 8 GB/s: each copy takes
    its bytes over 8 GB/s, and the store's link queries give what the replay's own report gave."""
    [r] = store.ingest(PAGEABLE)
    slow_link = topology.load(DGX).with_links({"gpu0": "8GB/s"})
    result = store.replay(r.trace_id, ["pcie.h2d=2x"], topology=slow_link, save=True)
    saved = result.saved_trace_id
    for name in ("link_demand", "link_collisions"):
        in_memory = getattr(result.link_report, {"link_demand": "demand", "link_collisions": "collided"}[name])()
        assert store.query(name, trace_id=saved).equals(in_memory) and in_memory.height > 0
    batch = store.query("link_collisions", trace_id=saved).filter(pl.col("bytes") == 64 << 20)
    assert batch.height == 4 and (batch["took_ns"] == round((64 << 20) / 8)).all()
    load = store.query("link_load", trace_id=saved, bucket_ns=1_000_000)
    assert load.filter(link="gpu0", direction="to device")["utilization"].max() == pytest.approx(1.0, abs=1e-3)
    assert result.error_bar.pct is None and "no measured contention pair" in result.error_bar.basis
    scenario = json.loads(store.sql("SELECT scenario FROM traces WHERE trace_id = $t", params={"t": saved})["scenario"][0])
    assert scenario["topology"] == "topology=dgx-h100 gpu0=8GB/s" and scenario["error_bar"]["expected_error_pct"] is None


EVERY_KEY = '''to = "h200"
from = "h100"
remove = ["^cudaDeviceSynchronize$"]
topology = "dgx-h100"
ranks_per_server = 4
[set]
"pcie.h2d" = "2x"
"cpu.speed" = "1.5x"
[scale]
"^cudaMemcpyAsync$" = "0.5x"
[move]
nic3 = "sw0"
[link]
sw0 = "0.5x"
[place]
1 = "gpu3"
'''


def test_every_scenario_file_key_gives_the_same_answer_through_the_cli_and_the_python_api(two_gpus, tmp_path):
    """A scenario file means one thing: what `retime replay --scenario` predicts is what
    store.replay(store.scenario(file=...)) predicts, for a trace, its job and a sweep."""
    store, trace = two_gpus
    db = tmp_path / "cli.duckdb"
    assert CliRunner().invoke(main, ["ingest", str(COPY_BOUND), "--db", str(db)]).exit_code == 0
    path = tmp_path / "every_key.toml"
    path.write_text(EVERY_KEY)
    chosen = store.scenario(trace, file=path)
    assert chosen.topology is not None and chosen.topology.ranks_per_server == 4 and chosen.kernel_model is not None

    def cli(*args):
        out = CliRunner().invoke(main, [*args, "--db", str(db), "--scenario", str(path), "--format", "json"])
        assert out.exit_code == 0, out.output
        return json.loads(out.output[out.output.index("{"):])

    with pytest.raises(ScenarioError, match="replay the job"):  # as the CLI refuses it
        store.replay(trace, chosen)
    one_rank = tmp_path / "one_rank.toml"
    one_rank.write_text(EVERY_KEY[:EVERY_KEY.index("[place]")])
    path, by_api = one_rank, store.replay(trace, store.scenario(trace, file=one_rank))
    one = cli("replay", str(trace))
    assert one["predicted_ns"] == by_api.predicted_ns and one["scenario"] == by_api.scenario
    assert one["links"] and len(one["links"]) == len(by_api.link_report.uses)
    path = tmp_path / "every_key.toml"
    ranks = cli("replay", str(trace), "--all-ranks")
    by_api_job = store.replay(trace, chosen, all_ranks=True)
    assert [r["predicted_span_ns"] for r in ranks["ranks"]] == [r.predicted_ns for _, r in by_api_job]
    swept = cli("sweep", str(trace), "--all-ranks", "--grid", "hbm=1x,2x")
    by_api_sweep = store.sweep(trace, ["hbm=1x,2x"], chosen, all_ranks=True)
    assert sorted(r["predicted_span_ns"] for r in swept["scenarios"]) == \
        sorted(by_api_sweep.scenarios["predicted_span_ns"].to_list())
    # and the server matters: without it (the Python API before scenarios carried it) the answer is another one
    no_server = store.scenario(trace, file=path)
    no_server.topology = None
    assert spans(r for _, r in store.replay(trace, no_server, all_ranks=True)) != spans(r for _, r in by_api_job)
    # the API's arguments override the file's, as the CLI's flags do
    flags = cli("replay", str(trace), "--all-ranks", "--link", "sw0=1x")
    assert [r["predicted_span_ns"] for r in flags["ranks"]] == \
        [r.predicted_ns for _, r in store.replay(trace, store.scenario(trace, file=path, link=["sw0=1x"]), all_ranks=True)]


def test_topology_arguments_without_a_topology_are_refused_by_the_api_as_by_the_cli(two_gpus):
    store, trace = two_gpus
    with pytest.raises(ScenarioError, match="need topology=NAME") as refused:  # Python's words: the arguments
        store.scenario(trace, move=["gpu1=sw1"])
    assert refused.value.cli_message().startswith("--move and --link") and "need --topology NAME" in refused.value.cli_message()
    with pytest.raises(ScenarioError, match="needs topology=NAME"):
        store.scenario(trace, place={"1": "gpu2"})


def test_a_topology_in_python_is_the_one_the_cli_shows():
    import retime
    from click.testing import CliRunner
    from retime.cli import main
    server = retime.topology("dgx-h100", move=["gpu1=sw1"], link=["nic=800Gb/s"])
    shown = CliRunner().invoke(main, ["topology", "show", "dgx-h100", "--move", "gpu1=sw1", "--link", "nic=800Gb/s"])
    assert shown.exit_code == 0 and shown.output.startswith(server.show())
    assert server.above("gpu1") == "sw1"
