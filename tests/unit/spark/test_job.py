"""The PySpark job in local mode gives the single-machine summaries byte for byte, and a report from them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib import compare
from lib.drift.summary import DriftSummaries, dataset, summarise_datasets
from lib.spark.job import read_dataset, summarise_spark, write_outputs
from tests.support.aws_server import capture_line


def _frame(rng: np.random.Generator, n: int, shift: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift, 5, n),
            "income": rng.lognormal(3 + shift / 10, 0.5, n),
            "visits": rng.poisson(2, n),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3 + shift / 50, 0.2 - shift / 50]),
            "churned": rng.random(n) < 0.2,
        }
    )


def _write_parts(folder: Path, frame: pd.DataFrame, parts: int) -> Path:
    folder.mkdir(parents=True)
    for i, chunk in enumerate(np.array_split(np.arange(len(frame)), parts)):
        pq.write_table(
            pa.Table.from_pandas(frame.iloc[chunk], preserve_index=False), folder / f"part-{i}.parquet"
        )
    return folder


@pytest.fixture(scope="module")
def parquet_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    rng = np.random.default_rng(7)
    root = tmp_path_factory.mktemp("parquet")
    # 15,000 rows: more than the summaries keep verbatim, so the fine bins are what is compared.
    ref = _write_parts(root / "ref", _frame(rng, 15_000, 0.0), 3)
    cur = _write_parts(root / "cur", _frame(rng, 12_000, 2.0), 4)
    return ref, cur


def test_spark_summaries_equal_the_streaming_ones_byte_for_byte(
    spark: Any, parquet_pair: tuple[Path, Path]
) -> None:
    ref, cur = parquet_pair
    local = summarise_datasets(str(ref), str(cur), batch_rows=4_000)
    reference, current = read_dataset(spark, str(ref), "parquet"), read_dataset(spark, str(cur), "parquet")
    assert reference.rdd.getNumPartitions() > 1  # so partitions' summaries are merged on the driver
    on_spark = summarise_spark(reference, current, format="parquet")
    assert on_spark.kinds == local.kinds
    assert on_spark.reference.to_json() == local.reference.to_json()
    assert on_spark.current.to_json() == local.current.to_json()
    assert on_spark.reference.columns["age"].numeric.values is None  # binned, not verbatim
    assert on_spark.reference.columns["age"].numeric.refine_values is not None  # refined on Spark too
    cols = ["column", "test", "statistic", "p_value", "effect_size", "status"]
    pd.testing.assert_frame_equal(on_spark.report().table[cols], local.report().table[cols])
    assert "age" in on_spark.report().drifted_columns
    # The refinement pass makes KS D, hence its p-value, compare()'s on the whole data, bit for bit.
    exact = compare(pd.read_parquet(ref), pd.read_parquet(cur)).table.set_index(["column", "test"])
    got = on_spark.report().table.set_index(["column", "test"]).loc[exact.index]
    pd.testing.assert_series_equal(got["statistic"], exact["statistic"], check_exact=True)
    pd.testing.assert_series_equal(got["p_value"], exact["p_value"], check_exact=True)


def test_spark_reads_capture_files_like_the_streaming_path(spark: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    start = dt.datetime(2024, 5, 6, tzinfo=dt.UTC)
    for side, shift in (("ref", 0.0), ("cur", 8.0)):
        for hour in range(3):
            folder = tmp_path / side / "AllTraffic" / "2024" / "05" / "06" / f"{hour:02d}"
            folder.mkdir(parents=True)
            lines = [
                capture_line(f"{side}-{hour}-{i}", start + dt.timedelta(hours=hour, seconds=i),
                             [rng.normal(40 + shift, 5), rng.normal(50, 10)], rng.random())
                for i in range(40)
            ]  # fmt: skip
            (folder / "00-00-000-abc.jsonl").write_text("\n".join(lines) + "\n")
    names = ["age", "income"]
    local = summarise_datasets(str(tmp_path / "ref"), str(tmp_path / "cur"), feature_names=names)
    on_spark = summarise_spark(
        read_dataset(spark, str(tmp_path / "ref"), "capture"),
        read_dataset(spark, str(tmp_path / "cur"), "capture"),
        format="capture",
        feature_names=names,
    )
    assert on_spark.reference.n_rows == 120
    assert on_spark.reference.to_json() == local.reference.to_json()
    assert on_spark.current.to_json() == local.current.to_json()
    drifted = on_spark.report().drifted_columns
    assert "age" in drifted
    assert "income" not in drifted


def test_the_job_writes_a_summary_file_that_opens_as_the_same_report(
    spark: Any, parquet_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    ref, cur = parquet_pair
    summaries = summarise_spark(
        read_dataset(spark, str(ref), "parquet"), read_dataset(spark, str(cur), "parquet")
    )
    written = write_outputs(summaries, str(tmp_path / "out"))
    assert [Path(p).name for p in written] == ["summaries.json", "report.json", "report.html"]
    reopened = DriftSummaries.from_json((tmp_path / "out" / "summaries.json").read_bytes())
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert reopened.to_json() == summaries.to_json()
    assert [c["column"] for c in report["columns"]] == list(reopened.report().table["column"])


def test_spark_zoom_pass_gives_the_streaming_bytes(
    spark: Any, parquet_pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the zoom pass forced (counts on sub-bins before the values), Spark still matches byte for byte."""
    monkeypatch.setattr(dataset, "VALUES_DIRECT", 1)  # read on the driver, where the plan is made
    ref, cur = parquet_pair
    local = summarise_datasets(str(ref), str(cur), batch_rows=4_000)
    on_spark = summarise_spark(
        read_dataset(spark, str(ref), "parquet"), read_dataset(spark, str(cur), "parquet")
    )
    assert on_spark.reference.to_json() == local.reference.to_json()
    assert on_spark.current.to_json() == local.current.to_json()
    exact = compare(pd.read_parquet(ref), pd.read_parquet(cur)).table.set_index(["column", "test"])
    got = on_spark.report().table.set_index(["column", "test"]).loc[exact.index]
    pd.testing.assert_series_equal(got["p_value"], exact["p_value"], check_exact=True)
