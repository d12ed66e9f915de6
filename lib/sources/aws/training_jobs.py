"""Training jobs from SageMaker: find, search, describe -> the jobs frame."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import boto3
import botocore.exceptions as bexc
import pandas as pd

from lib.errors import DataSourceError, InputError
from lib.sources.aws import session as aws
from lib.sources.aws.common import (
    LoadWarning,
    aws_error_code,
    chunks_by_length,
    is_access_denied,
    optional_utc,
    search_time,
    utc_datetime,
)
from lib.sources.sagemaker_json import jobs_frame

if TYPE_CHECKING:  # the stubs are dev-only (requirements-dev.in)
    from mypy_boto3_sagemaker import SageMakerClient

JOB_STATUSES: Final = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting")


SEARCH_PAGE_SIZE: Final = 100  # Search / ListTrainingJobs MaxResults maximum


_IN_VALUE_MAX: Final = 1024  # Search Filter.Value maximum length (for the "In" operator)

#: One TrainingJob record as AWS returns it (Search's ``TrainingJob`` = DescribeTrainingJob's shape).
JobRecord: TypeAlias = Mapping[str, Any]


def find_training_jobs(
    session: boto3.Session,
    *,
    name_contains: str | None = None,
    status: str | None = None,
    created_after: dt.datetime | pd.Timestamp | str | None = None,
    created_before: dt.datetime | pd.Timestamp | str | None = None,
    max_jobs: int = 100,
    endpoint_url: str | None = None,
) -> pd.DataFrame:
    """List training jobs (newest first) as a jobs frame for the "choose jobs" table.

    One ``sagemaker:Search`` call per 100 jobs. Filters are applied by AWS and checked again locally.

    Parameters
    ----------
    session
        From :func:`lib.sources.aws.session.make_session`; its region is used.
    name_contains, status, created_after, created_before
        Optional filters; times are taken as UTC when naive. ``status`` is one of ``JOB_STATUSES``.
    max_jobs
        Stop after this many jobs (1-10,000).
    endpoint_url
        Override the SageMaker endpoint (else boto3's resolution, incl. ``AWS_ENDPOINT_URL``).

    Returns
    -------
    pandas.DataFrame
        Jobs frame (``lib.schema.validate_jobs``); ``attrs["warnings"]`` lists :class:`LoadWarning`.

    Raises
    ------
    InputError
        For an unknown status, reversed time range or a bad ``max_jobs``.
    DataSourceError
        If the jobs cannot be listed (credentials, permission, network, throttling).
    """
    check_filters(status, created_after, created_before, max_jobs)  # before building any client
    sagemaker = aws.make_client(session, "sagemaker", endpoint_url)
    records, warnings = fetch_job_records(
        sagemaker,
        name_contains=name_contains,
        status=status,
        created_after=created_after,
        created_before=created_before,
        max_jobs=max_jobs,
        region=session.region_name,
    )
    jobs = jobs_frame(records)
    jobs.attrs["warnings"] = warnings
    return jobs


def defined_metric_names(jobs: pd.DataFrame) -> list[str]:
    """Metric names from the jobs' ``MetricDefinitions`` (``metric_definitions`` JSON column), in order."""
    names: dict[str, None] = {}
    if "metric_definitions" not in jobs.columns:
        return []
    for text in jobs["metric_definitions"].dropna():
        try:
            defs = json.loads(text)
        except (TypeError, ValueError):
            continue
        names.update({str(d["Name"]): None for d in defs if isinstance(d, dict) and d.get("Name")})
    return list(names)


def fetch_job_records(
    sagemaker: SageMakerClient,
    *,
    name_contains: str | None = None,
    status: str | None = None,
    created_after: dt.datetime | pd.Timestamp | str | None = None,
    created_before: dt.datetime | pd.Timestamp | str | None = None,
    job_names: Sequence[str] | None = None,
    max_jobs: int = 100,
    region: str | None = None,
) -> tuple[list[JobRecord], list[LoadWarning]]:
    """Full TrainingJob records (Search shape = DescribeTrainingJob shape), newest first.

    Uses Search (one call per 100 jobs); if Search is denied, ListTrainingJobs + DescribeTrainingJob.
    With ``job_names`` the records come back in that order and missing names become warnings.

    Raises
    ------
    InputError, DataSourceError
        As in :func:`find_training_jobs`.
    """
    after, before = check_filters(status, created_after, created_before, max_jobs)
    warnings: list[LoadWarning] = []
    names = list(dict.fromkeys(job_names)) if job_names is not None else None
    try:
        with aws.aws_errors("sagemaker", region=region, what="searching training jobs"):
            if names is not None:
                records = _search_by_names(sagemaker, names)
            else:
                records = _search(sagemaker, name_contains, status, after, before, max_jobs)
    except DataSourceError as err:
        if names is not None and aws_error_code(err) == "ValidationException":
            # Should the "In" operator be refused, one DescribeTrainingJob per chosen job still works.
            warnings.append(
                LoadWarning("jobs", "Search by job names was refused; used DescribeTrainingJob per job.")
            )
            with aws.aws_errors("sagemaker", region=region, what="describing training jobs"):
                records = _describe_jobs(sagemaker, names)
            return _select(records, names, name_contains, status, after, before, max_jobs, warnings)
        if not is_access_denied(err):
            raise
        warnings.append(
            LoadWarning(
                "jobs",
                "sagemaker:Search is not allowed; used ListTrainingJobs + DescribeTrainingJob "
                "(one call per job) instead.",
                hint="Allow sagemaker:Search for faster loading.",
            )
        )
        with aws.aws_errors("sagemaker", region=region, what="listing training jobs"):
            wanted = names
            if wanted is None:
                wanted = _list_job_names(sagemaker, name_contains, status, after, before, max_jobs)
            records = _describe_jobs(sagemaker, wanted)
    return _select(records, names, name_contains, status, after, before, max_jobs, warnings)


def _select(
    records: list[JobRecord],
    names: list[str] | None,
    name_contains: str | None,
    status: str | None,
    after: dt.datetime | None,
    before: dt.datetime | None,
    max_jobs: int,
    warnings: list[LoadWarning],
) -> tuple[list[JobRecord], list[LoadWarning]]:
    """Re-check the filters locally; order by the chosen names, or newest first capped at max_jobs."""
    records = [r for r in records if _matches(r, name_contains, status, after, before)]
    if names is not None:
        by_name = {r["TrainingJobName"]: r for r in records}
        missing = [n for n in names if n not in by_name]
        if missing:
            warnings.append(
                LoadWarning(
                    "jobs",
                    f"{len(missing)} training job(s) not found in this account/region"
                    + (" (or outside the filters)" if (name_contains or status or after or before) else "")
                    + f": {', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}.",
                    hint="Check the region and the job names.",
                    jobs=tuple(missing),
                )
            )
        records = [by_name[n] for n in names if n in by_name]
    else:
        records.sort(key=lambda r: (utc_datetime(r["CreationTime"]), r["TrainingJobName"]), reverse=True)
        records = records[:max_jobs]
    return records, warnings


def _search(
    sagemaker: SageMakerClient,
    name_contains: str | None,
    status: str | None,
    after: dt.datetime | None,
    before: dt.datetime | None,
    max_jobs: int,
) -> list[JobRecord]:
    filters: list[dict[str, str]] = []
    if name_contains:
        filters.append({"Name": "TrainingJobName", "Operator": "Contains", "Value": name_contains})
    if status:
        filters.append({"Name": "TrainingJobStatus", "Operator": "Equals", "Value": status})
    if after is not None:
        filters.append(
            {"Name": "CreationTime", "Operator": "GreaterThanOrEqualTo", "Value": search_time(after)}
        )
    if before is not None:
        filters.append({"Name": "CreationTime", "Operator": "LessThan", "Value": search_time(before)})
    kwargs: dict[str, Any] = {"Resource": "TrainingJob", "SortBy": "CreationTime", "SortOrder": "Descending"}
    if filters:
        kwargs["SearchExpression"] = {"Filters": filters}
    return _search_training_jobs(sagemaker, kwargs, limit=max_jobs)


def _search_training_jobs(
    sagemaker: SageMakerClient, request: dict[str, Any], *, limit: int | None = None
) -> list[JobRecord]:
    """Every ``TrainingJob`` record of a Search request, page by page (at most ``limit``).

    Pages ask for no more than what is still wanted, so the last call does not over-fetch.
    """
    records: list[JobRecord] = []
    token: str | None = None
    while limit is None or len(records) < limit:
        wanted = SEARCH_PAGE_SIZE if limit is None else min(SEARCH_PAGE_SIZE, limit - len(records))
        page = {**request, "MaxResults": wanted}
        if token:
            page["NextToken"] = token
        resp = sagemaker.search(**page)
        records.extend(r["TrainingJob"] for r in resp.get("Results", []) if "TrainingJob" in r)
        token = resp.get("NextToken")
        if not token:
            break
    return records


def _search_by_names(sagemaker: SageMakerClient, names: Sequence[str]) -> list[JobRecord]:
    # "In" takes a comma-separated list ≤1024 chars; ORing several In filters keeps ≤100 names (one
    # page) per call. Job names are [a-zA-Z0-9-] only, so commas cannot clash.
    records: list[JobRecord] = []
    for start in range(0, len(names), SEARCH_PAGE_SIZE):
        group = names[start : start + SEARCH_PAGE_SIZE]
        filters = [
            {"Name": "TrainingJobName", "Operator": "In", "Value": ",".join(chunk)}
            for chunk in chunks_by_length(group, _IN_VALUE_MAX)
        ]
        expression: dict[str, Any] = {"Filters": filters}
        if len(filters) > 1:
            expression["Operator"] = "Or"
        records.extend(
            _search_training_jobs(sagemaker, {"Resource": "TrainingJob", "SearchExpression": expression})
        )
    return records


def _list_job_names(
    sagemaker: SageMakerClient,
    name_contains: str | None,
    status: str | None,
    after: dt.datetime | None,
    before: dt.datetime | None,
    max_jobs: int,
) -> list[str]:
    kwargs: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Descending"}
    if name_contains:
        kwargs["NameContains"] = name_contains
    if status:
        kwargs["StatusEquals"] = status
    if after is not None:
        kwargs["CreationTimeAfter"] = after
    if before is not None:
        kwargs["CreationTimeBefore"] = before
    names: list[str] = []
    # With StatusEquals AWS fetches MaxResults jobs and *then* filters, so pages can be short: keep
    # following the token until we have enough.
    for page in sagemaker.get_paginator("list_training_jobs").paginate(
        **kwargs, PaginationConfig={"PageSize": SEARCH_PAGE_SIZE}
    ):
        names.extend(s["TrainingJobName"] for s in page.get("TrainingJobSummaries", []))
        if len(names) >= max_jobs:
            break
    return names[:max_jobs]


def _describe_jobs(sagemaker: SageMakerClient, names: Sequence[str]) -> list[JobRecord]:
    records: list[JobRecord] = []
    for name in names:
        try:
            records.append(sagemaker.describe_training_job(TrainingJobName=name))
        except bexc.ClientError as err:
            if aws.error_code(err) != "ValidationException":  # = "Could not find training job"
                raise
    return records


def check_filters(
    status: str | None, created_after: Any, created_before: Any, max_jobs: int
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Validate the job filters; return the creation-time bounds as UTC datetimes."""
    after, before = (
        optional_utc(created_after, "created_after"),
        optional_utc(created_before, "created_before"),
    )
    if status is not None and status not in JOB_STATUSES:
        raise InputError(f"Unknown job status {status!r}.", hint=f"Use one of: {', '.join(JOB_STATUSES)}.")
    if after is not None and before is not None and after >= before:
        raise InputError("The creation-time range is empty (start is not before end).")
    if not 1 <= int(max_jobs) <= 10_000:
        raise InputError(f"max_jobs must be between 1 and 10000, not {max_jobs}.")
    return after, before


def _matches(
    rec: Mapping[str, Any],
    name_contains: str | None,
    status: str | None,
    after: dt.datetime | None,
    before: dt.datetime | None,
) -> bool:
    created = utc_datetime(rec["CreationTime"])
    return (
        (not name_contains or name_contains.lower() in str(rec["TrainingJobName"]).lower())
        and (not status or rec.get("TrainingJobStatus") == status)
        and (after is None or created >= after)
        and (before is None or created < before)
    )
