"""lib.demo: the synthetic fortnight is deterministic, canonical, and shows what it claims to show; all
demos tell one story (the churn model behind churn-endpoint)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from lib import demo
from lib.analysis import runs, timing
from lib.demo import drift as demo_drift
from lib.demo import latency as demo_latency
from lib.demo import monitor as demo_monitor
from lib.demo import story
from lib.schema import JOB_COLUMNS, validate_jobs, validate_metrics
from lib.sources.monitor_files import read_constraints, read_statistics


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
    assert metrics["timestamp"].min() >= pd.Timestamp("2024-03-04", tz="UTC")
    assert metrics["timestamp"].max() < pd.Timestamp("2024-03-18", tz="UTC")
    epochs = metrics.groupby(["job", "metric"])["epoch"].max() + 1
    assert epochs.between(20, 40).all()
    for name in jobs["job"]:
        assert re.fullmatch(r"churn-classifier-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}", name)


def test_demo_runs_climb_and_validation_sits_below_train(table: pd.DataFrame) -> None:
    # A yes/no label: every run starts above chance (0.5) and climbs well above where it started.
    assert table["first"].between(0.6, 0.8).all()
    typical = table.loc[table["last"] > 0.9]
    assert len(typical) == 11
    assert (typical["last"] - typical["first"] > 0.15).all()
    assert (typical["val_minus_train"] < 0.01).all()
    assert typical["val_minus_train"].median() < 0


def test_demo_loss_falls(metrics: pd.DataFrame) -> None:
    loss = metrics.loc[metrics["metric"] == "train:cross_entropy"]
    first = loss.groupby("job")["value"].first()
    last = loss.groupby("job")["value"].last()
    assert (last < first / 3).all()


def test_demo_dip_run_is_flagged(table: pd.DataFrame) -> None:
    dip = table.loc[table["last"].idxmin()]
    assert 0.8 <= dip["last"] <= 0.85
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


# ------------------------------------------------------------------ one story across the demos (issue 12)


def test_demo_description_matches_the_data(table: pd.DataFrame, jobs: pd.DataFrame) -> None:
    text = demo.DEMO_DESCRIPTION
    first_day, last_day = jobs["start"].min(), jobs["end"].max()
    assert (first_day.month, last_day.month, first_day.year) == (3, 3, 2024)
    assert f"between {first_day.day} and {last_day.day} March 2024" in text
    assert "twelve" in text
    assert len(jobs) == 12
    assert "20-40 epochs" in text
    assert jobs["hp.epochs"].astype(int).between(20, 40).all()
    assert "from about 0.7 to about 0.95" in text
    assert table["first"].median() == pytest.approx(0.7, abs=0.03)
    assert table.loc[table["last"] > 0.9, "last"].median() == pytest.approx(0.95, abs=0.02)
    dip = table.loc[table["last"].idxmin()]
    assert "final validation accuracy about 0.82" in text
    assert dip["last"] == pytest.approx(0.82, abs=0.01)
    assert jobs.set_index("job").loc[dip["job"], "hp.learning_rate"] == "0.1"
    assert "learning rate 0.1" in text
    assert "(on ml.g5.xlarge)" in text
    assert (jobs["hp.num_classes"] == "2").all()  # churned yes/no


def test_demos_tell_one_story(jobs: pd.DataFrame) -> None:
    endpoint = story.DEMO_ENDPOINT
    assert endpoint == "churn-endpoint"
    # The endpoint is named the same in every demo's data and text.
    latency = demo_latency.demo_latency()
    assert set(latency["endpoint"]) == {endpoint}
    assert set(latency["variant"]) == {story.DEMO_VARIANT}
    for text in (demo.DEMO_DESCRIPTION, demo.DEMO_STORY, demo_drift.__doc__, demo_monitor.__doc__,
                 (demo_monitor.DEMO_DIR / "README.md").read_text()):  # fmt: skip
        assert endpoint in (text or "")
    # Trained in March, deployed, then its April traffic is the reference and 1-14 May the current data.
    reference, current = demo_drift.demo_reference(), demo_drift.demo_current()
    assert jobs["end"].max() < reference["event_time"].min()
    assert reference["event_time"].min() >= pd.Timestamp("2024-04-01", tz="UTC")
    assert reference["event_time"].max() < pd.Timestamp("2024-04-29", tz="UTC")
    assert current["event_time"].min() >= pd.Timestamp("2024-05-01", tz="UTC")
    assert current["event_time"].max() < pd.Timestamp("2024-05-15", tz="UTC")
    # Latency (6-8 May, with its step) and the Model Monitor capture fall inside the current weeks.
    lo, hi = current["event_time"].min(), current["event_time"].max()
    assert lo <= latency["timestamp"].min()
    assert latency["timestamp"].max() <= hi
    assert lo <= demo_latency.DEMO_LATENCY_CHANGE <= hi
    art = demo_monitor.demo_artifacts()
    assert art.capture is not None
    assert art.baseline is not None
    times = art.capture.frame["inference_time"]
    assert (times >= lo).all()
    assert (times <= hi).all()
    # The same features in the drift demo and in Model Monitor's baseline and capture.
    inputs = [c for c in reference.columns if c not in ("customer_id", *demo_drift.DEMO_ROLES.values())]
    assert inputs == list(demo_drift.DEMO_FEATURES)
    assert art.baseline.feature_names == inputs
    assert list(art.capture.frame.columns[2 : 2 + len(inputs)]) == inputs
    # The story sentence names the data's dates.
    assert "(4-13 March 2024)" in demo.DEMO_STORY
    assert "1-14 May 2024" in demo.DEMO_STORY
    assert "latency 6-8 May" in demo.DEMO_STORY
    assert "capture on 6 May" in demo.DEMO_STORY
    assert set(times.dt.strftime("%Y-%m-%d")) == {"2024-05-06"}
    assert set(latency["timestamp"].dt.strftime("%d")) == {"06", "07", "08"}


def test_monitor_demo_files_are_generated_from_the_drift_demo() -> None:
    files = demo_monitor.demo_monitor_files()
    assert set(files) == {*demo_monitor.DEMO_CAPTURE_FILES, "statistics.json", "constraints.json"}
    for name, data in files.items():  # shipped == generated (run write_demo_files after a change)
        assert (demo_monitor.DEMO_DIR / name).read_bytes() == data, name
    assert demo_monitor.demo_monitor_files() == files  # deterministic


def test_monitor_baseline_describes_the_drift_reference() -> None:
    reference = demo_drift.demo_reference()
    baseline = read_statistics(demo_monitor.DEMO_DIR / "statistics.json")
    constraints = read_constraints(demo_monitor.DEMO_DIR / "constraints.json")
    assert baseline.item_count == len(reference)
    for name in ("age", "income", "tenure_months", "sessions_per_week", "basket_value"):
        f = baseline.feature(name)
        col = reference[name]
        assert f.mean == pytest.approx(col.mean()), name
        assert f.num_present == col.notna().sum(), name
        assert sum(c for _, _, c in f.numeric_buckets) == col.notna().sum(), name
    assert baseline.feature("is_mobile").mean == pytest.approx(reference["is_mobile"].mean())
    plan = dict(baseline.feature("plan").categorical_buckets)
    assert plan == reference["plan"].value_counts().to_dict()
    assert "trial" not in plan  # the category May brings is unseen in the baseline
    by_name = {f.name: f for f in constraints.features}
    assert by_name["income"].completeness == pytest.approx(reference["income"].notna().mean())
    assert by_name["plan"].domains == ("basic", "enterprise", "pro")


def test_monitor_capture_rows_are_drift_current_rows() -> None:
    art = demo_monitor.demo_artifacts()
    assert art.capture is not None
    frame = art.capture.frame
    current = demo_drift.demo_current().set_index("event_time")
    inputs = frame.dropna(subset=["age"])
    assert len(inputs) == 15  # 16 rows, one of them an output-only record
    matched = 0
    for row in inputs.itertuples(index=False):
        candidates = current.loc[current.index == row.inference_time]
        same = candidates.loc[(candidates["age"] == row.age) & (candidates["plan"] == row.plan)]
        if len(same):
            matched += 1
            src = same.iloc[0]
            assert row.basket_value == pytest.approx(src["basket_value"])
            assert row.is_mobile == int(src["is_mobile"])
            if not pd.isna(row.prediction):
                assert row.prediction == pytest.approx(src["churn_score"])
    # A batch record carries one time for all its rows: its first row matches by time.
    assert matched >= 12
    assert "trial" in set(frame["plan"].dropna())  # May's new plan reaches the capture
