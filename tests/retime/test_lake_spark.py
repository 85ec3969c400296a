"""The Parquet lake on a distributed engine: one stress-point query answered by DuckDB over the
lake and by Spark SQL in local mode over the same files (docs/lake.md). Skips only without Java."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import retime
from tests.conftest import ROOT, SAMPLE_TRACES

SPARK_SQL = ROOT / "docs" / "spark" / "memcpy_bandwidth.sql"
PEAKS = {"link_peak_gbps": 64, "hbm_peak_gbps": 3350}


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("no Java runtime for Spark")
    pyspark = pytest.importorskip("pyspark.sql")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (pyspark.SparkSession.builder.master("local[2]").appName("retime-lake")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_duckdb_and_spark_answer_the_same_over_the_lake(tmp_path, spark):
    with retime.open(tmp_path / "s.duckdb") as store:
        store.ingest([SAMPLE_TRACES / "gpu_h100"])
        store.export_lake(tmp_path / "lake")
    for table in ("traces", "lanes", "events", "deps", "counters"):
        spark.read.parquet(str(tmp_path / "lake" / table)).createOrReplaceTempView(table)
    with retime.open_lake(tmp_path / "lake") as lake:
        for trace_id in lake.sql("SELECT trace_id FROM traces ORDER BY trace_id")["trace_id"]:
            duck = lake.query("memcpy_bandwidth", trace_id, **PEAKS).to_dicts()
            rows = spark.sql(Path(SPARK_SQL).read_text().format(trace_id=trace_id, **PEAKS)).collect()
            sparked = [row.asDict() for row in rows]
            assert len(duck) == len(sparked) > 0
            for ours, theirs in zip(sorted(duck, key=_key), sorted(sparked, key=_key)):
                assert ours.keys() == theirs.keys()
                for column, value in ours.items():
                    if isinstance(value, float):
                        assert theirs[column] == pytest.approx(value, abs=1e-3), column
                    else:
                        assert theirs[column] == value, column


def _key(row: dict):
    return row["copy_kind"], row["src_kind"], row["dst_kind"]
