"""What moto cannot do like AWS, pinned with botocore's Stubber (request shapes are validated).

GetMetricData pagination and PartialData, per-series status codes, >500 queries, retention bands,
throttling, AccessDenied (with the permission named), ExpiredToken, and the Search → List+Describe
fallback. No network: the stubbed clients point at a closed loopback port and never send.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lib.errors import DataSourceError
from lib.sources.aws import load as live
from lib.sources.aws import metrics as aws_metrics
from lib.sources.aws import session as aws
from lib.sources.aws import training_jobs

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
UTC = dt.UTC


def _session() -> boto3.Session:
    return boto3.Session(
        region_name="us-east-1", aws_access_key_id="AKIASTUBSTUBSTUB0001", aws_secret_access_key="x" * 40
    )


CLIENT_SESSION = _session()  # one session: botocore caches the service models between tests


@pytest.fixture
def stubs(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Stubber]]:
    """Stubbed sagemaker/cloudwatch/logs/sts clients that lib.sources.aws.session.make_client hands out."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    clients = {
        s: CLIENT_SESSION.client(s, endpoint_url="http://127.0.0.1:9", config=aws.RETRY_CONFIG)
        for s in ("sagemaker", "cloudwatch", "logs", "sts")
    }
    stubbers = {s: Stubber(c) for s, c in clients.items()}
    monkeypatch.setattr(aws, "make_client", lambda session, service, endpoint_url=None, **_: clients[service])
    for st in stubbers.values():
        st.activate()
    yield stubbers
    for st in stubbers.values():
        st.assert_no_pending_responses()
        st.deactivate()


def job_record(name: str, start: dt.datetime, minutes: int = 10, metrics: tuple[str, ...] = ("acc",)) -> dict:
    return {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "CreationTime": start - dt.timedelta(minutes=2),
        "TrainingStartTime": start,
        "TrainingEndTime": start + dt.timedelta(minutes=minutes),
        "LastModifiedTime": start + dt.timedelta(minutes=minutes),
        "AlgorithmSpecification": {
            "TrainingInputMode": "File",
            "TrainingImage": "img",
            "MetricDefinitions": [{"Name": m, "Regex": f"{m}=([0-9.]+)"} for m in metrics],
        },
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "ModelArtifacts": {"S3ModelArtifacts": f"s3://bucket/{name}/model.tar.gz"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
    }


def search_page(records: list[dict], token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"Results": [{"TrainingJob": r} for r in records]}
    if token:
        page["NextToken"] = token
    return page


def result(qid: str, times: list[dt.datetime], values: list[float], status: str = "Complete") -> dict:
    return {"Id": qid, "Label": qid, "Timestamps": times, "Values": values, "StatusCode": status}


def minutes(start: dt.datetime, n: int) -> list[dt.datetime]:
    return [start + dt.timedelta(minutes=i) for i in range(n)]


T0 = NOW - dt.timedelta(hours=5)


# ---------------------------------------------------------------- GetMetricData


def test_get_metric_data_pages_are_merged_and_final_status_decides_partial(stubs: dict[str, Stubber]) -> None:
    older = job_record("b", T0 - dt.timedelta(minutes=1))
    stubs["sagemaker"].add_response("search", search_page([older, job_record("a", T0)]))
    cw = stubs["cloudwatch"]  # queries follow the jobs newest first: q0 = a, q1 = b
    expected = {
        "MetricDataQueries": ANY,
        "StartTime": ANY,
        "EndTime": ANY,
        "ScanBy": "TimestampAscending",
    }
    cw.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                result("q0", minutes(T0, 2), [0.1, 0.2], "PartialData"),
                result("q1", minutes(T0, 2), [0.5, 0.6], "PartialData"),
            ],
            "NextToken": "page-2",
        },
        expected,
    )
    cw.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                result("q0", minutes(T0 + dt.timedelta(minutes=2), 1), [0.3], "Complete"),
                result("q1", [], [], "PartialData"),
            ]
        },
        {**expected, "NextToken": "page-2"},
    )
    _, metrics = live.load_training_jobs(_session(), now=NOW)
    a = metrics.loc[metrics["job"] == "a"]
    b = metrics.loc[metrics["job"] == "b"]
    assert a["value"].tolist() == [0.1, 0.2, 0.3]
    assert not a["partial"].any()
    assert b["value"].tolist() == [0.5, 0.6]
    assert b["partial"].all()
    (warning,) = metrics.attrs["warnings"]
    assert "PartialData" in warning.message
    assert warning.jobs == ("b",)


def test_get_metric_data_request_shape(stubs: dict[str, Stubber]) -> None:
    stubs["sagemaker"].add_response("search", search_page([job_record("run-1", T0, minutes=10)]))
    query = {
        "Id": "q0",
        "MetricStat": {
            "Metric": {
                "Namespace": "/aws/sagemaker/TrainingJobs",
                "MetricName": "acc",
                "Dimensions": [{"Name": "TrainingJobName", "Value": "run-1"}],
            },
            "Period": 60,
            "Stat": "Average",
        },
        "ReturnData": True,
    }
    stubs["cloudwatch"].add_response(
        "get_metric_data",
        {"MetricDataResults": [result("q0", [], [])]},
        {
            "MetricDataQueries": [query],
            "StartTime": T0,  # floored to the period
            "EndTime": T0 + dt.timedelta(minutes=10 + 1 + 2),  # end + 1 min (SDK window) + 2 periods
            "ScanBy": "TimestampAscending",
        },
    )
    _, metrics = live.load_training_jobs(_session(), now=NOW)
    assert metrics.empty


def test_more_than_500_series_are_split_into_calls_of_500(stubs: dict[str, Stubber]) -> None:
    names = tuple(f"m{i}" for i in range(6))
    records = [job_record(f"job-{i:03d}", T0, metrics=names) for i in range(100)]  # 600 series
    stubs["sagemaker"].add_response("search", search_page(records))
    for n in (500, 100):
        stubs["cloudwatch"].add_response(
            "get_metric_data",
            {"MetricDataResults": [result(f"q{i}", [T0], [float(i)]) for i in range(n)]},
        )
    _, metrics = live.load_training_jobs(_session(), now=NOW)
    assert len(metrics) == 600
    assert metrics["job"].nunique() == 100


@pytest.mark.parametrize(
    ("age", "period"),
    [
        (dt.timedelta(hours=2), 60),
        (dt.timedelta(days=14), 60),
        (dt.timedelta(days=20), 300),
        (dt.timedelta(days=62), 300),
        (dt.timedelta(days=100), 3600),
    ],
)
def test_period_follows_cloudwatch_retention(age: dt.timedelta, period: int) -> None:
    assert aws_metrics.allowed_period(NOW - age, NOW) == period


def test_requested_period_is_rounded_up_to_a_multiple_the_retention_allows() -> None:
    assert aws_metrics.allowed_period(NOW - dt.timedelta(hours=1), NOW, requested=90) == 120
    assert aws_metrics.allowed_period(NOW - dt.timedelta(days=20), NOW, requested=120) == 300
    assert aws_metrics.allowed_period(NOW - dt.timedelta(days=20), NOW, requested=400) == 600


def test_old_and_recent_jobs_go_to_separate_calls_with_their_periods(stubs: dict[str, Stubber]) -> None:
    recent, old = job_record("recent", T0), job_record("old", NOW - dt.timedelta(days=30))
    stubs["sagemaker"].add_response("search", search_page([recent, old]))
    periods: list[int] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        periods.extend(q["MetricStat"]["Period"] for q in params["MetricDataQueries"])

    client = stubs["cloudwatch"].client
    client.meta.events.register("before-parameter-build.cloudwatch.GetMetricData", capture)
    for _ in range(2):
        stubs["cloudwatch"].add_response("get_metric_data", {"MetricDataResults": [result("q0", [], [])]})
    live.load_training_jobs(_session(), now=NOW)
    assert periods == [60, 300]


def test_forbidden_and_internal_error_statuses_become_warnings(stubs: dict[str, Stubber]) -> None:
    stubs["sagemaker"].add_response("search", search_page([job_record("a", T0, metrics=("x", "y", "z"))]))
    stubs["cloudwatch"].add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                result("q0", [T0], [1.0]),
                result("q1", [], [], "Forbidden"),
                result("q2", [], [], "InternalError"),
            ],
            "Messages": [{"Code": "MaxQueryTimeRangeExceed", "Value": "narrow it"}],
        },
    )
    _, metrics = live.load_training_jobs(_session(), now=NOW)
    assert metrics["metric"].tolist() == ["x"]
    text = " | ".join(w.message for w in metrics.attrs["warnings"])
    assert "Forbidden for 1 series: a y" in text
    assert "InternalError for 1 series: a z" in text
    assert "MaxQueryTimeRangeExceed" in text


def test_one_failed_batch_keeps_the_other_and_records_the_failure(stubs: dict[str, Stubber]) -> None:
    recent, old = job_record("recent", T0), job_record("old", NOW - dt.timedelta(days=30))
    stubs["sagemaker"].add_response("search", search_page([recent, old]))
    stubs["cloudwatch"].add_response("get_metric_data", {"MetricDataResults": [result("q0", [T0], [0.7])]})
    stubs["cloudwatch"].add_client_error("get_metric_data", "Throttling", "Rate exceeded", 400)
    jobs, metrics = live.load_training_jobs(_session(), now=NOW)
    assert metrics["job"].tolist() == ["recent"]
    (warning,) = metrics.attrs["warnings"]
    assert warning.stage == "metrics"
    assert warning.jobs == ("old",)
    assert "throttling" in warning.message
    assert len(jobs) == 2


@pytest.mark.parametrize(
    ("code", "match"),
    [
        ("AccessDenied", r"lack the IAM permission cloudwatch:GetMetricData"),
        ("ExpiredToken", r"credentials have expired"),
        ("Throttling", r"throttling requests to cloudwatch \(GetMetricData\)"),
        ("InvalidClientTokenId", r"rejected the credentials"),
    ],
)
def test_when_every_metric_call_fails_the_load_raises_a_clear_error(
    stubs: dict[str, Stubber], code: str, match: str
) -> None:
    stubs["sagemaker"].add_response("search", search_page([job_record("a", T0)]))
    stubs["cloudwatch"].add_client_error(
        "get_metric_data", code, "nope", 400 if code != "AccessDenied" else 403
    )
    with pytest.raises(DataSourceError, match=match) as info:
        live.load_training_jobs(_session(), now=NOW)
    assert info.value.hint


# ---------------------------------------------------------------- jobs: Search shapes and fallback


def test_search_request_for_filters(stubs: dict[str, Stubber]) -> None:
    stubs["sagemaker"].add_response(
        "search",
        search_page([]),
        {
            "Resource": "TrainingJob",
            "SearchExpression": {
                "Filters": [
                    {"Name": "TrainingJobName", "Operator": "Contains", "Value": "ic-"},
                    {"Name": "TrainingJobStatus", "Operator": "Equals", "Value": "Failed"},
                    {
                        "Name": "CreationTime",
                        "Operator": "GreaterThanOrEqualTo",
                        "Value": "2024-05-01T00:00:00",
                    },
                    {"Name": "CreationTime", "Operator": "LessThan", "Value": "2024-05-02T06:30:00"},
                ]
            },
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": 50,
        },
    )
    jobs = training_jobs.find_training_jobs(
        _session(),
        name_contains="ic-",
        status="Failed",
        created_after="2024-05-01",
        created_before=dt.datetime(2024, 5, 2, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        max_jobs=50,
    )
    assert jobs.empty


def test_search_follows_next_token_until_max_jobs(stubs: dict[str, Stubber]) -> None:
    base = {"Resource": "TrainingJob", "SortBy": "CreationTime", "SortOrder": "Descending"}
    first = [job_record(f"j{i:03d}", T0 - dt.timedelta(minutes=i)) for i in range(100)]
    second = [job_record(f"j{i:03d}", T0 - dt.timedelta(minutes=i)) for i in range(100, 125)]
    stubs["sagemaker"].add_response("search", search_page(first, "tok"), {**base, "MaxResults": 100})
    stubs["sagemaker"].add_response(
        "search", search_page(second, "tok2"), {**base, "MaxResults": 25, "NextToken": "tok"}
    )
    jobs = training_jobs.find_training_jobs(_session(), max_jobs=125)
    assert jobs["job"].tolist() == [f"j{i:03d}" for i in range(125)]  # newest first, no third call


def test_chosen_jobs_are_searched_with_in_filters_one_call_per_100(stubs: dict[str, Stubber]) -> None:
    names = [f"a-fairly-long-training-job-name-{i:04d}" for i in range(150)]  # 37 chars each
    values: list[str] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        expr = params["SearchExpression"]
        assert expr.get("Operator", "Or") == "Or"
        values.extend(f["Value"] for f in expr["Filters"])
        assert all(f["Operator"] == "In" and len(f["Value"]) <= 1024 for f in expr["Filters"])

    stubs["sagemaker"].client.meta.events.register("before-parameter-build.sagemaker.Search", capture)
    stubs["sagemaker"].add_response("search", search_page([job_record(n, T0) for n in names[:100]]))
    stubs["sagemaker"].add_response("search", search_page([job_record(n, T0) for n in names[100:]]))
    records, warnings = training_jobs.fetch_job_records(stubs["sagemaker"].client, job_names=names[::-1])
    assert [r["TrainingJobName"] for r in records] == names[::-1]
    assert warnings == []
    assert sorted(n for v in values for n in v.split(",")) == sorted(names)


def test_refused_in_filter_falls_back_to_describe_per_chosen_job(stubs: dict[str, Stubber]) -> None:
    sm = stubs["sagemaker"]
    sm.add_client_error("search", "ValidationException", "Operator In is not supported", 400)
    sm.add_response("describe_training_job", job_record("b", T0), {"TrainingJobName": "b"})
    sm.add_client_error("describe_training_job", "ValidationException", "Could not find training job", 400)
    records, warnings = training_jobs.fetch_job_records(sm.client, job_names=["b", "gone"])
    assert [r["TrainingJobName"] for r in records] == ["b"]
    assert [w.jobs for w in warnings] == [(), ("gone",)]


def test_search_denied_falls_back_to_list_and_describe(stubs: dict[str, Stubber]) -> None:
    sm = stubs["sagemaker"]
    sm.add_client_error(
        "search",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/ds is not authorized to perform: sagemaker:Search",
        400,
    )
    sm.add_response(
        "list_training_jobs",
        {
            "TrainingJobSummaries": [
                {
                    "TrainingJobName": n,
                    "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{n}",
                    "CreationTime": T0,
                    "TrainingJobStatus": "Completed",
                }
                for n in ("xb", "xa")
            ]
        },
        {"SortBy": "CreationTime", "SortOrder": "Descending", "NameContains": "x", "MaxResults": 100},
    )
    sm.add_response(
        "describe_training_job", job_record("xb", T0 + dt.timedelta(minutes=1)), {"TrainingJobName": "xb"}
    )
    sm.add_response("describe_training_job", job_record("xa", T0), {"TrainingJobName": "xa"})
    jobs = training_jobs.find_training_jobs(_session(), name_contains="x")
    assert jobs["job"].tolist() == ["xb", "xa"]
    (warning,) = jobs.attrs["warnings"]
    assert "sagemaker:Search is not allowed" in warning.message


def test_search_and_list_both_denied_names_the_permission(stubs: dict[str, Stubber]) -> None:
    stubs["sagemaker"].add_client_error("search", "AccessDeniedException", "denied", 400)
    stubs["sagemaker"].add_client_error("list_training_jobs", "AccessDeniedException", "denied", 400)
    with pytest.raises(DataSourceError, match="sagemaker:ListTrainingJobs"):
        training_jobs.find_training_jobs(_session())


def test_search_errors_other_than_access_denied_are_raised(stubs: dict[str, Stubber]) -> None:
    stubs["sagemaker"].add_client_error("search", "ExpiredTokenException", "The security token expired", 400)
    with pytest.raises(DataSourceError, match="expired"):
        training_jobs.find_training_jobs(_session())


# ---------------------------------------------------------------- logs failures


def test_log_failures_are_warnings_when_metrics_loaded(stubs: dict[str, Stubber]) -> None:
    stubs["sagemaker"].add_response("search", search_page([job_record("a", T0)]))
    stubs["cloudwatch"].add_response("get_metric_data", {"MetricDataResults": [result("q0", [T0], [0.5])]})
    stubs["logs"].add_client_error(
        "describe_log_streams",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/ds is not authorized to perform: logs:DescribeLogStreams on x",
        400,
    )
    _, metrics = live.load_training_jobs(_session(), include_logs=True, now=NOW)
    assert metrics["value"].tolist() == [0.5]
    (warning,) = metrics.attrs["warnings"]
    assert warning.stage == "logs"
    assert "logs:DescribeLogStreams" in warning.message


def test_missing_log_group_is_a_warning_not_an_error(stubs: dict[str, Stubber]) -> None:
    stubs["sagemaker"].add_response("search", search_page([job_record("a", T0)]))
    stubs["cloudwatch"].add_response("get_metric_data", {"MetricDataResults": [result("q0", [], [])]})
    stubs["logs"].add_client_error("describe_log_streams", "ResourceNotFoundException", "no group", 400)
    _, metrics = live.load_training_jobs(_session(), include_logs=True, now=NOW)
    assert metrics.empty
    assert "does not exist" in metrics.attrs["warnings"][0].message


# ---------------------------------------------------------------- identity + retry config


def test_whoami_expired_token(stubs: dict[str, Stubber]) -> None:
    stubs["sts"].add_client_error("get_caller_identity", "ExpiredToken", "The security token expired", 400)
    with pytest.raises(DataSourceError, match="expired") as info:
        aws.whoami(_session())
    assert "sso login" in (info.value.hint or "")


def test_clients_use_adaptive_retries_with_ten_attempts() -> None:
    client = aws.make_client(_session(), "cloudwatch", endpoint_url="http://127.0.0.1:9")
    # botocore stores max_attempts=10 retries as 11 attempts in all
    assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 11}
    assert client.meta.endpoint_url == "http://127.0.0.1:9"


# ---------------------------------------------------------------- logs with the service's own regexes


def test_log_loader_keeps_xgboost_rounds_with_the_service_metric_definitions(
    stubs: dict[str, Stubber],
) -> None:
    """Built-in XGBoost jobs come back from DescribeTrainingJob with the service's regexes, which
    find the value but not the round: the epoch must still come from the line's ``[N]``."""
    from lib.sources.aws.logs import LOG_GROUP, fetch_log_metrics

    number = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
    record = job_record("xgb", T0)
    record["AlgorithmSpecification"]["MetricDefinitions"] = [
        {"Name": f"{split}:rmse", "Regex": rf".*\[[0-9]+\].*#011{split}-rmse:{number}.*"}
        for split in ("train", "validation")
    ]
    stream = "xgb/algo-1-1700000000"
    stubs["logs"].add_response(
        "describe_log_streams",
        {"logStreams": [{"logStreamName": stream}]},
        {"logGroupName": LOG_GROUP, "logStreamNamePrefix": "xgb/"},
    )
    messages = [
        "\x1b[34m[0]#011train-rmse:3.5#011validation-rmse:4.5\x1b[0m",
        "[1]#011train-rmse:2.5#011validation-rmse:3.5",
        "[2]#011train-rmse:1.5#011validation-rmse:3.75",
        "Stopping. Best iteration:",
        "[1]#011train-rmse:2.5#011validation-rmse:3.5",
    ]
    t0 = int(T0.timestamp() * 1000)
    stubs["logs"].add_response(
        "filter_log_events",
        {
            "events": [
                {"logStreamName": stream, "timestamp": t0 + 1000 * i, "message": m, "eventId": str(i)}
                for i, m in enumerate(messages)
            ]
        },
        {"logGroupName": LOG_GROUP, "logStreamNames": [stream]},
    )
    frame, warnings, errors, ok = fetch_log_metrics(stubs["logs"].client, [record])
    assert ok
    assert not warnings
    assert not errors
    for metric in ("train:rmse", "validation:rmse"):
        rows = frame.loc[frame["metric"] == metric]
        assert rows["epoch"].tolist() == [0, 1, 2], metric
        assert set(rows["host"]) == {"algo-1"}
    assert frame.loc[frame["metric"] == "train:rmse", "value"].tolist() == [3.5, 2.5, 1.5]
