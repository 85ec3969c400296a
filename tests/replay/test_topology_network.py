"""A job spread over servers: each rank's collective traffic leaves through its NIC (GPUDirect: GPU ->
PCIe switch -> NIC -> network port), sharing links with the host copies on the way; inside a
server it crosses its GPU's NVLink port into the switch fabric. On the real 8-rank DLRM job (V100
ranks, all-reduces of 1.6 MB and all-to-alls of KBs, sizes from each kernel's `nccl:<op>` launch
slice), placed on DGX H100 servers."""
from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from retime.cli import main
from retime.replay import topology
from retime.replay.scenario import ScenarioError

import retime
from tests.conftest import SHARED_TRACES

DLRM = SHARED_TRACES / "param" / "dlrm_8rank"
DGX = topology.load("dgx-h100")
TWO_SERVERS = DGX.with_ranks_per_server(4)


@pytest.fixture(scope="module")
def dlrm(tmp_path_factory):
    if not DLRM.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    db = tmp_path_factory.mktemp("network") / "dlrm.duckdb"
    with retime.open(db) as store:
        store.ingest(DLRM)
        yield store


def replay(store, server=None, knobs=()):
    return [r for _, r in store.replay(1, list(knobs), topology=server, all_ranks=True)]


def job_span(results) -> int:
    return max(r.predicted_ns for r in results)


def network(results):
    return results[0].link_report.transfers.filter(kind="network")


def nvlink(results):
    return results[0].link_report.transfers.filter(kind="nvlink")


def test_a_job_on_one_server_sends_nothing_through_its_nics(dlrm):
    on_one = replay(dlrm, DGX)
    assert network(on_one).height == 0
    assert [r.predicted_ns for r in on_one] == [r.predicted_ns for r in replay(dlrm)]


def test_ranks_on_two_servers_meet_through_their_nics_each_carrying_a_quarter(dlrm):
    spread = replay(dlrm, TWO_SERVERS)
    sent = network(spread)
    # 8 collectives x 8 ranks, each its rank's bus bytes over the 4 ranks of its server: the all-reduce of
    # 394,241 floats (1.6 MB) moves 2 x 7/8 of its buffer per rank
    assert sent.height == 8 * 8 and sent["rank"].unique().sort().to_list() == list(range(8))
    assert sent["bytes"].max() == round(2 * 7 / 8 * 394_241 * 4 / 4)
    crossed = spread[0].link_report.transfer_links.join(sent.select("transfer"), on="transfer")
    assert set(crossed.filter(server=0)["link"]) == {"gpu0", "gpu1", "gpu2", "gpu3", "nic0", "nic1", "nic2", "nic3",
                                                      "nic0.port", "nic1.port", "nic2.port", "nic3.port"}
    # at 400 Gb/s nothing is over-subscribed: the replay is the topology-free one
    assert [r.predicted_ns for r in spread] == [r.predicted_ns for r in replay(dlrm)]


def test_on_a_maia_style_host_network_traffic_leaves_from_the_chip_and_never_crosses_pcie(dlrm):
    maia = topology.load("maia-100")  # 4 accelerators a server: the 8 ranks (devices 0-7) fill two
    spread = replay(dlrm, maia)
    sent = network(spread)
    assert sent.height == 8 * 8
    crossed = spread[0].link_report.transfer_links.join(sent.select("transfer"), on="transfer")
    assert set(crossed["link"]) == {f"nic{g}" for g in range(4)} | {f"nic{g}.port" for g in range(4)}
    # a faster PCIe leaves the on-chip NICs as they are
    assert maia.with_links({"pcie.gen": "6"}).gb_s == {**maia.gb_s, **{f"gpu{g}": 64.0 for g in range(4)}}


def test_an_all_reduce_through_a_slow_port_takes_its_bytes_over_the_port(dlrm):
    slow = replay(dlrm, TWO_SERVERS.with_links({"nic": "1Gb/s"}))
    sent = network(slow)
    held = sent.filter(sent["bytes"] * 8 > sent["wanted_ns"])  # wanting more than 1 Gb/s = 0.125 bytes/ns
    assert held.height > 0 and held["slowed"].all()
    for row in held.iter_rows(named=True):  # alone on its port (a rank's collectives run one at a time)
        assert row["took_ns"] == pytest.approx(row["bytes"] / 0.125, abs=2)
    assert job_span(slow) > job_span(replay(dlrm))


def test_inside_one_server_each_rank_sends_its_bus_bytes_through_its_gpus_nvlink_port(dlrm):
    sent = nvlink(replay(dlrm, DGX))
    assert sent.height == 8 * 8 and not sent["slowed"].any()  # 8 collectives x 8 ranks, at 450 GB/s none held
    assert sent["bytes"].max() == round(2 * 7 / 8 * 394_241 * 4)  # the ring never leaves the server: all of it
    crossed = replay(dlrm, DGX)[0].link_report.transfer_links.join(sent.filter(rank=5).select("transfer"), on="transfer")
    assert set(zip(crossed["link"], crossed["direction"])) == {("gpu5.nvlink", "out"), ("gpu5.nvlink", "in")}


def test_over_two_servers_a_ranks_bus_bytes_split_between_its_nic_and_its_nvlink_port(dlrm):
    spread = replay(dlrm, TWO_SERVERS)
    keys = ["rank", "name", "start_ns"]  # a collective's two parts start together, on one edge of the graph
    both = network(spread).join(nvlink(spread), on=keys, suffix="_nvlink")
    assert both.height == network(spread).height == nvlink(spread).height == 8 * 8
    # each ring enters and leaves a server of 4 ranks once: 1/4 of the bytes through the NIC, 3/4 over NVLink
    for row in both.iter_rows(named=True):
        assert row["bytes_nvlink"] == pytest.approx(3 * row["bytes"], abs=2)
    assert (both["bytes"] + both["bytes_nvlink"]).max() == pytest.approx(2 * 7 / 8 * 394_241 * 4, abs=1)


def test_a_rank_placed_on_the_other_server_shares_that_servers_nics(dlrm):
    # rank 4 joins ranks 0-3 on server 0 (its GPU 4): 5 ranks there, 3 on server 1
    uneven = replay(dlrm, TWO_SERVERS.placed({"4": "0/gpu4"}))
    biggest = network(uneven).filter(pl.col("bytes") == pl.col("bytes").max().over("rank"))
    bus = 2 * 7 / 8 * 394_241 * 4
    share = dict(zip(biggest["rank"], biggest["bytes"]))
    assert share[0] == share[4] == round(bus / 5) and share[5] == share[7] == round(bus / 3)
    assert set(network(uneven).filter(rank=4)["server"]) == {0} and set(nvlink(uneven).filter(rank=4)["gpu"]) == {4}
    # each rank's two parts still add up to its bus bytes
    parts = nvlink(uneven).filter(rank=5)["bytes"].max() + share[5]
    assert parts == pytest.approx(bus, abs=1)


def test_an_all_reduce_through_a_slow_nvlink_port_takes_its_bytes_over_the_port(dlrm):
    slow = replay(dlrm, DGX.with_links({"nvlink": "1GB/s"}))
    sent = nvlink(slow)
    held = sent.filter(sent["bytes"] > sent["wanted_ns"])  # wanting more than 1 GB/s = 1 byte/ns
    assert held.height > 0 and held["slowed"].all()
    for row in held.iter_rows(named=True):  # alone on its port (a rank's collectives run one at a time)
        assert row["took_ns"] == pytest.approx(row["bytes"] / 1.0, abs=2)
    assert job_span(slow) > job_span(replay(dlrm))


def test_more_nvlink_bandwidth_never_slows_the_job(dlrm):
    spans = [job_span(replay(dlrm, DGX.with_links({"nvlink": rate})))
             for rate in ("0.25GB/s", "0.5GB/s", "1GB/s", "4GB/s", "450GB/s", "900GB/s")]
    assert spans == sorted(spans, reverse=True) and spans[0] > spans[-1]


def test_nvlink_ports_are_links_of_their_own():
    assert DGX.with_links({"nvlink": "2x"}).gb_s["gpu5.nvlink"] == 900
    assert DGX.with_links({"gpu5.nvlink": "100GB/s"}).gb_s == {**DGX.gb_s, "gpu5.nvlink": 100}
    assert DGX.with_links({"pcie.gen": "6"}).gb_s["gpu0.nvlink"] == 450  # NVLink is not PCIe
    assert DGX.links[-8:] == [f"gpu{g}.nvlink" for g in range(8)] and DGX.above("gpu0.nvlink") == "nvswitch"
    with pytest.raises(ScenarioError, match="no NVLink port"):
        topology.load("mi300x-oam").with_links({"nvlink": "2x"})  # a mesh, recorded but not modelled


def test_more_nic_bandwidth_never_slows_the_job(dlrm):
    spans = [job_span(replay(dlrm, TWO_SERVERS.with_links({"nic": rate})))
             for rate in ("0.5Gb/s", "1Gb/s", "2Gb/s", "10Gb/s", "400Gb/s", "800Gb/s")]
    assert spans == sorted(spans, reverse=True) and spans[0] > spans[-1]


def test_a_nic_moved_behind_another_switch_shares_its_uplink_with_that_switchs_copies(dlrm):
    # nic1 under switch 1: GPU 1's traffic goes gpu1 -> sw0 -> cpu0 -> sw1 -> nic1, through switch 1's uplink,
    # which GPUs 2 and 3's host copies also cross; the uplink made slow (0.5 GB/s) so the two kinds collide
    moved = TWO_SERVERS.moved({"nic1": "sw1"}).with_links({"nic": "10Gb/s", "sw1": "0.5GB/s"})
    results = replay(dlrm, moved)
    report = results[0].link_report
    demand = report.demand()
    uplink = demand.filter(server=0, link="sw1", direction="to device").row(0, named=True)
    assert uplink["copies"] > 0 and uplink["network"] > 0 and uplink["over_100_ns"] > 0
    sent = network(results)
    big = sent.filter(sent["bytes"] == sent["bytes"].max())
    own_rail = big.filter(rank=2).row(0, named=True)  # gpu2 -> sw1 -> nic2: not through the uplink
    assert own_rail["took_ns"] == pytest.approx(own_rail["bytes"] / 1.25, abs=2)
    through = big.filter(rank=1).row(0, named=True)  # at most the uplink's 0.5 GB/s, less while copies share it
    assert through["took_ns"] >= through["bytes"] / 0.5 - 2
    # no link direction carries more than its bandwidth: its bytes take at least bytes / GB/s of its busy time
    for row in demand.iter_rows(named=True):
        assert row["bytes"] / row["gb_s"] <= row["busy_ns"] + 2 * row["transfers"]
    # which transfers collided: rank 1's all-reduce, with the links it crossed
    collided = report.collided()
    assert collided.row(0, named=True)["rank"] == 1 and "sw1 to device" in collided.row(0, named=True)["links"]


def test_link_load_buckets_carry_every_byte(dlrm):
    report = replay(dlrm, TWO_SERVERS.with_links({"nic": "1Gb/s"}))[0].link_report
    load = report.load(1_000_000)
    carried = load.group_by("server", "link", "direction").agg(pl.col("bytes").sum())
    demand = report.demand().select("server", "link", "direction", "bytes")
    joined = demand.join(carried, on=["server", "link", "direction"], suffix="_buckets")
    assert joined.height == demand.height
    for row in joined.iter_rows(named=True):
        assert row["bytes_buckets"] == pytest.approx(row["bytes"], abs=load.height)
    assert load["utilization"].max() <= 1.0 + 1e-6


def test_the_cli_spreads_a_job_and_shows_its_links(dlrm, tmp_path):
    db = tmp_path / "cli.duckdb"  # the CLI opens its own store
    assert CliRunner().invoke(main, ["ingest", str(DLRM), "--db", str(db)]).exit_code == 0
    out = CliRunner().invoke(main, ["replay", "1", "--db", str(db), "--all-ranks", "--topology", "dgx-h100",
                                    "--ranks-per-server", "4", "--link", "nic=1Gb/s", "--link-load", "5ms"])
    assert out.exit_code == 0, out.output
    assert "topology=dgx-h100 nic=1Gb/s 4 ranks a server" in out.output
    assert "nic0.port out" in out.output and "held back" in out.output and "link load" in out.output
    scenario = tmp_path / "two_servers.toml"
    scenario.write_text('topology = "dgx-h100"\nranks_per_server = 4\n[link]\nnic = "1Gb/s"\n')
    by_file = CliRunner().invoke(main, ["replay", "1", "--db", str(db), "--all-ranks", "--scenario", str(scenario),
                                        "--format", "json"])
    doc = json.loads(by_file.output[by_file.output.index("{"):])
    assert doc["total"]["predicted_span_ns"] == pytest.approx(24.029e6, abs=500)
    assert doc["link_demand"][0]["link"].endswith(".port") and doc["collided"][0]["kind"] == "network"
    placed = tmp_path / "placed.toml"
    placed.write_text('topology = "dgx-h100"\nranks_per_server = 4\n[link]\nnic = "1Gb/s"\n[place]\n4 = "0/gpu4"\n')
    by_place = CliRunner().invoke(main, ["replay", "1", "--db", str(db), "--all-ranks", "--scenario", str(placed)])
    assert by_place.exit_code == 0 and "rank 4 on server 0 gpu4" in by_place.output, by_place.output
    flag = CliRunner().invoke(main, ["replay", "1", "--db", str(db), "--all-ranks", "--topology", "dgx-h100",
                                     "--ranks-per-server", "4", "--link", "nic=1Gb/s", "--place", "4=0/gpu4"])
    assert flag.output == by_place.output
    loose = CliRunner().invoke(main, ["replay", "1", "--db", str(db), "--all-ranks", "--place", "4=gpu4"])
    assert loose.exit_code == 2 and "--place (a scenario file's [place]) needs --topology" in loose.output
    bad = CliRunner().invoke(main, ["replay", "1", "--db", str(db), "--all-ranks", "--ranks-per-server", "4"])
    assert bad.exit_code == 2 and "needs --topology" in bad.output
    wide = CliRunner().invoke(main, ["replay", "1", "--db", str(db), "--all-ranks", "--topology", "dgx-h100",
                                     "--ranks-per-server", "9"])
    assert wide.exit_code != 0 and "has 8 GPUs a server" in wide.output and "Traceback" not in wide.output


def test_nic_rates_read_bits_and_bytes_apart():
    assert DGX.with_links({"nic": "800Gb/s"}).gb_s["nic3.port"] == 100
    assert DGX.with_links({"nic": "100GB/s"}).gb_s["nic3.port"] == 100
    assert DGX.with_links({"nic3.port": "2x"}).gb_s == {**DGX.gb_s, "nic3.port": 100}
    assert DGX.with_links({"pcie.gen": "6"}).gb_s["nic0.port"] == 50  # a port is not PCIe
    with pytest.raises(ScenarioError, match="Gb/s in bits"):
        DGX.with_links({"nic": "fast"})


def test_routes_climb_to_the_lowest_common_node_and_cross_sockets():
    assert DGX.route("gpu0", "nic0") == [("gpu0", 0), ("nic0", 1)]
    assert DGX.route("gpu0", "nic7") == [("gpu0", 0), ("sw0", 0), ("cpu1", 1), ("sw3", 1), ("nic7", 1)]
    assert DGX.nic_of("gpu5") == "nic5" and DGX.route_to_host("gpu5") == ["gpu5", "sw2"]


@pytest.mark.parametrize("server, span_ms", [
    (DGX, 19.951), (TWO_SERVERS, 19.951), (TWO_SERVERS.with_links({"nic": "10Gb/s"}), 19.951),
    (TWO_SERVERS.with_links({"nic": "1Gb/s"}), 24.029),
    (TWO_SERVERS.moved({"nic1": "sw1"}).with_links({"nic": "1Gb/s"}), 24.029),
    (TWO_SERVERS.moved({"nic1": "sw1"}).with_links({"nic": "1Gb/s", "sw1": "0.05GB/s"}), 37.356),
    (DGX.with_links({"nvlink": "10GB/s"}), 19.951), (DGX.with_links({"nvlink": "1GB/s"}), 20.653),
    (TWO_SERVERS.with_links({"nvlink": "1GB/s"}), 20.256),
])
def test_the_readmes_dlrm_table(dlrm, server, span_ms):
    assert job_span(replay(dlrm, server)) / 1e6 == pytest.approx(span_ms, abs=5e-4)


def test_a_sweep_on_a_topology_varies_links_and_agrees_with_the_batched_sweep_where_nothing_is_shared(dlrm):
    on_servers = dlrm.sweep(1, ["link.nic=1Gb/s,400Gb/s", "cpu.speed=1x,2x"], all_ranks=True, topology=TWO_SERVERS)
    free = dlrm.sweep(1, ["cpu.speed=1x,2x"], all_ranks=True)
    rows = {(r["link.nic"], r["cpu.speed"]): r for r in on_servers.scenarios.iter_rows(named=True)}
    for r in free.scenarios.iter_rows(named=True):  # at 400 Gb/s no link is over-subscribed
        assert rows[("400Gb/s", r["cpu.speed"])]["predicted_span_ns"] == r["predicted_span_ns"]
        assert rows[("1Gb/s", r["cpu.speed"])]["predicted_span_ns"] > r["predicted_span_ns"]
    # where the links held transfers back, the prediction rests on the unvalidated sharing model
    assert rows[("1Gb/s", "1x")]["expected_error_pct"] is None and rows[("400Gb/s", "1x")]["expected_error_pct"] == 0
    assert on_servers.sensitivity["knob"][0] == "link.nic"
    with pytest.raises(Exception, match="link and move axes need a topology"):
        dlrm.sweep(1, ["link.nic=1Gb/s,400Gb/s"], all_ranks=True)
    with pytest.raises(Exception, match="Gb/s in bits"):
        dlrm.sweep(1, ["link.nic=fast"], all_ranks=True, topology=TWO_SERVERS)


@pytest.mark.parametrize("key", list(topology.presets()))
def test_every_preset_cites_its_sources_and_routes_each_gpu_to_host_and_network(key):
    server = topology.load(key)
    assert "source" in topology.presets()[key] and len(server.source) > 100
    for gpu in server.gpus():
        up = server.route_to_host(gpu)
        assert up[0] == gpu and server.parent[up[-1]].startswith("cpu")
        nic = server.nic_of(gpu)
        on_chip = server.parent[nic] == gpu  # a NIC on the accelerator itself (maia-100)
        assert nic == "nic" + gpu[3:] and server.route(gpu, nic) == ([(nic, 1)] if on_chip else [(gpu, 0), (nic, 1)])
    assert all(rate > 0 for rate in server.gb_s.values())


def test_ranks_that_each_saw_their_gpu_as_device_0_take_their_local_rank():
    from retime.replay.placement import gpus_of_lanes
    ranks = np.arange(8)
    # one GPU lane per rank: devices 0-7 as recorded, kept; all 0 (CUDA_VISIBLE_DEVICES per process): local ranks
    assert gpus_of_lanes(np.arange(8), np.arange(8), ranks, 4).tolist() == list(range(8))
    assert gpus_of_lanes(np.zeros(8, np.int64), np.arange(8), ranks, 4).tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    # devices 0-7 recorded on 8-GPU servers, placed on servers of 4: local ranks
    assert gpus_of_lanes(np.arange(8), np.arange(8), ranks, 4, 4).tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    # a rank with two streams on one device is not a clash
    assert gpus_of_lanes(np.array([0, 0, 1]), np.array([0, 0, 1]), ranks[:2], 8).tolist() == [0, 0, 1]


def test_a_sweep_moves_a_nic_as_the_replay_does(dlrm):
    slow_uplink = TWO_SERVERS.with_links({"nic": "1Gb/s", "sw1": "0.05GB/s"})
    swept = dlrm.sweep(1, ["move.nic1=sw0,sw1"], all_ranks=True, topology=slow_uplink)
    rows = {r["move.nic1"]: r["predicted_span_ns"] for r in swept.scenarios.iter_rows(named=True)}
    for parent in ("sw0", "sw1"):  # each point is the job's span on that topology (first start to last end)
        free = dlrm.sweep(1, ["cpu.speed=1x"], all_ranks=True, topology=slow_uplink.moved({"nic1": parent}))
        assert rows[parent] == free.scenarios["predicted_span_ns"][0]
    assert rows["sw1"] > rows["sw0"]  # behind switch 1, rank 1's traffic crosses the slow uplink
    with pytest.raises(Exception, match="has no node 'sw9'"):
        dlrm.sweep(1, ["move.nic1=sw9"], all_ranks=True, topology=slow_uplink)
