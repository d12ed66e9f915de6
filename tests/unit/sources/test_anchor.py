"""lib.sources.anchor_relative_times: TrainingJobAnalytics runs placed at their jobs' start times."""

from __future__ import annotations

import pandas as pd

from lib.sources import anchor_choices, anchor_relative_times, load_export
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


def test_a_file_not_named_after_its_job_is_offered_the_jobs_without_metrics() -> None:
    jobs = load_export(DATA / "describe_training_job.json").jobs
    metrics = _tja("tja-export")
    choices = anchor_choices(metrics, jobs)
    assert choices.unplaced == ["tja-export"]
    assert choices.candidates == [JOB]
    assert choices.suggested == {"tja-export": JOB}  # one run, one job: the only pairing there is
    assert anchor_relative_times(metrics, jobs) is metrics  # no link given: left alone
    out = anchor_relative_times(metrics, jobs, {"tja-export": JOB})
    assert set(out["job"]) == {JOB}
    assert out["timestamp"].min() == pd.Timestamp("2024-05-01 10:03:12", tz="UTC")
    assert out.attrs["linked_runs"] == {"tja-export": JOB}
    assert set(metrics["job"]) == {"tja-export"}  # the input is not mutated


def test_a_file_name_containing_one_job_name_is_suggested_among_many() -> None:
    jobs = load_export(DATA / "describe_training_job.json").jobs
    other = jobs.assign(job="another-job-2024-05-02-00-00-00-000")
    both = pd.concat([jobs, other], ignore_index=True)
    choices = anchor_choices(_tja(f"metrics_{JOB}_export"), both)
    assert choices.candidates == sorted([JOB, "another-job-2024-05-02-00-00-00-000"])
    assert choices.suggested == {f"metrics_{JOB}_export": JOB}
    # two candidates and a name that names neither: no guess, the user picks
    assert anchor_choices(_tja("tja-export"), both).suggested == {}


def test_runs_with_clock_times_or_named_after_their_job_are_not_unplaced(metrics: pd.DataFrame) -> None:
    jobs = load_export(DATA / "describe_training_job.json").jobs
    assert anchor_choices(metrics, jobs).unplaced == []  # every row has a clock time
    named = _tja()  # the file is named after the job: anchored without asking
    assert anchor_choices(named, jobs) == anchor_choices(named.iloc[0:0], jobs)
    assert anchor_choices(named, jobs).unplaced == []
    assert anchor_choices(_tja("x"), None).candidates == []


def test_a_link_to_an_unknown_job_is_ignored() -> None:
    jobs = load_export(DATA / "describe_training_job.json").jobs
    metrics = _tja("tja-export")
    assert anchor_relative_times(metrics, jobs, {"tja-export": "no-such-job"}) is metrics
