"""Every sample export in tests/data parses with the right format, rows, jobs, metrics and epochs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from lib.errors import InputError
from lib.schema import METRIC_COLUMNS
from lib.sources import FORMATS, LoadedExport, load_export, read_export
from tests.support.paths import DATA

IC_JOBS = {
    "synthetic-ic-lr001-2024-05-01-10-00-00-000",
    "synthetic-ic-lr01-2024-05-02-09-30-00-000",
    "synthetic-ic-lr1-2024-05-03-14-15-00-000",
}
IC_JOB = "synthetic-ic-lr001-2024-05-01-10-00-00-000"
ACC = {"train:accuracy", "validation:accuracy"}

# file, format, rows, jobs, metrics, epoch filled for every row
SAMPLES = [
    ("training_job_analytics.csv", "training_job_analytics", 24, {"training_job_analytics"}, ACC, False),
    ("cloudwatch_get_metric_data.json", "cloudwatch_metric_data", 72, IC_JOBS, ACC, False),
    (
        "cloudwatch_get_metric_statistics_cpu.json",
        "cloudwatch_metric_statistics",
        24,
        {"cloudwatch_get_metric_statistics_cpu"},
        {"CPUUtilization"},
        False,
    ),
    ("logs_insights_export.csv", "logs_insights_csv", 24, {IC_JOB}, ACC, True),
    ("filter_log_events.json", "cloudwatch_log_events", 4, {IC_JOB}, ACC, True),
    (
        "training_log_image_classification.txt",
        "training_log",
        24,
        {"training_log_image_classification"},
        ACC,
        True,
    ),
    (
        "training_log_xgboost.txt",
        "training_log",
        50,
        {"training_log_xgboost"},
        {"train:rmse", "validation:rmse"},
        True,
    ),
    ("loggly_bulk_events.jsonl", "loggly_bulk", 75, IC_JOBS, ACC | {"CPUUtilization"}, False),
    ("loggly_events_api.json", "loggly_events", 6, {IC_JOB}, {"train:accuracy"}, False),
    ("loggly_flattened_UNVERIFIED.csv", "loggly_csv", 75, IC_JOBS, ACC | {"CPUUtilization"}, False),
    ("experiment_analytics.csv", "experiment_analytics", 6, IC_JOBS, ACC, False),
    ("tuning_job_analytics.csv", "tuning_job_analytics", 3, IC_JOBS, {"FinalObjectiveValue"}, False),
    ("describe_training_job.json", "describe_training_job", 2, {IC_JOB}, ACC, False),
]


@pytest.mark.parametrize(("file", "fmt", "rows", "jobs", "metric_names", "epochs"), SAMPLES)
def test_sample_parses_with_expected_shape(
    file: str, fmt: str, rows: int, jobs: set[str], metric_names: set[str], epochs: bool
) -> None:
    loaded = load_export(DATA / file)
    assert loaded.format == fmt
    assert loaded.format_label == FORMATS[fmt]
    assert loaded.name == file
    frame = loaded.metrics
    assert list(frame.columns[:5]) == list(METRIC_COLUMNS)
    assert len(frame) == rows
    assert set(frame["job"]) == jobs
    assert set(frame["metric"]) == metric_names
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert frame["value"].dtype == "float64"
    assert str(frame["epoch"].dtype) == "Int64"
    if epochs:
        assert frame["epoch"].notna().all()


def test_linear_learner_log_uses_sagemaker_metric_names() -> None:
    frame = read_export(DATA / "training_log_linear_learner.txt")
    assert set(frame["metric"]) == {
        "train:objective_loss",
        "validation:objective_loss",
        "validation:binary_classification_accuracy",
    }
    train = frame[frame["metric"] == "train:objective_loss"]
    assert train["epoch"].tolist() == [0, 1, 2]
    assert train["value"].tolist() == [0.6, 0.52, 0.44]
    final = frame[frame["metric"] == "validation:binary_classification_accuracy"].iloc[0]
    assert pd.isna(final["epoch"])  # the final line has no epoch
    assert final["timestamp"] == pd.Timestamp("2024-05-04 09:03:10", tz="UTC")
    assert set(frame["host"]) == {"algo-1"}


def test_image_classification_log_reads_time_prefix_and_epochs() -> None:
    frame = read_export(DATA / "training_log_image_classification.txt")
    first = frame[(frame["metric"] == "train:accuracy") & (frame["epoch"] == 0)].iloc[0]
    assert first["value"] == 0.291717
    assert first["timestamp"] == pd.Timestamp("2024-05-01 10:06:47", tz="UTC")
    assert sorted(frame.loc[frame["metric"] == "validation:accuracy", "epoch"]) == list(range(12))


def test_xgboost_log_has_no_times_but_epochs() -> None:
    frame = read_export(DATA / "training_log_xgboost.txt")
    row = frame[(frame["metric"] == "validation:rmse") & (frame["epoch"] == 12)].iloc[0]
    assert row["value"] == 2.47630
    assert frame["timestamp"].isna().all()


def test_training_job_analytics_keeps_relative_seconds() -> None:
    loaded = load_export(DATA / "training_job_analytics.csv", name="my-job.csv")
    frame = loaded.metrics
    assert set(frame["job"]) == {"my-job"}  # name= replaces the file name
    assert frame["timestamp"].isna().all()
    train = frame[frame["metric"] == "train:accuracy"]
    assert train["elapsed_s"].tolist()[:3] == [0.0, 120.0, 180.0]
    assert train["value"].iloc[0] == 0.291717
    assert any("no job name" in note for note in loaded.notes)


def test_metric_data_splits_label_and_sorts_ascending() -> None:
    frame = read_export(DATA / "cloudwatch_get_metric_data.json")
    series = frame[(frame["job"] == IC_JOB) & (frame["metric"] == "train:accuracy")]
    assert series["timestamp"].is_monotonic_increasing  # the CLI returns newest first
    assert series["value"].iloc[0] == 0.291717
    assert series["timestamp"].iloc[0] == pd.Timestamp("2024-05-01 10:06", tz="UTC")
    assert not frame["partial"].any()


def test_metric_statistics_sorts_unordered_datapoints() -> None:
    frame = read_export(DATA / "cloudwatch_get_metric_statistics_cpu.json")
    assert frame["timestamp"].is_monotonic_increasing
    assert (
        frame.loc[frame["timestamp"] == pd.Timestamp("2024-05-01 10:05", tz="UTC"), "value"].item() == 541.226
    )
    assert set(frame["stat"]) == {"Average"}


def test_logs_insights_takes_job_and_host_from_stream() -> None:
    frame = read_export(DATA / "logs_insights_export.csv")
    assert set(frame["host"]) == {"algo-1"}
    last = frame[(frame["metric"] == "validation:accuracy") & (frame["epoch"] == 11)].iloc[0]
    # the event's @timestamp wins over the time printed inside the message (10:24:12)
    assert last["timestamp"] == pd.Timestamp("2024-05-01 10:24:17", tz="UTC")
    assert last["value"] == 0.836564


def test_loggly_host_dimension_gives_job_and_host() -> None:
    frame = read_export(DATA / "loggly_bulk_events.jsonl")
    cpu = frame[frame["metric"] == "CPUUtilization"]
    assert set(cpu["host"]) == {"algo-1"}
    assert set(cpu["job"]) == IC_JOBS
    assert frame[frame["metric"] == "train:accuracy"]["host"].isna().all()


def test_tuning_csv_gives_jobs_table_and_final_objective_at_end_time() -> None:
    loaded = load_export(DATA / "tuning_job_analytics.csv")
    jobs = loaded.jobs.set_index("job")
    assert jobs.loc[IC_JOB, "hp.learning_rate"] == "0.001"
    assert jobs.loc[IC_JOB, "final.FinalObjectiveValue"] == 0.836564
    assert jobs.loc[IC_JOB, "training_seconds"] == 1294.0
    assert jobs.loc[IC_JOB, "status"] == "Completed"
    row = loaded.metrics[loaded.metrics["job"] == IC_JOB].iloc[0]
    assert row["timestamp"] == pd.Timestamp("2024-05-01 10:24:46", tz="UTC")


def test_experiments_csv_gives_hyperparameters_and_last_values() -> None:
    loaded = load_export(DATA / "experiment_analytics.csv")
    jobs = loaded.jobs.set_index("job")
    assert jobs.loc[IC_JOB, "hp.learning_rate"] == "0.001"
    assert jobs.loc[IC_JOB, "final.validation:accuracy"] == 0.836564
    assert loaded.metrics["timestamp"].isna().all()


def test_describe_training_job_gives_one_job_row() -> None:
    loaded = load_export(DATA / "describe_training_job.json")
    job = loaded.jobs.iloc[0]
    assert job["job"] == IC_JOB
    assert job["instance_type"] == "ml.p3.2xlarge"
    assert job["billable_seconds"] == 1294.0
    assert job["hp.image_shape"] == "3,224,224"
    assert job["final.train:accuracy"] == 0.875443
    assert job["start"] == pd.Timestamp("2024-05-01 10:03:12", tz="UTC")


def test_uploaded_describe_json_keeps_its_phases_like_a_live_load() -> None:
    """One mapping for uploads and live loads: SecondaryStatusTransitions become phase.*_s columns."""
    job = load_export(DATA / "describe_training_job.json").jobs.iloc[0]
    assert job["phase.Starting_s"] == 192.0  # 10:00:00 -> 10:03:12
    assert job["phase.Downloading_s"] == 120.0
    assert job["phase.Training_s"] == 1160.0  # 10:05:12 -> 10:24:32
    assert job["phase.Uploading_s"] == 14.0
    assert job["phase.Completed_s"] == 0.0
    assert job["secondary_status"] == "Completed"


def test_job_list_is_a_summary_with_no_metrics() -> None:
    loaded = load_export(DATA / "list_training_jobs.json")
    assert loaded.metrics.empty
    assert list(loaded.metrics.columns) == list(METRIC_COLUMNS)
    assert len(loaded.jobs) == 3
    assert set(loaded.jobs["status"]) == {"Completed"}


class FakeUpload(io.BytesIO):
    """What Streamlit's UploadedFile offers: ``.name``, ``.read()``, ``.getvalue()``."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def test_uploaded_file_bytes_and_path_give_the_same_frame() -> None:
    path = DATA / "training_log_xgboost.txt"
    from_path = load_export(path)
    from_upload = load_export(FakeUpload(path.read_bytes(), "training_log_xgboost.txt"))
    from_bytes = load_export(path.read_bytes(), "training_log_xgboost.txt")
    assert from_upload.name == from_bytes.name == from_path.name
    pd.testing.assert_frame_equal(from_path.metrics, from_upload.metrics)
    pd.testing.assert_frame_equal(from_path.metrics, from_bytes.metrics)


def test_bytes_without_name_are_called_upload() -> None:
    loaded = load_export((DATA / "training_job_analytics.csv").read_bytes())
    assert loaded.name == "upload"
    assert set(loaded.metrics["job"]) == {"upload"}


def test_result_is_a_frozen_dataclass() -> None:
    loaded = load_export(DATA / "training_log_xgboost.txt")
    assert isinstance(loaded, LoadedExport)
    assert isinstance(loaded.notes, tuple)
    with pytest.raises(AttributeError):
        loaded.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("label", "job", "metric", "stat"),
    [
        (
            "my-job-2024-05-01-10-00-00-000 train:accuracy",
            "my-job-2024-05-01-10-00-00-000",
            "train:accuracy",
            None,
        ),
        ("myjob train:accuracy Average", "myjob", "train:accuracy", "Average"),
        ("my-job loss p99.9", "my-job", "loss", "p99.9"),
        ("train:accuracy Average", "stem", "train:accuracy", "Average"),
        ("Avg Total IOPS", "stem", "Avg Total IOPS", None),  # metric-math label, no job in it
        ("CPU Utilization", "stem", "CPU Utilization", None),
        ("Total precision", "stem", "Total precision", None),  # 'precision' is not a statistic
        ("disk TM(10%:90%)", "stem", "disk", "TM(10%:90%)"),
    ],
)
def test_metric_data_label_names_a_job_only_in_the_known_pattern(
    label: str, job: str, metric: str, stat: str | None
) -> None:
    from lib.sources.cloudwatch_json import split_label

    assert split_label(label, "stem")[:3] == (job, metric, stat)


def test_metric_math_label_is_the_metric_and_the_file_names_the_job() -> None:
    result = {
        "Id": "m3",
        "Label": "Avg Total IOPS",
        "Timestamps": ["2024-09-29T22:10:00Z"],
        "Values": [96.85],
    }
    doc = json.dumps({"MetricDataResults": [result]}).encode()
    loaded = load_export(doc, "iops.json")
    assert loaded.metrics[["job", "metric"]].drop_duplicates().values.tolist() == [["iops", "Avg Total IOPS"]]


# ---------------------------------------------------------------- Model Monitor files on the metrics page

MM = DATA / "model_monitor"
REAL_MM = DATA / "real" / "model_monitor"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (REAL_MM / "statistics_data_quality.json", "statistics"),
        (MM / "constraints.json", "constraints"),
        (REAL_MM / "constraint_violations_taxi.json", "constraint violations"),
        (MM / "data_capture_sample.jsonl", "data capture"),
        (DATA / "real" / "capture" / "churn_csv_truncated.jsonl", "data capture"),
    ],
)
def test_model_monitor_file_is_sent_to_its_page(path: Path, kind: str) -> None:
    with pytest.raises(InputError) as info:
        load_export(path)
    assert (
        info.value.message
        == f"{path.name}: this is a Model Monitor {kind} file: open it on the Model Monitor page."
    )


def test_single_capture_record_and_model_quality_statistics_are_named() -> None:
    line = (MM / "data_capture_sample.jsonl").read_bytes().splitlines()[0]
    with pytest.raises(InputError, match="Model Monitor data capture file"):
        load_export(line, "one.jsonl")
    with pytest.raises(InputError, match="Model Monitor model quality statistics file"):
        load_export(REAL_MM / "statistics_model_quality.json")


def test_dataset_csv_with_event_time_is_not_a_wide_metrics_file() -> None:
    text = (
        b"event_time,age,plan,churn_score\n"
        b"2024-05-01T10:00:00Z,34,pro,0.2\n2024-05-01T10:01:00Z,51,basic,0.7\n"
    )
    with pytest.raises(InputError, match=r"dataset \(one row per inference, time in 'event_time'\)"):
        load_export(text, "capture_dataset.csv")


def test_wide_metrics_with_a_time_column_are_still_metrics() -> None:
    for header in ("timestamp,train:loss", "event_time,train:loss", "event_time,epoch,loss"):
        text = f"{header}\n2024-05-01T10:00:00Z,{'1,' if 'epoch' in header else ''}0.5\n".encode()
        assert load_export(text, "wide.csv").format == "wide_csv", header
