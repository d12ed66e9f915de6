"""Datasets on disk and on S3 (moto), streamed into summaries: compare_datasets gives compare()'s report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib import InputError, compact_capture, compare, compare_datasets
from lib.sources.datasets import iter_frames, resolve
from tests.support import aws_server
from tests.support.aws_server import capture_line, client

moto_endpoint = aws_server.moto_endpoint
aws_env = aws_server.aws_env


def _frame(seed: int, n: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift, 5, n),
            "income": np.round(rng.lognormal(3, 0.5, n), 2),
            "visits": rng.poisson(2, n),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "customer_id": np.arange(n),
        }
    )


def _report_rows(report: object) -> pd.DataFrame:
    table = report.table  # type: ignore[attr-defined]
    return (
        table[["column", "test", "statistic", "p_value", "status"]]
        .sort_values(["column", "test"])
        .reset_index(drop=True)
    )


def test_parquet_folder_with_hive_partitions_and_a_glob_match_compare(tmp_path: Path) -> None:
    ref, cur = _frame(1, 3_000, 0.0), _frame(2, 2_500, 3.0)
    for name, frame in (("ref", ref), ("cur", cur)):
        for day, chunk in enumerate(np.array_split(np.arange(len(frame)), 3)):
            folder = tmp_path / name / f"day={day}"
            folder.mkdir(parents=True)
            pq.write_table(
                pa.Table.from_pandas(frame.iloc[chunk], preserve_index=False), folder / "part.parquet"
            )
    report = compare_datasets(str(tmp_path / "ref"), str(tmp_path / "cur/*/*.parquet"), exclude=["day"])
    exact = compare(ref, cur)
    pd.testing.assert_frame_equal(_report_rows(report), _report_rows(exact))
    assert report.kinds["customer_id"] == "id"
    assert report.drifted_columns == ["age"]
    src = resolve(str(tmp_path / "ref"))
    assert "day" in next(iter(iter_frames(src))).columns  # hive partition keys are columns


def test_csv_and_json_lines_datasets(tmp_path: Path) -> None:
    ref, cur = _frame(3, 1_200, 0.0), _frame(4, 1_000, 0.0)
    (tmp_path / "csv").mkdir()
    ref.to_csv(tmp_path / "csv" / "ref.csv", index=False)
    cur.to_json(tmp_path / "cur.jsonl", orient="records", lines=True)
    report = compare_datasets(str(tmp_path / "csv" / "ref.csv"), str(tmp_path / "cur.jsonl"))
    assert report.drifted_columns == []
    assert report.n_reference == 1_200
    assert report.n_current == 1_000


def test_bad_datasets_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        compare_datasets(str(tmp_path / "missing"), str(tmp_path / "missing"))
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "a.txt").write_text("x")
    with pytest.raises(InputError, match="format"):
        compare_datasets(str(tmp_path / "odd"), str(tmp_path / "odd"))
    with pytest.raises(InputError, match="s3://"):
        compare_datasets("gs://bucket/x", "gs://bucket/y")


def _capture_folder(root: Path, shift: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    start = dt.datetime(2024, 5, 6, tzinfo=dt.UTC)
    for hour in range(2):
        folder = root / "AllTraffic" / "2024" / "05" / "06" / f"{hour:02d}"
        folder.mkdir(parents=True)
        lines = [
            capture_line(f"e{hour}-{i}", start + dt.timedelta(hours=hour, seconds=i),
                         [rng.normal(40 + shift, 5), rng.normal(50, 10)], rng.random())
            for i in range(60)
        ]  # fmt: skip
        (folder / "00-00-000-x.jsonl").write_text("\n".join(lines) + "\n")
    return root


def test_capture_prefixes_and_compaction_to_parquet(tmp_path: Path) -> None:
    ref = _capture_folder(tmp_path / "ref", 0.0, 1)
    cur = _capture_folder(tmp_path / "cur", 10.0, 2)
    names = ["age", "income"]
    direct = compare_datasets(str(ref), str(cur), feature_names=names)
    assert direct.drifted_columns == ["age"]
    written = compact_capture(str(cur), str(tmp_path / "compacted"), feature_names=names)
    assert len(written) == 1
    assert len(pq.read_table(written[0])) == 120
    compacted = compare_datasets(str(ref), str(tmp_path / "compacted"), feature_names=names, format=None)
    pd.testing.assert_frame_equal(_report_rows(compacted), _report_rows(direct))


def _put_partitioned(
    s3: Any, bucket: str, frames: dict[str, pd.DataFrame], *, months: int, folder: Path
) -> None:
    """Each frame as a hive-partitioned Parquet dataset ``<name>/month=<m>/part-0.parquet`` in ``bucket``."""
    for name, frame in frames.items():
        for month, chunk in enumerate(np.array_split(np.arange(len(frame)), months)):
            path = folder / f"{name}{month}.parquet"
            pq.write_table(pa.Table.from_pandas(frame.iloc[chunk], preserve_index=False), path)
            s3.put_object(
                Bucket=bucket, Key=f"{name}/month={month + 1}/part-0.parquet", Body=path.read_bytes()
            )


def test_partitioned_parquet_on_s3_through_the_apps_session(aws_env: str, tmp_path: Path) -> None:
    s3 = client(aws_env, "s3")
    s3.create_bucket(Bucket="data")
    ref, cur = _frame(5, 2_000, 0.0), _frame(6, 2_000, 0.0)
    cur["plan"] = np.where(np.arange(2_000) % 2 == 0, "pro", cur["plan"])
    _put_partitioned(s3, "data", {"ref": ref, "cur": cur}, months=2, folder=tmp_path)
    s3.put_object(Bucket="data", Key="ref/_SUCCESS", Body=b"")
    report = compare_datasets("s3://data/ref/", "s3://data/cur", exclude=["month"], endpoint_url=aws_env)
    pd.testing.assert_frame_equal(_report_rows(report), _report_rows(compare(ref, cur)))
    assert report.drifted_columns == ["plan"]
    with pytest.raises(InputError, match="no such file"):
        compare_datasets("s3://data/nothing/", "s3://data/cur/", endpoint_url=aws_env)


def test_partitioned_parquet_on_s3_gives_compares_ks_p_values_bit_for_bit(
    aws_env: str, tmp_path: Path
) -> None:
    """Past the values the summaries keep verbatim (10,000 a side): the refinement pass makes D exact."""
    s3 = client(aws_env, "s3")
    s3.create_bucket(Bucket="big")
    # Seeds where, for both columns, the largest ECDF gap lies inside a fine bin, not on an edge.
    ref, cur = _frame(9, 14_000, 0.0), _frame(109, 13_000, 0.05)
    _put_partitioned(s3, "big", {"ref": ref, "cur": cur}, months=3, folder=tmp_path)
    report = compare_datasets(
        "s3://big/ref/", "s3://big/cur", exclude=["month"], endpoint_url=aws_env, batch_rows=5_000
    )
    exact = compare(ref, cur)
    pd.testing.assert_frame_equal(_report_rows(report), _report_rows(exact), check_exact=True)
    ks = report.table[report.table["test"] == "ks"]
    assert set(ks["column"]) == {"age", "income"}
    assert not ks["p_method"].str.contains("lower bound").any()
