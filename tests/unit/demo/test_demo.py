"""lib.demo: the synthetic fortnight is deterministic, canonical, and shows what it claims to show."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from lib import demo
from lib.analysis import runs, timing
from lib.schema import JOB_COLUMNS, validate_jobs, validate_metrics


@pytest.fixture(scope="module")
def metrics() -> pd.DataFrame:
    return demo.demo_metrics()


@pytest.fixture(scope="module")
def jobs() -> pd.DataFrame:
    return demo.demo_jobs()


@pytest.fixture(scope="module")
def table(metrics: pd.DataFrame, jobs: pd.DataFrame) -> pd.DataFrame:
    return runs.runs_table(metrics, jobs)


def test_demo_is_deterministic(metrics: pd.DataFrame, jobs: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(demo.demo_metrics(), metrics)
    pd.testing.assert_frame_equal(demo.demo_jobs(), jobs)


def test_demo_frames_are_canonical(metrics: pd.DataFrame, jobs: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(validate_metrics(metrics), metrics)
    pd.testing.assert_frame_equal(validate_jobs(jobs), jobs)
    assert list(jobs.columns[: len(JOB_COLUMNS)]) == list(JOB_COLUMNS)


def test_demo_shape_twelve_runs_fixed_fortnight(metrics: pd.DataFrame, jobs: pd.DataFrame) -> None:
    assert metrics["job"].nunique() == 12
    assert set(jobs["job"]) == set(metrics["job"])
    assert set(metrics["metric"]) == {"train:accuracy", "validation:accuracy", "train:cross_entropy"}
    assert metrics["timestamp"].min() >= pd.Timestamp("2026-11-02", tz="UTC")
    assert metrics["timestamp"].max() < pd.Timestamp("2026-11-16", tz="UTC")
    epochs = metrics.groupby(["job", "metric"])["epoch"].max() + 1
    assert epochs.between(20, 40).all()
    for name in jobs["job"]:
        assert re.fullmatch(r"ic-resnet50-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}", name)


def test_demo_runs_climb_and_validation_sits_below_train(table: pd.DataFrame) -> None:
    assert table["first"].between(0.2, 0.55).all()
    typical = table.loc[table["last"] > 0.8]
    assert len(typical) == 11
    assert (typical["val_minus_train"] < 0.02).all()
    assert typical["val_minus_train"].median() < 0


def test_demo_loss_falls(metrics: pd.DataFrame) -> None:
    loss = metrics.loc[metrics["metric"] == "train:cross_entropy"]
    first = loss.groupby("job")["value"].first()
    last = loss.groupby("job")["value"].last()
    assert (last < first / 3).all()


def test_demo_dip_run_is_flagged(table: pd.DataFrame) -> None:
    dip = table.loc[table["last"].idxmin()]
    assert 0.6 <= dip["last"] <= 0.7
    flags = runs.flag_runs(table)
    value_flags = flags.loc[flags["flag"].str.contains("final value")]
    assert list(value_flags["job"]) == [dip["job"]]
    assert value_flags.iloc[0]["severity"] == "alert"


def test_demo_spacing_change_late_in_the_fortnight(table: pd.DataFrame) -> None:
    flags = runs.flag_runs(table)
    spacing = flags.loc[flags["flag"] == "runs further apart"]
    assert len(spacing) == 1
    assert list(table["job"]).index(spacing.iloc[0]["job"]) >= 8


def test_demo_slow_run_is_named_by_the_seconds_per_epoch_outlier_rule(
    metrics: pd.DataFrame, jobs: pd.DataFrame
) -> None:
    out = timing.timing_outliers(timing.run_timings(jobs, metrics), "seconds_per_epoch")
    slow = jobs.loc[jobs["instance_type"] == "ml.g5.xlarge", "job"].iloc[0]
    assert list(out["job"]) == [slow]  # the only one: no other run is called slow or fast
    row = out.iloc[0]
    assert row["ratio"] == pytest.approx(2.5, abs=0.1)  # 1,460 s against a median of 586 s
    assert row["explanation"].startswith(
        f"Run {slow} took 2.5× the median seconds per epoch of the other 11 runs"
    )


def test_demo_spacing_change_is_not_chance(table: pd.DataFrame) -> None:
    change = runs.spacing_change(table["gap_s"].to_numpy()[1:])
    assert change is not None
    assert change.split == 8  # the last three gaps, about two days each
    assert change.p_value < 0.025  # at least twice as clear as the 5 % flag level


def test_demo_slow_run_is_longest_with_three_times_longer_epochs(
    metrics: pd.DataFrame, table: pd.DataFrame, jobs: pd.DataFrame
) -> None:
    slow = table.loc[table["duration_s"].idxmax(), "job"]
    rows = metrics.loc[metrics["metric"] == "validation:accuracy"]
    epoch_s = rows.groupby("job")["timestamp"].apply(lambda t: t.diff().dt.total_seconds().median())
    others = epoch_s.drop(slow)
    assert epoch_s[slow] / others.median() == pytest.approx(3.0, rel=0.25)
    assert epoch_s[slow] > others.max() * 1.8
    assert jobs.set_index("job").loc[slow, "instance_type"] == "ml.g5.xlarge"


def test_demo_jobs_metadata(jobs: pd.DataFrame, metrics: pd.DataFrame) -> None:
    assert (jobs["status"] == "Completed").all()
    assert (jobs["start"] > jobs["created"]).all()
    assert (jobs["end"] > jobs["start"]).all()
    assert (
        jobs["training_seconds"].tolist() == (jobs["end"] - jobs["start"]).dt.total_seconds().round().tolist()
    )
    cheaper = jobs.loc[jobs["billable_seconds"] < jobs["training_seconds"]]
    assert len(cheaper) == 1
    assert bool(cheaper["spot"].iloc[0]) is True
    assert jobs["spot"].sum() == 1
    assert (jobs["instance_count"] == 2).sum() == 1
    assert (jobs["instance_type"] == "ml.p3.2xlarge").sum() == 11
    for col in ("hp.epochs", "hp.learning_rate", "hp.mini_batch_size", "hp.num_classes"):
        assert jobs[col].map(type).eq(str).all(), col
    per_job = metrics.groupby("job")["epoch"].max().add(1).astype(str)
    assert (jobs.set_index("job")["hp.epochs"] == per_job.reindex(jobs["job"]).to_numpy()).all()
    last = metrics.groupby(["job", "metric"])["value"].last().unstack()
    for metric in ("train:accuracy", "validation:accuracy", "train:cross_entropy"):
        got = jobs.set_index("job")[f"final.{metric}"]
        pd.testing.assert_series_equal(got, last[metric].reindex(got.index), check_names=False)
    # Metric timestamps fall inside each job's training window.
    window = jobs.set_index("job")[["start", "end"]]
    stamps = metrics.join(window, on="job")
    assert ((stamps["timestamp"] > stamps["start"]) & (stamps["timestamp"] < stamps["end"])).all()


def test_demo_description_says_synthetic() -> None:
    assert "Synthetic" in demo.DEMO_DESCRIPTION
    assert "\n" not in demo.DEMO_DESCRIPTION
