"""What moto lacks (monitoring schedules and executions) and fault shapes, pinned with botocore's Stubber.

moto 5.2.5 has no CreateMonitoringSchedule/DescribeMonitoringSchedule/ListMonitoringExecutions, so those
are stubbed (request shapes validated against botocore's model); S3 faults (AccessDenied, SlowDown,
PermanentRedirect, a truncated body) are stubbed too. Stubbed clients point at a closed port.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

import lib
from lib.errors import DataSourceError
from lib.sources.aws import capture_s3, monitoring
from lib.sources.aws import session as aws
from tests.support.aws_server import capture_line, statistics_doc

UTC = dt.UTC
DAY = dt.datetime(2024, 5, 6, tzinfo=UTC)
ARN = "arn:aws:sagemaker:us-east-1:123456789012"
SESSION = boto3.Session(
    region_name="us-east-1", aws_access_key_id="AKIASTUBSTUBSTUB0001", aws_secret_access_key="x" * 40
)
VIOLATIONS = Path(__file__).parents[3] / "data" / "model_monitor" / "constraint_violations.json"


@pytest.fixture
def stubs(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Stubber]]:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    clients = {
        s: SESSION.client(s, endpoint_url="http://127.0.0.1:9", config=aws.RETRY_CONFIG)
        for s in ("sagemaker", "s3", "cloudwatch")
    }
    stubbers = {s: Stubber(c) for s, c in clients.items()}
    monkeypatch.setattr(aws, "make_client", lambda session, service, endpoint_url=None: clients[service])
    monkeypatch.setattr(monitoring, "_WORKERS", 1)  # one thread: stubbed responses are consumed in order
    for st in stubbers.values():
        st.activate()
    yield stubbers
    for st in stubbers.values():
        st.assert_no_pending_responses()
        st.deactivate()


def body(data: bytes, length: int | None = None) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data) if length is None else length)


def get_object(stub: Stubber, key: str, data: bytes, length: int | None = None) -> None:
    stub.add_response(
        "get_object",
        {"Body": body(data, length), "ContentLength": len(data)},
        {"Bucket": "b", "Key": key},
    )


def schedule_response(config: dict) -> dict:
    now = DAY
    return {
        "MonitoringScheduleArn": f"{ARN}:monitoring-schedule/m",
        "MonitoringScheduleName": "m",
        "MonitoringScheduleStatus": "Scheduled",
        "CreationTime": now,
        "LastModifiedTime": now,
        "MonitoringScheduleConfig": config,
        "EndpointName": "churn-prod",
    }


ENDPOINT_INPUT = {"EndpointInput": {"EndpointName": "churn-prod", "LocalPath": "/opt/ml/processing/input"}}
OUTPUT = {"S3Output": {"S3Uri": "s3://b/reports", "LocalPath": "/opt/ml/processing/output"}}
STATS_DOC = json.dumps(statistics_doc({"label": (0, 1), "age": (40, 5)}, n=200)).encode()
CONS_DOC = json.dumps({"version": 0.0, "features": [{"name": "age", "inferred_type": "Fractional"}]}).encode()


def test_baseline_from_a_schedule_with_an_inline_job_definition(stubs: dict[str, Stubber]) -> None:
    stubs["sagemaker"].add_response(
        "describe_monitoring_schedule",
        schedule_response(
            {
                "MonitoringJobDefinition": {
                    "BaselineConfig": {
                        "StatisticsResource": {"S3Uri": "s3://b/base/statistics.json"},
                        "ConstraintsResource": {"S3Uri": "s3://b/base/constraints.json"},
                    },
                    "MonitoringInputs": [ENDPOINT_INPUT],
                    "MonitoringOutputConfig": {"MonitoringOutputs": [OUTPUT]},
                    "MonitoringResources": {
                        "ClusterConfig": {
                            "InstanceCount": 1,
                            "InstanceType": "ml.m5.large",
                            "VolumeSizeInGB": 20,
                        }
                    },
                    "MonitoringAppSpecification": {"ImageUri": "img"},
                    "RoleArn": f"{ARN}:role/r",
                }
            }
        ),
        {"MonitoringScheduleName": "m"},
    )
    get_object(stubs["s3"], "base/statistics.json", STATS_DOC)
    get_object(stubs["s3"], "base/constraints.json", CONS_DOC)
    baseline, constraints = lib.load_baseline(SESSION, "m")
    assert baseline is not None
    assert baseline.feature_names == ["label", "age"]
    assert constraints is not None
    assert constraints.feature_names == ["age"]


def test_baseline_from_a_schedule_naming_a_data_quality_job_definition(stubs: dict[str, Stubber]) -> None:
    stubs["sagemaker"].add_response(
        "describe_monitoring_schedule",
        schedule_response({"MonitoringJobDefinitionName": "dq", "MonitoringType": "DataQuality"}),
        {"MonitoringScheduleName": "m"},
    )
    stubs["sagemaker"].add_response(
        "describe_data_quality_job_definition",
        {
            "JobDefinitionArn": f"{ARN}:data-quality-job-definition/dq",
            "JobDefinitionName": "dq",
            "CreationTime": DAY,
            "DataQualityBaselineConfig": {"StatisticsResource": {"S3Uri": "s3://b/dq/statistics.json"}},
            "DataQualityAppSpecification": {"ImageUri": "img"},
            "DataQualityJobInput": ENDPOINT_INPUT,
            "DataQualityJobOutputConfig": {"MonitoringOutputs": [OUTPUT]},
            "JobResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}
            },
            "RoleArn": f"{ARN}:role/r",
        },
        {"JobDefinitionName": "dq"},
    )
    get_object(stubs["s3"], "dq/statistics.json", STATS_DOC)
    baseline, constraints = lib.load_baseline(SESSION, "m")
    assert baseline is not None
    assert constraints is None  # the schedule names no constraints resource


def test_baseline_uri_reads_the_sibling_constraints_if_present(stubs: dict[str, Stubber]) -> None:
    get_object(stubs["s3"], "x/statistics.json", STATS_DOC)
    stubs["s3"].add_client_error("get_object", "NoSuchKey", "The specified key does not exist.", 404)
    baseline, constraints = lib.load_baseline(SESSION, "s3://b/x/statistics.json")
    assert baseline is not None
    assert constraints is None


def test_schedule_without_describe_permission_names_it(stubs: dict[str, Stubber]) -> None:
    stubs["sagemaker"].add_client_error("describe_monitoring_schedule", "AccessDeniedException", "no", 400)
    with pytest.raises(DataSourceError, match="sagemaker:DescribeMonitoringSchedule"):
        lib.load_baseline(SESSION, "m")


def execution(status: str, job: str | None, hour: int) -> dict:
    e = {
        "MonitoringScheduleName": "m",
        "ScheduledTime": DAY + dt.timedelta(hours=hour),
        "CreationTime": DAY + dt.timedelta(hours=hour),
        "LastModifiedTime": DAY + dt.timedelta(hours=hour),
        "MonitoringExecutionStatus": status,
    }
    if job:
        e["ProcessingJobArn"] = f"{ARN}:processing-job/{job}"
    if status == "Failed":
        e["FailureReason"] = "Job failed: capture is empty"
    return e


def processing_job(job: str, folder: str) -> dict:
    return {
        "ProcessingJobName": job,
        "ProcessingJobArn": f"{ARN}:processing-job/{job}",
        "ProcessingJobStatus": "Completed",
        "CreationTime": DAY,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}
        },
        "AppSpecification": {"ImageUri": "img"},
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "result",
                    "S3Output": {"S3Uri": folder, "LocalPath": "/out", "S3UploadMode": "EndOfJob"},
                }
            ]
        },
    }


def test_monitoring_history_reads_each_executions_violations(stubs: dict[str, Stubber]) -> None:
    sm, s3 = stubs["sagemaker"], stubs["s3"]
    sm.add_response(
        "list_monitoring_executions",
        {
            "MonitoringExecutionSummaries": [
                execution("CompletedWithViolations", "j2", 2),
                execution("Completed", "j1", 1),
                execution("Failed", None, 0),
            ]
        },
        {
            "MonitoringScheduleName": "m",
            "SortBy": "ScheduledTime",
            "SortOrder": "Descending",
            "MaxResults": 50,
        },
    )
    sm.add_response(
        "describe_processing_job", processing_job("j2", "s3://b/reports/02"), {"ProcessingJobName": "j2"}
    )
    get_object(s3, "reports/02/constraint_violations.json", VIOLATIONS.read_bytes())
    sm.add_response(
        "describe_processing_job", processing_job("j1", "s3://b/reports/01/"), {"ProcessingJobName": "j1"}
    )
    get_object(s3, "reports/01/constraint_violations.json", b'{"violations": []}')
    frame = lib.monitoring_history(SESSION, "m")
    assert list(frame.columns) == list(monitoring.HISTORY_COLUMNS)
    assert frame["status"].tolist() == ["CompletedWithViolations"] * 2 + ["Completed", "Failed"]
    assert frame["feature_name"].tolist()[:2] == ["monthly_charges", "age"]
    assert frame["constraint_check_type"].tolist()[:2] == ["baseline_drift_check", "data_type_check"]
    assert frame["feature_name"].isna().tolist()[2:] == [True, True]
    assert frame["description"].iloc[3] == "Job failed: capture is empty"
    assert frame["report_uri"].iloc[0] == "s3://b/reports/02/constraint_violations.json"
    assert str(frame["execution_time"].dt.tz) == "UTC"
    assert frame.attrs["warnings"] == []


def test_history_keeps_executions_whose_report_is_denied(stubs: dict[str, Stubber]) -> None:
    sm = stubs["sagemaker"]
    sm.add_response(
        "list_monitoring_executions",
        {"MonitoringExecutionSummaries": [execution("Completed", "j1", 1)]},
        None,
    )
    sm.add_client_error("describe_processing_job", "AccessDeniedException", "denied", 400)
    frame = lib.monitoring_history(SESSION, "m")
    assert len(frame) == 1
    assert "sagemaker:DescribeProcessingJob" in frame.attrs["warnings"][0]


def test_list_monitoring_schedules(stubs: dict[str, Stubber]) -> None:
    stubs["sagemaker"].add_response(
        "list_monitoring_schedules",
        {
            "MonitoringScheduleSummaries": [
                {
                    "MonitoringScheduleName": "m",
                    "MonitoringScheduleArn": f"{ARN}:monitoring-schedule/m",
                    "CreationTime": DAY,
                    "LastModifiedTime": DAY,
                    "MonitoringScheduleStatus": "Scheduled",
                    "EndpointName": "churn-prod",
                    "MonitoringType": "DataQuality",
                }
            ]
        },
        {"EndpointName": "churn-prod", "SortBy": "CreationTime", "SortOrder": "Descending"},
    )
    frame = lib.list_monitoring_schedules(SESSION, "churn-prod")
    assert frame[["schedule", "endpoint", "monitoring_type"]].values.tolist() == [
        ["m", "churn-prod", "DataQuality"]
    ]


# ---------------------------------------------------------------- capture faults

PREFIX = "cap/ep/v/2024/05/06/"


def line(i: int) -> str:
    return capture_line(f"e{i}", DAY + dt.timedelta(minutes=i), (40.0 + i, 50.0), 0.4)


def listing(stub: Stubber, hour: int, keys: list[str]) -> None:
    stub.add_response(
        "list_objects_v2",
        {"Contents": [{"Key": k} for k in keys], "IsTruncated": False, "KeyCount": len(keys)},
        {"Bucket": "b", "Prefix": f"{PREFIX}{hour:02d}/"},
    )


def load(hours: int = 1) -> object:
    return capture_s3.load_endpoint_capture(
        SESSION, "ep", DAY, DAY + dt.timedelta(hours=hours), variant="v", destination="s3://b/cap", workers=1
    )


def test_list_denied_names_s3_listbucket_and_the_bucket(stubs: dict[str, Stubber]) -> None:
    stubs["s3"].add_client_error("list_objects_v2", "AccessDenied", "Access Denied", 403)
    with pytest.raises(
        DataSourceError, match=r"lack the IAM permission s3:ListBucket on s3://b/cap/ep/v/2024/05/06/00/"
    ):
        load()


def test_one_object_denied_keeps_the_rest_with_a_warning(stubs: dict[str, Stubber]) -> None:
    listing(stubs["s3"], 0, [f"{PREFIX}00/a.jsonl", f"{PREFIX}00/b.jsonl"])
    get_object(stubs["s3"], f"{PREFIX}00/a.jsonl", (line(1) + "\n" + line(2)).encode())
    stubs["s3"].add_client_error("get_object", "AccessDenied", "Access Denied", 403)
    frame = load()
    assert len(frame) == 2
    assert frame.attrs["partial"] is True
    assert "s3:GetObject on s3://b/cap/ep/v/2024/05/06/00/b.jsonl" in frame.attrs["warnings"][0]
    assert any("Partial result" in n for n in frame.attrs["notes"])


def test_every_object_denied_raises_naming_s3_getobject_and_kms(stubs: dict[str, Stubber]) -> None:
    listing(stubs["s3"], 0, [f"{PREFIX}00/a.jsonl"])
    stubs["s3"].add_client_error("get_object", "AccessDenied", "Access Denied", 403)
    with pytest.raises(DataSourceError, match="s3:GetObject") as info:
        load()
    assert "kms:Decrypt" in (info.value.hint or "")


def test_throttling_names_the_call(stubs: dict[str, Stubber]) -> None:
    stubs["s3"].add_client_error("list_objects_v2", "SlowDown", "Please reduce your request rate.", 503)
    with pytest.raises(DataSourceError, match=r"throttling requests to s3 \(ListObjectsV2\)"):
        load()


def test_bucket_in_another_region_names_it(stubs: dict[str, Stubber]) -> None:
    stubs["s3"].add_client_error(
        "list_objects_v2",
        "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the specified endpoint.",
        301,
        response_meta={"HTTPHeaders": {"x-amz-bucket-region": "eu-west-1"}},
    )
    with pytest.raises(DataSourceError, match="bucket b is in region eu-west-1, not in us-east-1") as info:
        load()
    assert "--region eu-west-1" in (info.value.hint or "")


def test_a_truncated_object_is_named_and_the_rest_kept(stubs: dict[str, Stubber]) -> None:
    listing(stubs["s3"], 0, [f"{PREFIX}00/a.jsonl", f"{PREFIX}00/b.jsonl"])
    good = (line(1) + "\n").encode()
    get_object(stubs["s3"], f"{PREFIX}00/a.jsonl", good)
    get_object(stubs["s3"], f"{PREFIX}00/b.jsonl", good[:30], length=len(good))
    frame = load()
    assert len(frame) == 1
    assert (
        f"s3://b/{PREFIX}00/b.jsonl was cut off: 30 of {len(good)} bytes arrived"
        in frame.attrs["warnings"][0]
    )


def test_one_hour_denied_of_two_keeps_the_other(stubs: dict[str, Stubber]) -> None:
    listing(stubs["s3"], 0, [f"{PREFIX}00/a.jsonl"])
    stubs["s3"].add_client_error("list_objects_v2", "AccessDenied", "Access Denied", 403)
    get_object(stubs["s3"], f"{PREFIX}00/a.jsonl", (line(1) + "\n").encode())
    frame = load(hours=2)
    assert len(frame) == 1
    assert "s3:ListBucket" in frame.attrs["warnings"][0]


def test_describe_endpoint_denied_suggests_the_destination(stubs: dict[str, Stubber]) -> None:
    stubs["sagemaker"].add_client_error("describe_endpoint", "AccessDeniedException", "no", 400)
    with pytest.raises(DataSourceError, match="sagemaker:DescribeEndpoint") as info:
        lib.load_endpoint_capture(SESSION, "ep", DAY, DAY + dt.timedelta(hours=1))
    assert "destination" in (info.value.hint or "")


def test_the_deadline_stops_waiting_for_slow_requests() -> None:
    pool = cf.ThreadPoolExecutor(max_workers=2)
    t0 = time.monotonic()
    try:
        got = capture_s3._gather(
            pool,
            {"fast": lambda: "ok", "slow": lambda: time.sleep(2)},
            time.monotonic() + 0.3,
            lambda done, total, text: None,
            "{} of {}",
        )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    assert time.monotonic() - t0 < 1.5
    assert got.late == ["slow"]
    assert got.results == {"fast": "ok"}
