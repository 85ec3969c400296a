"""The kernel class table (retime/foundation/kernel_classes.toml) against every kernel name in the
real traces: the names that decide replays land in the class their library says, every rule is
used, and little GPU time is left unclassed."""
from __future__ import annotations

import re

import pytest
from retime import foundation

import retime
from tests.conftest import SAMPLE_TRACES, SHARED_TRACES


@pytest.fixture(scope="module")
def kernel_names(tmp_path_factory):
    """Every kernel name with its total time, from the shared traces (when present) and the samples."""
    with retime.open(tmp_path_factory.mktemp("classes") / "k.duckdb") as store:
        paths = [SAMPLE_TRACES] + ([SHARED_TRACES] if SHARED_TRACES.is_dir() else [])
        store.ingest(paths)
        foundation.load(store.con, "gpu")
        yield store.con.sql("SELECT name, gpu_class(kind, name) AS class, sum(dur_ns) AS ns "
                            "FROM events WHERE kind = 'kernel' GROUP BY ALL").pl()


@pytest.mark.parametrize("name, expected", [
    ("nvjet_sm103_tst_64x16_64x16_4x1_v_bz_TNT", "gemm"),                 # cuBLASLt on B300
    ("bmm_Bfloat16_Bfloat16Bfloat16_Fp32_t128x8x128u2_s6_et128x8", "gemm"),
    ("kernel_cutlass_kernel_flashinfernormkernelsfused_add_rmsnormFusedAddRMSNormKernel_object", "reduction"),
    ("fmhaSm100fKernel_QkvBfloat16OBfloat16H128PagedKvCausalP64", "attention"),
    ("void vllm::reshape_and_cache_flash_kernel<__hip_bfloat16, __hip_bfloat16>", "elementwise"),
    ("Cijk_Alik_Bljk_BBS_BH_Bias_HA_S_SAV_UserArgs_MT256x32x64", "gemm"),
    ("void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float> >", "elementwise"),
    ("implicit_convolve_sgemm", "convolution"),
    ("void cudnn::bn_fw_tr_1C11_kernel_NCHW<float, float, 512, true, 1>", "reduction"),  # V100 ResNet-50 batch norm
    ("void cudnn::bn_bw_1C11_kernel_new<float, float, float2, 512, true, 1>", "reduction"),
    ("void at::native::reduce_kernel<512, 1>", "reduction"),
    ("saxpy(double *, double *, double *, double, int)", "other"),
])
def test_a_kernel_name_gets_its_class(store, name, expected):
    con = store.con
    foundation.load(con, "gpu")
    assert con.execute("SELECT gpu_class('kernel', $n)", {"n": name}).fetchone()[0] == expected


def test_every_rule_classes_some_real_kernel(kernel_names):
    if not SHARED_TRACES.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    names = kernel_names["name"].to_list()
    for rule in foundation.kernel_class_rules():
        rx = re.compile(rule["pattern"], re.I)
        assert any(rx.search(n) for n in names + rule.get("examples", [])), rule["pattern"]


def test_a_rule_written_from_sources_classes_the_names_it_lists(store):
    foundation.load(store.con, "gpu")
    listed = [(name, rule["class"]) for rule in foundation.kernel_class_rules() for name in rule.get("examples", [])]
    assert listed
    for name, expected in listed:
        assert store.con.execute("SELECT gpu_class('kernel', $n)", {"n": name}).fetchone()[0] == expected, name


def test_little_gpu_time_is_left_unclassed(kernel_names):
    if not SHARED_TRACES.is_dir():
        pytest.skip("../shared/traces is not present in this checkout")
    other = kernel_names.filter(kernel_names["class"] == "other")["ns"].sum()
    assert other / kernel_names["ns"].sum() < 0.03
