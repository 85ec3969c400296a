"""One trace's collective kernels on its GPU's NVLink port (--topology with an NVLink switch): the
real A100 DDP rank `hta/nccl_parser_config_rank0` (21 all-reduces of up to 31.5 MB of bus bytes,
sizes from each kernel's `In msg nelems`, on one NCCL stream), placed on a DGX H100."""
from __future__ import annotations

import pytest
from retime import foundation
from retime.replay import topology

from tests.conftest import SHARED_TRACES, shared_store

DDP_RANK = SHARED_TRACES / "hta" / "nccl_parser_config_rank0.json.gz"
DGX = topology.load("dgx-h100")


@pytest.fixture(scope="module")
def rank(tmp_path_factory):
    with shared_store(tmp_path_factory, DDP_RANK) as (store, [t]):
        yield store, t


def on(rank, server=None):
    store, trace_id = rank
    return store.replay(trace_id, [], topology=server)


def test_each_all_reduce_crosses_its_gpus_nvlink_port_with_its_bus_bytes(rank):
    store, trace_id = rank
    result = on(rank, DGX)
    sent = result.link_report.transfers
    assert sent.height == 21 and set(sent["kind"]) == {"nvlink"} and not sent["slowed"].any()
    foundation.load(store.con, "comm")  # collective_bus_bytes: what a rank moves under the ring algorithm
    bus = store.sql(f"SELECT sum(collective_bus_bytes(coll_op, coll_dtype, coll_in_nelems, coll_group_size)) AS b "
                    f"FROM events WHERE trace_id = {trace_id} AND kind = 'collective'")["b"][0]
    assert sent["bytes"].sum() == bus
    # at 450 GB/s the port wants at most 0.03 of itself: the replay is the topology-free one
    assert result.predicted_ns == on(rank).predicted_ns == result.measured_ns


def test_an_all_reduce_on_a_slow_port_takes_its_bytes_over_it(rank):
    sent = on(rank, DGX.with_links({"nvlink": "1GB/s"})).link_report.transfers
    held = sent.filter(sent["bytes"] > sent["wanted_ns"])  # wanting more than 1 GB/s = 1 byte/ns
    assert held.height == 18 and held["slowed"].all()
    for row in held.iter_rows(named=True):  # one NCCL stream: each alone on the port
        assert row["took_ns"] == pytest.approx(row["bytes"], abs=2)


def test_more_nvlink_bandwidth_never_slows_the_rank_and_slack_absorbs_a_little_less(rank):
    spans = [on(rank, DGX.with_links({"nvlink": rate})).predicted_ns
             for rate in ("0.1GB/s", "0.25GB/s", "0.5GB/s", "1GB/s", "450GB/s")]
    assert spans == sorted(spans, reverse=True) and spans[0] > 4 * spans[-1]
    assert spans[3] == spans[4]  # at 1 GB/s the all-reduces (103 ms a step) still hide under a 222 ms step
