"""Model Monitor from AWS: schedules, their baselines (statistics/constraints in S3) and execution history.

A schedule's baseline is in ``MonitoringScheduleConfig.MonitoringJobDefinition.BaselineConfig`` or,
for schedules that name a job definition, in DescribeDataQualityJobDefinition's
``DataQualityBaselineConfig``. An execution's report folder is its processing job's output
(``ListMonitoringExecutions`` → ``ProcessingJobArn`` → DescribeProcessingJob →
``ProcessingOutputConfig.Outputs[].S3Output.S3Uri``), holding ``constraint_violations.json``.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import boto3
import botocore.exceptions as bexc
import pandas as pd

from lib.errors import DataSourceError, InputError
from lib.sources.aws import session as aws
from lib.sources.aws.common import utc_or_none
from lib.sources.aws.s3files import MISSING_KEY_CODES, NamedBytes, is_s3_uri, parse_s3_uri, read_body
from lib.sources.monitor_files import (
    Baseline,
    Constraints,
    read_constraints,
    read_statistics,
    read_violations,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

SCHEDULE_COLUMNS: Final = (
    "schedule",
    "endpoint",
    "status",
    "monitoring_type",
    "job_definition",
    "created",
    "last_modified",
)
HISTORY_COLUMNS: Final = (
    "execution_time",
    "status",
    "feature_name",
    "constraint_check_type",
    "description",
    "processing_job",
    "report_uri",
)
#: Execution statuses whose report folder holds a constraint_violations.json.
_FINISHED: Final = frozenset({"Completed", "CompletedWithViolations"})
_WORKERS: Final = 4


def list_monitoring_schedules(
    session: boto3.Session, endpoint: str | None = None, *, endpoint_url: str | None = None
) -> pd.DataFrame:
    """Model Monitor schedules (of one endpoint, or all), newest first.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SCHEDULE_COLUMNS`; times UTC.

    Raises
    ------
    DataSourceError
        If ListMonitoringSchedules fails (names ``sagemaker:ListMonitoringSchedules`` when denied).
    """
    sm = aws.make_client(session, "sagemaker", endpoint_url)
    kwargs: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Descending"}
    if endpoint:
        kwargs["EndpointName"] = endpoint
    rows: list[dict[str, Any]] = []
    with aws.aws_errors("sagemaker", region=session.region_name, what="listing monitoring schedules"):
        for page in sm.get_paginator("list_monitoring_schedules").paginate(**kwargs):
            for s in page.get("MonitoringScheduleSummaries", []):
                rows.append(
                    {
                        "schedule": s["MonitoringScheduleName"],
                        "endpoint": s.get("EndpointName"),
                        "status": s.get("MonitoringScheduleStatus"),
                        "monitoring_type": s.get("MonitoringType"),
                        "job_definition": s.get("MonitoringJobDefinitionName"),
                        "created": utc_or_none(s.get("CreationTime")),
                        "last_modified": utc_or_none(s.get("LastModifiedTime")),
                    }
                )
    frame = pd.DataFrame(rows, columns=list(SCHEDULE_COLUMNS))
    for col in ("created", "last_modified"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def schedule_baseline_uris(
    sm: SageMakerClient, schedule: str, *, region: str | None = None
) -> tuple[str | None, str | None]:
    """``(statistics_uri, constraints_uri)`` of a monitoring schedule's baseline (None when not set).

    Raises
    ------
    DataSourceError
        If the schedule (or its job definition) cannot be described, or is not a data-quality one.
    """
    with aws.aws_errors("sagemaker", region=region, what=f"describing monitoring schedule {schedule}"):
        desc = sm.describe_monitoring_schedule(MonitoringScheduleName=schedule)
    config: dict[str, Any] = dict(desc.get("MonitoringScheduleConfig") or {})
    baseline: dict[str, Any] = dict((config.get("MonitoringJobDefinition") or {}).get("BaselineConfig") or {})
    definition = config.get("MonitoringJobDefinitionName")
    if not baseline and definition:
        kind = config.get("MonitoringType") or desc.get("MonitoringType") or "DataQuality"
        if kind != "DataQuality":
            raise DataSourceError(
                f"Schedule {schedule} is a {kind} monitor; only data-quality baselines "
                "(statistics.json/constraints.json) can be drift references.",
                hint="Pick a DataQuality schedule, or give the statistics.json S3 URI.",
            )
        what = f"describing data-quality job definition {definition}"
        with aws.aws_errors("sagemaker", region=region, what=what):
            job = sm.describe_data_quality_job_definition(JobDefinitionName=definition)
        baseline = dict(job.get("DataQualityBaselineConfig") or {})
    stats = (baseline.get("StatisticsResource") or {}).get("S3Uri")
    constraints = (baseline.get("ConstraintsResource") or {}).get("S3Uri")
    if not stats and not constraints:
        raise DataSourceError(
            f"Monitoring schedule {schedule} has no baseline (no statistics or constraints resource).",
            hint="Give the baseline's statistics.json S3 URI instead.",
        )
    return stats, constraints


def load_baseline(
    session: boto3.Session, uri_or_schedule: str | Sequence[str], *, endpoint_url: str | None = None
) -> tuple[Baseline | None, Constraints | None]:
    """A Model Monitor baseline from S3: ``statistics.json`` and ``constraints.json``.

    Parameters
    ----------
    session
        From :func:`lib.make_session`.
    uri_or_schedule
        One of: an ``s3://…/statistics.json`` URI (its sibling ``constraints.json`` is read too
        when it exists), an ``s3://…/constraints.json`` URI (likewise with ``statistics.json``), an
        ``s3://`` folder holding both, a list of such URIs, or a monitoring schedule name (its
        ``BaselineConfig``, directly or through its data-quality job definition).
    endpoint_url
        One endpoint URL for S3 and SageMaker (moto, LocalStack); default: boto3's resolution.

    Returns
    -------
    tuple
        ``(Baseline | None, Constraints | None)``: a file that does not exist is None when it was
        only guessed (a sibling); a URI named explicitly or by the schedule must exist.

    Raises
    ------
    InputError
        If a file is not the Model Monitor file it should be.
    DataSourceError
        Access denied (names ``s3:GetObject`` or ``sagemaker:DescribeMonitoringSchedule``), a
        missing object, no baseline found at all.
    """
    region = session.region_name
    stats_uri: str | None = None
    constraints_uri: str | None = None
    required: set[str] = set()
    given = [uri_or_schedule] if isinstance(uri_or_schedule, str) else list(uri_or_schedule)
    if len(given) == 1 and not is_s3_uri(given[0]):
        sm = aws.make_client(session, "sagemaker", endpoint_url)
        stats_uri, constraints_uri = schedule_baseline_uris(sm, given[0].strip(), region=region)
        required = {u for u in (stats_uri, constraints_uri) if u}
    else:
        for uri in given:
            if not is_s3_uri(uri):
                raise InputError(f"{uri!r} is not an s3:// URI.", hint="Give S3 URIs, or one schedule name.")
            folder, _, leaf = uri.strip().rpartition("/")
            if leaf == "statistics.json" or leaf.endswith("statistics.json"):
                stats_uri = uri.strip()
                constraints_uri = constraints_uri or f"{folder}/constraints.json"
                required.add(stats_uri)
            elif leaf.endswith("constraints.json"):
                constraints_uri = uri.strip()
                stats_uri = stats_uri or f"{folder}/statistics.json"
                required.add(constraints_uri)
            else:  # a folder
                base = uri.strip().rstrip("/")
                stats_uri = stats_uri or f"{base}/statistics.json"
                constraints_uri = constraints_uri or f"{base}/constraints.json"
    s3 = aws.make_client(session, "s3", endpoint_url)
    stats_raw = _read_optional(s3, stats_uri, stats_uri in required, region)
    cons_raw = _read_optional(s3, constraints_uri, constraints_uri in required, region)
    if stats_raw is None and cons_raw is None:
        raise DataSourceError(
            f"No statistics.json or constraints.json at {stats_uri} / {constraints_uri}.",
            hint="Give the S3 URI of the baseline job's statistics.json.",
        )
    baseline = read_statistics(NamedBytes(stats_raw, "statistics.json")) if stats_raw is not None else None
    constraints = read_constraints(NamedBytes(cons_raw, "constraints.json")) if cons_raw is not None else None
    return baseline, constraints


def _read_optional(s3: S3Client, uri: str | None, required: bool, region: str | None) -> bytes | None:
    if not uri:
        return None
    bucket, key = parse_s3_uri(uri)
    try:
        return read_body(s3, bucket, key, region=region)
    except DataSourceError as err:
        cause = err.__cause__
        missing = isinstance(cause, bexc.ClientError) and aws.error_code(cause) in MISSING_KEY_CODES
        if missing and not required:
            return None
        raise


def monitoring_history(
    session: boto3.Session,
    schedule: str,
    *,
    max_executions: int = 50,
    endpoint_url: str | None = None,
) -> pd.DataFrame:
    """Recent executions of a monitoring schedule and the violations each one reported.

    ListMonitoringExecutions (newest first, up to ``max_executions``); for each finished
    execution, its processing job's output folder (DescribeProcessingJob) and the
    ``constraint_violations.json`` in it, parsed by :func:`lib.sources.monitor_files.read_violations`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`HISTORY_COLUMNS`, one row per violation; an execution without violations
        (or not finished, or whose report could not be read) is one row with ``feature_name``
        None (a failed one has its ``FailureReason`` as ``description``). Newest first.
        ``frame.attrs["warnings"]`` lists reports that could not be read (e.g. the missing
        ``sagemaker:DescribeProcessingJob`` or ``s3:GetObject`` permission).

    Raises
    ------
    InputError
        If ``max_executions`` < 1.
    DataSourceError
        If the executions cannot be listed (names ``sagemaker:ListMonitoringExecutions``).
    """
    if max_executions < 1:
        raise InputError("max_executions must be at least 1.")
    region = session.region_name
    sm = aws.make_client(session, "sagemaker", endpoint_url)
    s3 = aws.make_client(session, "s3", endpoint_url)
    executions: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "MonitoringScheduleName": schedule,
        "SortBy": "ScheduledTime",
        "SortOrder": "Descending",
        "MaxResults": min(max_executions, 100),
    }
    with aws.aws_errors("sagemaker", region=region, what=f"listing executions of {schedule}"):
        while len(executions) < max_executions:
            page = sm.list_monitoring_executions(**kwargs)
            executions.extend(dict(e) for e in page.get("MonitoringExecutionSummaries", []))
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    executions = executions[:max_executions]
    with cf.ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        results = list(pool.map(functools.partial(_execution_rows, sm, s3, region), executions))
    rows = [row for found, _ in results for row in found]
    warnings = [w for _, w in results if w]
    frame = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    frame["execution_time"] = pd.to_datetime(frame["execution_time"], utc=True)
    frame.attrs["warnings"] = warnings
    return frame


def _execution_rows(
    sm: SageMakerClient, s3: S3Client, region: str | None, execution: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    status = str(execution.get("MonitoringExecutionStatus", ""))
    arn = execution.get("ProcessingJobArn")
    job = str(arn).rsplit("/", 1)[-1] if arn else None
    base: dict[str, Any] = {
        "execution_time": utc_or_none(execution.get("ScheduledTime")),
        "status": status,
        "feature_name": None,
        "constraint_check_type": None,
        "description": execution.get("FailureReason") or "",
        "processing_job": job,
        "report_uri": None,
    }
    if status not in _FINISHED or not job:
        return [base], None
    try:
        with aws.aws_errors("sagemaker", region=region, what=f"describing processing job {job}"):
            desc = sm.describe_processing_job(ProcessingJobName=job)
        outputs = (desc.get("ProcessingOutputConfig") or {}).get("Outputs") or []
        folders = [o["S3Output"]["S3Uri"] for o in outputs if o.get("S3Output", {}).get("S3Uri")]
        if not folders:
            return [base], f"{job}: the processing job has no S3 output."
        uri = f"{folders[0].rstrip('/')}/constraint_violations.json"
        base["report_uri"] = uri
        raw = _read_optional(s3, uri, required=status == "CompletedWithViolations", region=region)
        if raw is None:
            return [base], None
        violations = read_violations(NamedBytes(raw, "constraint_violations.json"))
    except aws.ACTION_ENDED:
        raise
    except (DataSourceError, InputError) as err:
        return [base], f"{job}: {err}"
    if violations.empty:
        return [base], None
    rows = []
    for v in violations.to_dict("records"):
        rows.append(
            {
                **base,
                "feature_name": v.get("feature_name"),
                "constraint_check_type": v.get("constraint_check_type"),
                "description": v.get("description") or "",
            }
        )
    return rows, None
