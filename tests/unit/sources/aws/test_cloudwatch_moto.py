"""lib.cloudwatch against a real HTTP endpoint: moto's server on 127.0.0.1 with seeded jobs.

Seeded values are hand-computable (see ``seed_training_jobs``): one value per 60-s bucket, so the
CloudWatch Average equals the seeded value.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections import Counter

import boto3
import pandas as pd
import pytest

from lib.errors import DataSourceError, InputError
from lib.schema import validate_jobs, validate_metrics
from lib.sources.aws import load as live
from lib.sources.aws import metrics as aws_metrics
from lib.sources.aws import session as aws
from lib.sources.aws import training_jobs
from tests.support import aws_server
from tests.support.aws_server import FAKE_KEY_ID, FAKE_SECRET, FAKE_TOKEN, seed_training_jobs

# fixtures from the shared moto helper (a session-scoped server; a fresh, isolated env per test)
moto_endpoint = aws_server.moto_endpoint
aws_env = aws_server.aws_env


def counted_session() -> tuple[boto3.Session, Counter[str]]:
    """A session whose clients count their API calls (botocore ``before-call``)."""
    session = boto3.Session(region_name="us-east-1")
    calls: Counter[str] = Counter()
    session.events.register("before-call", lambda model, **_: calls.update([model.name]))
    return session, calls


def test_sixty_jobs_two_metrics_take_one_search_and_one_get_metric_data(aws_env: str) -> None:
    seeded = seed_training_jobs(
        aws_env, n_jobs=60, epochs=3, spacing=dt.timedelta(seconds=30), logs=False, instance_metrics=False
    )
    session, calls = counted_session()
    jobs, metrics = live.load_training_jobs(session)
    assert calls == {"Search": 1, "GetMetricData": 1}
    assert len(jobs) == 60
    assert len(metrics) == 60 * 2 * 3
    assert metrics.attrs["warnings"] == []
    # spot-check a job's curve against the seeded values and times
    job = seeded[17]
    got = metrics.loc[(metrics["job"] == job.name) & (metrics["metric"] == "validation:accuracy")]
    assert got["value"].tolist() == pytest.approx(job.values["validation:accuracy"])
    # buckets start on the minute of each epoch's datapoint
    expected_times = [pd.Timestamp(t).floor("min") for t in job.epoch_times]
    assert got["timestamp"].tolist() == expected_times


def test_jobs_table_has_times_durations_phases_hyperparameters_and_final_values(aws_env: str) -> None:
    seeded = seed_training_jobs(aws_env, n_jobs=2, epochs=4, instance_counts=(1, 2), logs=False)
    jobs = training_jobs.find_training_jobs(boto3.Session(region_name="us-east-1"))
    pd.testing.assert_frame_equal(jobs, validate_jobs(jobs))
    row = jobs.set_index("job").loc[seeded[1].name]
    job = seeded[1]
    assert row["status"] == "Completed"
    assert row["created"] == pd.Timestamp(job.created)
    assert row["start"] == pd.Timestamp(job.start)
    assert row["end"] == pd.Timestamp(job.end)
    assert row["training_seconds"] == (job.end - job.start).total_seconds() == 300
    assert row["billable_seconds"] == 150  # spot job: half, as seeded
    assert bool(row["spot"]) is True
    assert row["instance_type"] == "ml.p3.2xlarge"
    assert row["instance_count"] == 2
    assert row["phase.Training_s"] == job.phases["Training"] == 260
    assert row["phase.Starting_s"] == 120
    assert row["hp.learning_rate"] == "0.002"
    assert row["final.validation:accuracy"] == pytest.approx(0.45 + 0.04 * 3 + 0.001)
    assert jobs["created"].dt.tz is not None


def test_find_returns_newest_first_and_honours_filters_and_max_jobs(aws_env: str) -> None:
    seeded = seed_training_jobs(
        aws_env, n_jobs=6, epochs=2, statuses=("Completed", "Failed"), logs=False, instance_metrics=False
    )
    session = boto3.Session(region_name="us-east-1")
    everything = training_jobs.find_training_jobs(session)
    assert everything["job"].tolist() == [j.name for j in reversed(seeded)]
    assert training_jobs.find_training_jobs(session, status="Failed")["job"].tolist() == [
        seeded[5].name,
        seeded[3].name,
        seeded[1].name,
    ]
    assert training_jobs.find_training_jobs(session, name_contains="RUN-004")["job"].tolist() == [
        seeded[4].name
    ]
    window = training_jobs.find_training_jobs(
        session, created_after=seeded[2].created, created_before=seeded[4].created
    )
    assert window["job"].tolist() == [seeded[3].name, seeded[2].name]
    session2, calls = counted_session()
    assert len(training_jobs.find_training_jobs(session2, max_jobs=4)) == 4
    assert calls == {"Search": 1}


def test_load_exactly_the_chosen_jobs_and_report_missing_ones(aws_env: str) -> None:
    seeded = seed_training_jobs(aws_env, n_jobs=5, epochs=2, logs=False, instance_metrics=False)
    chosen = [seeded[3].name, "no-such-job", seeded[0].name]
    session, calls = counted_session()
    jobs, metrics = live.load_training_jobs(session, job_names=chosen, metric_names=["train:accuracy"])
    assert jobs["job"].tolist() == [seeded[3].name, seeded[0].name]
    assert sorted(metrics["job"].unique()) == sorted([seeded[3].name, seeded[0].name])
    assert set(metrics["metric"]) == {"train:accuracy"}
    assert calls == {"Search": 1, "GetMetricData": 1}
    (warning,) = metrics.attrs["warnings"]
    assert warning.stage == "jobs"
    assert warning.jobs == ("no-such-job",)
    assert jobs.attrs["warnings"] == metrics.attrs["warnings"]


def test_metric_frame_is_canonical_with_source_partial_and_host(aws_env: str) -> None:
    seed_training_jobs(aws_env, n_jobs=2, epochs=3, logs=False, instance_metrics=False)
    _, metrics = live.load_training_jobs(boto3.Session(region_name="us-east-1"))
    pd.testing.assert_frame_equal(metrics, validate_metrics(metrics))
    assert str(metrics["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert metrics["partial"].dtype == bool
    assert not metrics["partial"].any()
    assert set(metrics["source"]) == {"cloudwatch"}
    assert metrics["host"].isna().all()


def test_jobs_without_metric_definitions_use_list_metrics(aws_env: str) -> None:
    seeded = seed_training_jobs(
        aws_env, n_jobs=2, epochs=2, metrics=("loss",), definitions=None, logs=False, instance_metrics=False
    )
    session, calls = counted_session()
    _, metrics = live.load_training_jobs(session)
    assert calls == {"Search": 1, "ListMetrics": 2, "GetMetricData": 1}
    assert set(metrics["metric"]) == {"loss"}
    assert metrics.loc[metrics["job"] == seeded[0].name, "value"].tolist() == pytest.approx([0.0, 0.01])


def test_progress_is_called_with_increasing_fractions_ending_at_one(aws_env: str) -> None:
    seed_training_jobs(aws_env, n_jobs=2, epochs=2, instance_metrics=False)
    seen: list[tuple[float, str]] = []
    live.load_training_jobs(
        boto3.Session(region_name="us-east-1"),
        include_logs=True,
        progress=lambda f, t: seen.append((f, t)),
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0
    assert fractions[-1] == 1.0
    assert all(isinstance(t, str) and t for _, t in seen)


def test_no_matching_jobs_gives_empty_frames_and_no_metric_calls(aws_env: str) -> None:
    seed_training_jobs(aws_env, n_jobs=2, epochs=2, logs=False, instance_metrics=False)
    session, calls = counted_session()
    jobs, metrics = live.load_training_jobs(session, name_contains="nothing-like-this")
    assert jobs.empty
    assert metrics.empty
    assert list(metrics.columns[:5]) == ["job", "metric", "timestamp", "value", "epoch"]
    assert calls == {"Search": 1}


def test_logs_are_parsed_per_epoch_with_the_jobs_metric_definitions(aws_env: str) -> None:
    seeded = seed_training_jobs(aws_env, n_jobs=2, epochs=4, instance_counts=(2, 1), instance_metrics=False)
    session, calls = counted_session()
    _, metrics = live.load_training_jobs(session, include_logs=True)
    assert calls == {"Search": 1, "GetMetricData": 1, "DescribeLogStreams": 2, "FilterLogEvents": 1}
    logs = metrics.loc[metrics["source"] == "logs"]
    job = seeded[0]  # two instances → two hosts, each logging every epoch
    mine = logs.loc[(logs["job"] == job.name) & (logs["metric"] == "validation:accuracy")]
    assert sorted(mine["host"].unique()) == ["algo-1", "algo-2"]
    one_host = mine.loc[mine["host"] == "algo-1"]
    assert one_host["epoch"].tolist() == [0, 1, 2, 3]
    assert one_host["value"].tolist() == pytest.approx(job.values["validation:accuracy"])
    assert len(logs.loc[logs["job"] == seeded[1].name]) == 2 * 4  # one host, two metrics
    # the CloudWatch series is still there, labelled
    assert len(metrics.loc[metrics["source"] == "cloudwatch"]) == 2 * 2 * 4


def test_instance_metrics_per_host_and_combined(aws_env: str) -> None:
    seeded = seed_training_jobs(aws_env, n_jobs=2, epochs=3, instance_counts=(2, 1), logs=False)
    session, calls = counted_session()
    inst = aws_metrics.load_instance_metrics(
        session, [seeded[0].name, seeded[1].name], metric_names=["CPUUtilization", "MemoryUtilization"]
    )
    assert calls == {"Search": 1, "GetMetricData": 1}
    cpu = inst.loc[(inst["job"] == seeded[0].name) & (inst["metric"] == "CPUUtilization")]
    assert sorted(cpu["host"].unique()) == ["algo-1", "algo-2"]
    assert cpu.loc[cpu["host"] == "algo-2", "value"].tolist() == [200.0, 201.0, 202.0]
    combined = aws_metrics.combine_hosts(inst)
    both = combined.loc[(combined["job"] == seeded[0].name) & (combined["metric"] == "CPUUtilization")]
    assert both["value"].tolist() == [150.0, 151.0, 152.0]  # mean of 100+e and 200+e
    assert set(both["host"]) == {"all"}


def test_instance_metrics_from_a_jobs_frame_need_no_sagemaker_call(aws_env: str) -> None:
    seed_training_jobs(aws_env, n_jobs=2, epochs=2, instance_counts=(1,), logs=False)
    jobs = training_jobs.find_training_jobs(boto3.Session(region_name="us-east-1"))
    session, calls = counted_session()
    inst = aws_metrics.load_instance_metrics(session, jobs, metric_names=["MemoryUtilization"])
    assert calls == {"GetMetricData": 1}
    assert inst["value"].tolist() == [41.0] * 4


# ---------------------------------------------------------------- connect: profiles, session, identity


def test_whoami_reports_account_and_arn(aws_env: str) -> None:
    identity = aws.whoami(boto3.Session(region_name="us-east-1"))
    assert identity.account == "123456789012"
    assert identity.arn.startswith("arn:aws:sts::123456789012:")


def test_list_profiles_reads_the_users_config_default_first(
    aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # it would override the profile's region
    with open(os.environ["AWS_CONFIG_FILE"], "w") as fh:  # a temp file (aws_env), not ~/.aws
        fh.write("[profile zeta]\nregion = eu-west-1\n[default]\nregion = us-east-1\n[profile alpha]\n")
    assert aws.list_profiles() == ["default", "alpha", "zeta"]
    session = aws.make_session("zeta", None)
    assert session.region_name == "eu-west-1"
    assert aws.make_session("zeta", "ap-southeast-2").region_name == "ap-southeast-2"


def test_unknown_profile_lists_the_available_ones(aws_env: str) -> None:
    with pytest.raises(DataSourceError, match="'nope' was not found") as info:
        aws.make_session("nope", "us-east-1")
    assert "No profiles configured" in (info.value.hint or "")


def test_unknown_region_is_rejected_before_any_call(aws_env: str) -> None:
    with pytest.raises(DataSourceError, match="Unknown AWS region 'us-nowhere-7'"):
        aws.make_session(None, "us-nowhere-7")


def test_missing_region_is_explained(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(DataSourceError, match="No AWS region"):
        aws.make_session(None, None)


def test_no_credentials_is_explained(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var)
    session = aws.make_session(None, "us-east-1")
    with pytest.raises(DataSourceError, match="No AWS credentials") as info:
        aws.whoami(session)
    assert "aws configure" in (info.value.hint or "")
    with pytest.raises(DataSourceError, match="No AWS credentials"):
        training_jobs.find_training_jobs(session)


def test_unreachable_endpoint_is_explained(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setattr(aws, "RETRY_CONFIG", aws.Config(retries={"max_attempts": 1}, connect_timeout=2))
    with pytest.raises(DataSourceError, match="Could not reach") as info:
        training_jobs.find_training_jobs(boto3.Session(region_name="us-east-1"), endpoint_url=dead)
    assert "us-east-1" in (info.value.hint or "")


def test_invalid_filters_are_input_errors(aws_env: str) -> None:
    session = boto3.Session(region_name="us-east-1")
    with pytest.raises(InputError, match="Unknown job status"):
        training_jobs.find_training_jobs(session, status="Done")
    with pytest.raises(InputError, match="range is empty"):
        training_jobs.find_training_jobs(session, created_after="2024-05-02", created_before="2024-05-01")
    with pytest.raises(InputError, match="max_jobs"):
        training_jobs.find_training_jobs(session, max_jobs=0)
    with pytest.raises(InputError, match="created_after"):
        training_jobs.find_training_jobs(session, created_after="not a date")


def test_credentials_never_appear_in_results_errors_or_reprs(
    aws_env: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = (FAKE_KEY_ID, FAKE_SECRET, FAKE_TOKEN)
    caplog.set_level(logging.DEBUG, logger="lib")  # our own logging (botocore's DEBUG log is not ours)
    seed_training_jobs(aws_env, n_jobs=1, epochs=2, instance_metrics=False)
    session = aws.make_session(None, "us-east-1")
    texts = [repr(session), repr(aws.whoami(session))]
    jobs, metrics = live.load_training_jobs(session, include_logs=True)
    texts += [jobs.to_csv(), metrics.to_csv(), repr(jobs.attrs), repr(metrics.attrs)]
    monkeypatch.setattr(aws, "RETRY_CONFIG", aws.Config(retries={"max_attempts": 1}, connect_timeout=2))
    with pytest.raises(DataSourceError) as info:
        training_jobs.find_training_jobs(session, endpoint_url="http://127.0.0.1:9")
    texts += [str(info.value), repr(info.value), info.value.hint or ""]
    texts += [rec.getMessage() for rec in caplog.records]
    assert not [s for s in secrets for t in texts if s in t]
