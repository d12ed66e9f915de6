"""lib.sources.anchor_relative_times: TrainingJobAnalytics runs placed at their jobs' start times."""

from __future__ import annotations

import pandas as pd

from lib.sources import anchor_relative_times, load_export
from tests.support.paths import DATA

JOB = "synthetic-ic-lr001-2024-05-01-10-00-00-000"


def _tja(name: str = JOB) -> pd.DataFrame:
    return load_export((DATA / "training_job_analytics.csv").read_bytes(), f"{name}.csv").metrics


def test_describe_json_anchors_at_training_start() -> None:
    metrics = _tja()
    assert metrics["timestamp"].isna().all()
    jobs = load_export(DATA / "describe_training_job.json").jobs
    out = anchor_relative_times(metrics, jobs)
    start = pd.Timestamp("2024-05-01 10:03:12", tz="UTC")  # TrainingStartTime
    expected = start + pd.to_timedelta(metrics["elapsed_s"], unit="s")
    pd.testing.assert_series_equal(out["timestamp"], expected, check_names=False, check_dtype=False)
    assert out.attrs["anchored_jobs"] == [JOB]
    assert metrics["timestamp"].isna().all()  # the input is not mutated


def test_jobs_list_without_start_falls_back_to_creation_time() -> None:
    jobs = load_export(DATA / "list_training_jobs.json").jobs
    out = anchor_relative_times(_tja(), jobs)
    assert out["timestamp"].min() == pd.Timestamp("2024-05-01 10:00:00", tz="UTC")  # CreationTime


def test_unknown_jobs_and_timed_rows_are_left_alone(metrics: pd.DataFrame) -> None:
    jobs = load_export(DATA / "describe_training_job.json").jobs
    other = _tja("someone-else")
    assert anchor_relative_times(other, jobs) is other
    assert anchor_relative_times(metrics, jobs) is metrics  # already has clock times
    assert anchor_relative_times(other, None) is other
