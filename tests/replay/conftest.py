"""Stores the replay tests share."""
from __future__ import annotations

import pytest

import retime
from tests.conftest import SHARED_TRACES, built_once, copy_of, shared_json_traces

NSYS = ["nsys/h100_2gpu_1s.sqlite", "nsys/rtx3080_tiny.sqlite", "pipit/saxpy_mpi_cuda_a100_nsys2022.2.sqlite"]
ROCPROF = ["rocprof/rocprofv3_mi350_train_908_results.json.gz"]
XPLANE = ["xplane/jax08_conv_mi300_tw003.xplane.pb", "xplane/jax_legacy_conv_mi300.xplane.pb",
          "xplane/jax_te_fused_attn_934987a2fc2f.xplane.pb"]


@pytest.fixture(scope="session")
def every_shared_trace(tmp_path_factory):
    """A store holding every profiler trace of ../shared/traces (its JSON files, three nsys exports,
    the rocprofv3 JSON and the XPlane files)."""
    if not SHARED_TRACES.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    built = built_once("every_shared_trace", [SHARED_TRACES / name for name in shared_json_traces() + NSYS + ROCPROF + XPLANE])
    s = retime.open(copy_of(built, tmp_path_factory.mktemp("replay")))
    yield s
    s.close()


@pytest.fixture(scope="module")
def dlrm_store(tmp_path_factory):
    """A store holding the real 8-rank DLRM job (its measured ranks are traces 1-8), one per test module."""
    if not SHARED_TRACES.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    built = built_once("dlrm_8rank", [SHARED_TRACES / "param" / "dlrm_8rank"])
    with retime.open(copy_of(built, tmp_path_factory.mktemp("dlrm"))) as s:
        yield s
