"""Live source: SageMaker training jobs, their CloudWatch metrics and logs → canonical frames.

Few calls by design (the UI caches results; this module keeps the count minimal and deterministic):

* jobs: ``sagemaker:Search`` (``Resource="TrainingJob"``) returns full records — times, status,
  hyperparameters, ``FinalMetricDataList``, ``SecondaryStatusTransitions`` *and*
  ``AlgorithmSpecification.MetricDefinitions`` — 100 per call. If Search is denied we fall back to
  ListTrainingJobs + one DescribeTrainingJob per job, and say so in the warnings.
* metrics: every job × metric series goes into batched ``GetMetricData`` calls (≤500 queries a call,
  ``ScanBy=TimestampAscending``, NextToken followed), one batch per CloudWatch retention band (the
  period a query may use depends on how old its StartTime is). 60 jobs × 2 metrics = 1 call.
* logs (optional): one ``DescribeLogStreams`` per job, then ``FilterLogEvents`` over ≤100 streams at
  a time, parsed by :func:`lib.sources.logs.parse_log_lines` with the job's own MetricDefinitions.

Partial results are kept and labelled rather than hidden: series whose final ``StatusCode`` is not
``Complete`` get ``partial=True``, and everything that failed (a batch, a job's logs, a status) is
recorded as :class:`LoadWarning` objects in ``frame.attrs["warnings"]`` of both returned frames. A
load raises :class:`~lib.errors.DataSourceError` only when nothing at all could be loaded at a stage
the caller asked for (no jobs listed, or every metric/log request failed).

Rows carry a ``source`` column: ``"cloudwatch"`` (per-period averages from GetMetricData) or
``"logs"`` (per-epoch values parsed from the job's log streams), so callers can pick one per chart.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import boto3
import botocore.exceptions as bexc
import pandas as pd

from lib.errors import AppError, DataSourceError, InputError
from lib.schema import empty_metrics, validate_jobs, validate_metrics
from lib.sources.aws import session as aws

NAMESPACE: Final = "/aws/sagemaker/TrainingJobs"
LOG_GROUP: Final = "/aws/sagemaker/TrainingJobs"
JOB_DIMENSION: Final = "TrainingJobName"
HOST_DIMENSION: Final = "Host"
INSTANCE_METRICS: Final = (
    "CPUUtilization",
    "MemoryUtilization",
    "GPUUtilization",
    "GPUMemoryUtilization",
    "DiskUtilization",
)
JOB_STATUSES: Final = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting")
MAX_QUERIES_PER_CALL: Final = 500  # GetMetricData hard limit
SEARCH_PAGE_SIZE: Final = 100  # Search / ListTrainingJobs MaxResults maximum
MAX_STREAMS_PER_FILTER: Final = 100  # FilterLogEvents logStreamNames maximum
_IN_VALUE_MAX: Final = 1024  # Search Filter.Value maximum length (for the "In" operator)

#: ``progress(fraction, text)``; fraction in [0, 1], non-decreasing within one load.
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class LoadWarning:
    """Something that did not load (or loaded incompletely); the rest of the result is still valid."""

    stage: str  # "jobs" | "metrics" | "logs"
    message: str
    hint: str | None = None
    jobs: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeriesQuery:
    """One CloudWatch series to fetch: an algorithm metric (host None) or an instance metric."""

    job: str
    metric: str
    start: dt.datetime
    end: dt.datetime
    host: str | None = None


# ---------------------------------------------------------------- public, session level


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
        From :func:`lib.aws.make_session`; its region is used.
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
    _check_filters(status, created_after, created_before, max_jobs)  # before building any client
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


def load_training_jobs(
    session: boto3.Session,
    *,
    name_contains: str | None = None,
    status: str | None = None,
    created_after: dt.datetime | pd.Timestamp | str | None = None,
    created_before: dt.datetime | pd.Timestamp | str | None = None,
    metric_names: Sequence[str] | None = None,
    include_logs: bool = False,
    progress: Progress | None = None,
    job_names: Sequence[str] | None = None,
    max_jobs: int = 100,
    endpoint_url: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load training jobs and their metric curves from SageMaker and CloudWatch.

    Parameters
    ----------
    session
        From :func:`lib.aws.make_session` (credentials from boto3's standard chain only).
    name_contains, status, created_after, created_before, max_jobs
        Which jobs, as in :func:`find_training_jobs`. Ignored for selection when ``job_names`` is
        given (then they only narrow the named jobs).
    metric_names
        Metrics to fetch for every job; default: each job's own ``MetricDefinitions`` names (or, for a
        job without definitions, what CloudWatch ListMetrics has for it).
    include_logs
        Also parse the jobs' CloudWatch log streams for per-epoch values (``source="logs"`` rows).
    progress
        ``progress(fraction, text)`` called at fixed steps while loading.
    job_names
        Load exactly these jobs (e.g. the rows chosen in the table).
    endpoint_url
        One endpoint for every service (moto/LocalStack); else boto3's resolution (``AWS_ENDPOINT_URL``).
    now
        The current time (tests); default ``datetime.now(UTC)``.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(jobs, metrics)``: the jobs frame and the canonical metrics frame with extra columns
        ``host`` (None for algorithm metrics), ``source`` and ``partial``. Both carry the same
        ``attrs["warnings"]`` list of :class:`LoadWarning` (empty when everything loaded).

    Raises
    ------
    InputError
        For invalid filter arguments.
    DataSourceError
        If no jobs can be listed, or every metric (and log) request failed.
    """
    _check_filters(status, created_after, created_before, max_jobs)  # before building any client
    report = _progress_reporter(progress)
    now = _utc(now) if now is not None else dt.datetime.now(dt.UTC)
    region = session.region_name
    sagemaker = aws.make_client(session, "sagemaker", endpoint_url)
    report(0.0, "Listing training jobs")
    records, warnings = fetch_job_records(
        sagemaker,
        name_contains=name_contains,
        status=status,
        created_after=created_after,
        created_before=created_before,
        job_names=job_names,
        max_jobs=max_jobs,
        region=region,
    )
    jobs = jobs_frame(records)
    report(0.1, f"Found {len(records)} training job(s)")
    if not records:
        jobs.attrs["warnings"] = warnings
        metrics = _finish_metrics([])
        metrics.attrs["warnings"] = warnings
        report(1.0, "No training jobs matched")
        return jobs, metrics

    cloudwatch = aws.make_client(session, "cloudwatch", endpoint_url)
    names_by_job, name_warnings = _metric_names_by_job(cloudwatch, records, metric_names, region=region)
    warnings.extend(name_warnings)
    queries = [
        SeriesQuery(job=job, metric=metric, start=start, end=end)
        for job, start, end in _job_windows(records, now)
        for metric in names_by_job.get(job, ())
    ]
    metric_end = 0.7 if include_logs else 0.95
    frames: list[pd.DataFrame] = []
    failures: list[DataSourceError] = []
    succeeded = False
    if queries:
        cw_frame, cw_warnings, cw_errors, cw_ok = fetch_metric_data(
            cloudwatch,
            queries,
            now=now,
            region=region,
            progress=lambda f, t: report(0.1 + f * (metric_end - 0.1), t),
        )
        frames.append(cw_frame)
        warnings.extend(cw_warnings)
        failures.extend(cw_errors)
        succeeded |= cw_ok
    if include_logs:
        logs = aws.make_client(session, "logs", endpoint_url)
        log_frame, log_warnings, log_errors, log_ok = fetch_log_metrics(
            logs,
            records,
            region=region,
            progress=lambda f, t: report(metric_end + f * (0.95 - metric_end), t),
        )
        frames.append(log_frame)
        warnings.extend(log_warnings)
        failures.extend(log_errors)
        succeeded |= log_ok
    if failures and not succeeded:
        raise failures[0]
    metrics = _finish_metrics(frames)
    jobs.attrs["warnings"] = warnings
    metrics.attrs["warnings"] = warnings
    report(1.0, f"Loaded {len(metrics)} datapoint(s) for {len(records)} job(s)")
    return jobs, metrics


def load_instance_metrics(
    session: boto3.Session,
    jobs: Sequence[str] | pd.DataFrame,
    *,
    metric_names: Sequence[str] = INSTANCE_METRICS,
    endpoint_url: str | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """CPU/GPU/memory/disk utilisation of each job's instances (``Host = <job>/algo-N``).

    Parameters
    ----------
    session
        From :func:`lib.aws.make_session`.
    jobs
        Job names (their records are fetched with one Search call per 100) or a jobs frame from
        :func:`find_training_jobs` / :func:`load_training_jobs` (no SageMaker call then).
    metric_names
        Instance metrics to fetch; GPU metrics are simply empty on CPU instances.

    Returns
    -------
    pandas.DataFrame
        Canonical metrics frame with ``host`` (``algo-1``, ``algo-2`` ...), ``source`` and ``partial``;
        one row per host and period (see :func:`combine_hosts` for one series per job).
        ``attrs["warnings"]`` as in :func:`load_training_jobs`.

    Raises
    ------
    DataSourceError
        If the jobs cannot be looked up or every GetMetricData call failed.
    """
    report = _progress_reporter(progress)
    now = _utc(now) if now is not None else dt.datetime.now(dt.UTC)
    region = session.region_name
    warnings: list[LoadWarning] = []
    report(0.0, "Looking up jobs")
    if isinstance(jobs, pd.DataFrame):
        windows = _frame_windows(jobs, now)
    else:
        sagemaker = aws.make_client(session, "sagemaker", endpoint_url)
        records, warnings = fetch_job_records(sagemaker, job_names=list(jobs), region=region)
        windows = [
            (job, start, end, _instance_count(rec))
            for rec, (job, start, end) in zip(records, _job_windows(records, now), strict=True)
        ]
    queries = [
        SeriesQuery(job=job, metric=metric, start=start, end=end, host=f"{job}/algo-{i}")
        for job, start, end, count in windows
        for i in range(1, max(count, 1) + 1)
        for metric in metric_names
    ]
    if not queries:
        out = _finish_metrics([])
        out.attrs["warnings"] = warnings
        return out
    cloudwatch = aws.make_client(session, "cloudwatch", endpoint_url)
    frame, cw_warnings, errors, ok = fetch_metric_data(
        cloudwatch, queries, now=now, region=region, progress=lambda f, t: report(0.1 + 0.85 * f, t)
    )
    if errors and not ok:
        raise errors[0]
    out = _finish_metrics([frame])
    out.attrs["warnings"] = [*warnings, *cw_warnings]
    report(1.0, f"Loaded {len(out)} instance datapoint(s)")
    return out


def combine_hosts(metrics: pd.DataFrame, *, how: str = "mean") -> pd.DataFrame:
    """One series per (job, metric): aggregate the hosts' values per timestamp (``host="all"``).

    ``how`` is a pandas aggregation name (``mean``, ``max``, ``min``, ``sum``); ``partial`` is True
    where any host's series was partial. The input is not modified.
    """
    if metrics.empty:
        return metrics.copy()
    keys = ["job", "metric", "timestamp"]
    extra = {"partial": "any"} if "partial" in metrics.columns else {}
    grouped = metrics.groupby(keys, sort=True).agg(
        value=("value", how), **{c: (c, a) for c, a in extra.items()}
    )
    out = grouped.reset_index()
    out["host"] = "all"
    if "source" in metrics.columns:
        out["source"] = "cloudwatch"
    return validate_metrics(out, source="combine_hosts")


# ---------------------------------------------------------------- for the app (one call per load)

#: Columns of the "choose jobs" table, in order (all present in :func:`jobs_frame` output).
JOB_LIST_COLUMNS: Final = (
    "job",
    "status",
    "created",
    "start",
    "end",
    "training_seconds",
    "instance_type",
    "instance_count",
)


@dataclass(frozen=True)
class LiveLoad:
    """What one "Load" produced: frames ready for the charts, plus what went wrong and what we chose.

    ``warnings`` are the :class:`LoadWarning` objects of every stage; ``notes`` say in plain words how
    the series were picked (e.g. per-epoch log values preferred over CloudWatch averages).
    """

    jobs: pd.DataFrame
    metrics: pd.DataFrame
    warnings: tuple[LoadWarning, ...] = ()
    notes: tuple[str, ...] = ()


def load_jobs_for_charts(
    session: boto3.Session,
    job_names: Sequence[str],
    *,
    metric_names: Sequence[str] | None = None,
    include_logs: bool = False,
    instance_metrics: bool = False,
    endpoint_url: str | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> LiveLoad:
    """Load the named jobs' curves (and optionally their instances' utilisation) for the charts.

    :func:`load_training_jobs`, then, with ``instance_metrics``, :func:`load_instance_metrics`
    combined across hosts (mean per timestamp; a failure there becomes a warning, the training
    curves are kept). Where the logs gave a (job, metric) series, its CloudWatch twin is dropped
    (:func:`prefer_log_series`) so each curve is drawn once, with epochs.

    Raises
    ------
    DataSourceError
        As :func:`load_training_jobs` (nothing at all could be loaded).
    """
    report = _progress_reporter(progress)
    share = 0.8 if instance_metrics else 1.0
    jobs, metrics = load_training_jobs(
        session,
        job_names=list(job_names),
        metric_names=metric_names,
        include_logs=include_logs,
        max_jobs=max(len(job_names), 1),
        endpoint_url=endpoint_url,
        progress=lambda f, t: report(f * share, t),
        now=now,
    )
    warnings = list(metrics.attrs.get("warnings", []))
    notes: list[str] = []
    chart_metrics = prefer_log_series(metrics)
    replaced = metrics.loc[metrics["source"] == "cloudwatch", ["job", "metric"]].drop_duplicates()
    kept = chart_metrics.loc[chart_metrics["source"] == "cloudwatch", ["job", "metric"]].drop_duplicates()
    if len(replaced) > len(kept):
        notes.append(
            f"{len(replaced) - len(kept)} series use the per-epoch values from the training logs instead "
            "of CloudWatch's per-minute averages of the same metric (logs give epochs, and each curve "
            "is drawn once); CloudWatch series are kept where the logs have none."
        )
    frames = [chart_metrics]
    if instance_metrics and len(jobs):
        try:
            hosts = load_instance_metrics(
                session,
                jobs,
                endpoint_url=endpoint_url,
                progress=lambda f, t: report(share + f * (1 - share), t),
                now=now,
            )
        except DataSourceError as err:
            warnings.append(LoadWarning("instances", err.message, err.hint, jobs=tuple(jobs["job"])))
        else:
            warnings.extend(hosts.attrs.get("warnings", []))
            if len(hosts):
                frames.append(combine_hosts(hosts))
                notes.append("Instance metrics (CPU, GPU, memory, disk) are the mean over each job's hosts.")
    merged = _finish_metrics(frames)
    report(1.0, f"Loaded {len(merged):,} points for {len(jobs)} job(s)")
    return LiveLoad(jobs=jobs, metrics=merged, warnings=tuple(warnings), notes=tuple(notes))


def prefer_log_series(metrics: pd.DataFrame) -> pd.DataFrame:
    """Drop CloudWatch rows of each (job, metric) that also has rows from the logs.

    Both describe the same curve: the logs per epoch (exact values, with ``epoch``), CloudWatch as
    per-minute averages. Keeping one avoids drawing every curve twice. The input is not modified.
    """
    if metrics.empty or "source" not in metrics.columns:
        return metrics.copy()
    from_logs = metrics.loc[metrics["source"] == "logs", ["job", "metric"]].drop_duplicates()
    if from_logs.empty:
        return metrics.copy()
    keys = pd.MultiIndex.from_frame(metrics[["job", "metric"]])
    twin = keys.isin(pd.MultiIndex.from_frame(from_logs)) & (metrics["source"] == "cloudwatch").to_numpy()
    return metrics.loc[~twin].reset_index(drop=True)


def without_live_rows(metrics: pd.DataFrame, jobs: Iterable[str]) -> pd.DataFrame:
    """``metrics`` minus earlier live-loaded rows (``source`` set) of ``jobs``: a reload replaces them.

    Rows from uploaded files (no ``source``) are kept. The input is not modified.
    """
    if "source" not in metrics.columns:
        return metrics.copy()
    stale = metrics["job"].isin(list(jobs)) & metrics["source"].notna()
    return metrics.loc[~stale].reset_index(drop=True)


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


# ---------------------------------------------------------------- jobs (client level)


def fetch_job_records(
    sagemaker: Any,
    *,
    name_contains: str | None = None,
    status: str | None = None,
    created_after: dt.datetime | pd.Timestamp | str | None = None,
    created_before: dt.datetime | pd.Timestamp | str | None = None,
    job_names: Sequence[str] | None = None,
    max_jobs: int = 100,
    region: str | None = None,
) -> tuple[list[dict[str, Any]], list[LoadWarning]]:
    """Full TrainingJob records (Search shape = DescribeTrainingJob shape), newest first.

    Uses Search (one call per 100 jobs); if Search is denied, ListTrainingJobs + DescribeTrainingJob.
    With ``job_names`` the records come back in that order and missing names become warnings.

    Raises
    ------
    InputError, DataSourceError
        As in :func:`find_training_jobs`.
    """
    after, before = _check_filters(status, created_after, created_before, max_jobs)
    warnings: list[LoadWarning] = []
    names = list(dict.fromkeys(job_names)) if job_names is not None else None
    try:
        with aws.aws_errors("sagemaker", region=region, what="searching training jobs"):
            if names is not None:
                records = _search_by_names(sagemaker, names)
            else:
                records = _search(sagemaker, name_contains, status, after, before, max_jobs)
    except DataSourceError as err:
        if names is not None and _error_code(err) == "ValidationException":
            # Should the "In" operator be refused, one DescribeTrainingJob per chosen job still works.
            warnings.append(
                LoadWarning("jobs", "Search by job names was refused; used DescribeTrainingJob per job.")
            )
            with aws.aws_errors("sagemaker", region=region, what="describing training jobs"):
                records = _describe_jobs(sagemaker, names)
            return _select(records, names, name_contains, status, after, before, max_jobs, warnings)
        if not _is_access_denied(err):
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
    records: list[dict[str, Any]],
    names: list[str] | None,
    name_contains: str | None,
    status: str | None,
    after: dt.datetime | None,
    before: dt.datetime | None,
    max_jobs: int,
    warnings: list[LoadWarning],
) -> tuple[list[dict[str, Any]], list[LoadWarning]]:
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
        records.sort(key=lambda r: (_utc(r["CreationTime"]), r["TrainingJobName"]), reverse=True)
        records = records[:max_jobs]
    return records, warnings


def _search(
    sagemaker: Any,
    name_contains: str | None,
    status: str | None,
    after: dt.datetime | None,
    before: dt.datetime | None,
    max_jobs: int,
) -> list[dict[str, Any]]:
    filters: list[dict[str, str]] = []
    if name_contains:
        filters.append({"Name": "TrainingJobName", "Operator": "Contains", "Value": name_contains})
    if status:
        filters.append({"Name": "TrainingJobStatus", "Operator": "Equals", "Value": status})
    if after is not None:
        filters.append({"Name": "CreationTime", "Operator": "GreaterThanOrEqualTo", "Value": _iso(after)})
    if before is not None:
        filters.append({"Name": "CreationTime", "Operator": "LessThan", "Value": _iso(before)})
    kwargs: dict[str, Any] = {"Resource": "TrainingJob", "SortBy": "CreationTime", "SortOrder": "Descending"}
    if filters:
        kwargs["SearchExpression"] = {"Filters": filters}
    return _search_training_jobs(sagemaker, kwargs, limit=max_jobs)


def _search_training_jobs(
    sagemaker: Any, request: dict[str, Any], *, limit: int | None = None
) -> list[dict[str, Any]]:
    """Every ``TrainingJob`` record of a Search request, page by page (at most ``limit``).

    Pages ask for no more than what is still wanted, so the last call does not over-fetch.
    """
    records: list[dict[str, Any]] = []
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


def _search_by_names(sagemaker: Any, names: Sequence[str]) -> list[dict[str, Any]]:
    # "In" takes a comma-separated list ≤1024 chars; ORing several In filters keeps ≤100 names (one
    # page) per call. Job names are [a-zA-Z0-9-] only, so commas cannot clash.
    records: list[dict[str, Any]] = []
    for start in range(0, len(names), SEARCH_PAGE_SIZE):
        group = names[start : start + SEARCH_PAGE_SIZE]
        filters = [
            {"Name": "TrainingJobName", "Operator": "In", "Value": ",".join(chunk)}
            for chunk in _chunks_by_length(group, _IN_VALUE_MAX)
        ]
        expression: dict[str, Any] = {"Filters": filters}
        if len(filters) > 1:
            expression["Operator"] = "Or"
        records.extend(
            _search_training_jobs(sagemaker, {"Resource": "TrainingJob", "SearchExpression": expression})
        )
    return records


def _list_job_names(
    sagemaker: Any,
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


def _describe_jobs(sagemaker: Any, names: Sequence[str]) -> list[dict[str, Any]]:
    records = []
    for name in names:
        try:
            records.append(sagemaker.describe_training_job(TrainingJobName=name))
        except bexc.ClientError as err:
            if aws.error_code(err) != "ValidationException":  # = "Could not find training job"
                raise
    return records


def jobs_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Flatten TrainingJob records into the jobs frame (``hp.*``, ``final.*``, ``phase.*_s`` columns).

    ``training_seconds`` is ``TrainingTimeInSeconds`` when AWS reports it, else end − start.
    ``phase.<Status>_s`` sums the ``SecondaryStatusTransitions`` durations per status (NaN while a
    phase is still running). Extra columns: ``secondary_status``, ``last_modified``,
    ``failure_reason``, ``algorithm``, ``metric_definitions`` (JSON list of ``{"Name","Regex"}``).
    """
    rows = [_job_row(r) for r in records]
    frame = validate_jobs(pd.DataFrame(rows) if rows else pd.DataFrame({"job": pd.Series([], dtype="str")}))
    if "last_modified" in frame.columns:
        frame["last_modified"] = pd.to_datetime(frame["last_modified"], utc=True)
    hp = sorted(c for c in frame.columns if c.startswith("hp."))
    for col in hp:
        frame[col] = frame[col].astype("str").where(frame[col].notna(), None)
    for col in (c for c in frame.columns if c.startswith(("final.", "phase."))):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    fixed = [c for c in frame.columns if not c.startswith(("hp.", "final.", "phase."))]
    grouped = [
        *sorted(c for c in frame.columns if c.startswith("phase.")),
        *hp,
        *sorted(c for c in frame.columns if c.startswith("final.")),
    ]
    return frame[[*fixed, *grouped]]


def _job_row(rec: Mapping[str, Any]) -> dict[str, Any]:
    start, end = rec.get("TrainingStartTime"), rec.get("TrainingEndTime")
    seconds = rec.get("TrainingTimeInSeconds")
    if seconds is None and start is not None and end is not None:
        seconds = (_utc(end) - _utc(start)).total_seconds()
    algo = rec.get("AlgorithmSpecification", {}) or {}
    row: dict[str, Any] = {
        "job": rec["TrainingJobName"],
        "status": rec.get("TrainingJobStatus"),
        "created": _utc_or_none(rec.get("CreationTime")),
        "start": _utc_or_none(start),
        "end": _utc_or_none(end),
        "training_seconds": seconds,
        "billable_seconds": rec.get("BillableTimeInSeconds"),
        "instance_type": _instance_type(rec),
        "instance_count": _instance_count(rec),
        "spot": bool(rec.get("EnableManagedSpotTraining", False)),
        "secondary_status": rec.get("SecondaryStatus"),
        "last_modified": _utc_or_none(rec.get("LastModifiedTime")),
        "failure_reason": rec.get("FailureReason"),
        "algorithm": algo.get("AlgorithmName") or algo.get("TrainingImage"),
        "metric_definitions": json.dumps(
            [{"Name": d["Name"], "Regex": d["Regex"]} for d in algo.get("MetricDefinitions", []) or []]
        ),
    }
    phases: dict[str, float] = {}
    for tr in rec.get("SecondaryStatusTransitions", []) or []:
        key = f"phase.{tr['Status']}_s"
        if tr.get("StartTime") is None or tr.get("EndTime") is None:
            phases[key] = math.nan
            continue
        span = (_utc(tr["EndTime"]) - _utc(tr["StartTime"])).total_seconds()
        phases[key] = phases.get(key, 0.0) + span
    row.update(phases)
    for name, value in sorted((rec.get("HyperParameters") or {}).items()):
        row[f"hp.{name}"] = str(value)
    for item in rec.get("FinalMetricDataList", []) or []:
        row[f"final.{item['MetricName']}"] = float(item["Value"])
    return row


def _instance_type(rec: Mapping[str, Any]) -> str | None:
    cfg = rec.get("ResourceConfig", {}) or {}
    if cfg.get("InstanceType"):
        return str(cfg["InstanceType"])
    groups = cfg.get("InstanceGroups") or []
    return ",".join(sorted({str(g["InstanceType"]) for g in groups})) or None


def _instance_count(rec: Mapping[str, Any]) -> int:
    cfg = rec.get("ResourceConfig", {}) or {}
    if cfg.get("InstanceCount"):
        return int(cfg["InstanceCount"])
    return sum(int(g.get("InstanceCount", 0)) for g in cfg.get("InstanceGroups") or []) or 1


# ---------------------------------------------------------------- metrics (client level)


def allowed_period(start: dt.datetime, now: dt.datetime, requested: int = 60) -> int:
    """Smallest period (s) ≥ ``requested`` at which CloudWatch still serves data starting at ``start``.

    Retention: 60 s data for 15 days, 300 s for 63 days, 3600 s for 455 days. A 10-minute margin
    keeps a query from crossing a boundary between planning and the call.
    """
    age = now - start + dt.timedelta(minutes=10)
    floor = 60 if age <= dt.timedelta(days=15) else 300 if age <= dt.timedelta(days=63) else 3600
    period = max(requested, floor)
    return int(math.ceil(period / floor) * floor)


def fetch_metric_data(
    cloudwatch: Any,
    queries: Sequence[SeriesQuery],
    *,
    now: dt.datetime | None = None,
    stat: str = "Average",
    period: int = 60,
    region: str | None = None,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, list[LoadWarning], list[DataSourceError], bool]:
    """Fetch many series with batched GetMetricData calls.

    Series are grouped by the period their age allows, then sent 500 queries a call over the
    group's overall window, following NextToken, ScanBy ascending. A series whose last StatusCode is
    not ``Complete`` is kept with ``partial=True`` and reported.

    Returns
    -------
    tuple
        ``(rows, warnings, errors, any_call_succeeded)``; ``rows`` is an unvalidated long frame
        (``job, metric, host, timestamp, value, partial, source``); ``errors`` holds one translated
        error per failed batch (the other batches are still returned).
    """
    report = _progress_reporter(progress)
    now = _utc(now) if now is not None else dt.datetime.now(dt.UTC)
    bands: dict[int, list[SeriesQuery]] = {}
    for q in queries:
        bands.setdefault(allowed_period(q.start, now, period), []).append(q)
    batches = [
        (p, group[i : i + MAX_QUERIES_PER_CALL])
        for p, group in sorted(bands.items())
        for i in range(0, len(group), MAX_QUERIES_PER_CALL)
    ]
    rows: list[pd.DataFrame] = []
    warnings: list[LoadWarning] = []
    errors: list[DataSourceError] = []
    succeeded = False
    for n, (p, batch) in enumerate(batches):
        report(n / len(batches), f"Fetching metrics ({n + 1}/{len(batches)})")
        start = _floor(min(q.start for q in batch), p)
        end = _floor(max(q.end for q in batch), p) + dt.timedelta(seconds=2 * p)
        try:
            with aws.aws_errors("cloudwatch", region=region, what="fetching metrics"):
                results, messages = _get_metric_data(cloudwatch, batch, start, end, p, stat)
        except DataSourceError as err:
            errors.append(err)
            warnings.append(
                LoadWarning("metrics", err.message, err.hint, jobs=tuple(dict.fromkeys(q.job for q in batch)))
            )
            continue
        succeeded = True
        for msg in messages:
            warnings.append(LoadWarning("metrics", f"CloudWatch: {msg.get('Code')}: {msg.get('Value')}"))
        rows.append(_results_frame(batch, results, warnings))
    report(1.0, "Metrics fetched")
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return frame, warnings, errors, succeeded


def _get_metric_data(
    cloudwatch: Any,
    batch: Sequence[SeriesQuery],
    start: dt.datetime,
    end: dt.datetime,
    period: int,
    stat: str,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, str]]]:
    mdq = []
    for i, q in enumerate(batch):
        dims = (
            [{"Name": HOST_DIMENSION, "Value": q.host}]
            if q.host
            else [{"Name": JOB_DIMENSION, "Value": q.job}]
        )
        mdq.append(
            {
                "Id": f"q{i}",  # must start with a lower-case letter
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": q.metric, "Dimensions": dims},
                    "Period": period,
                    "Stat": stat,
                },
                "ReturnData": True,
            }
        )
    merged: dict[str, dict[str, Any]] = {}
    messages: list[dict[str, str]] = []
    for page in cloudwatch.get_paginator("get_metric_data").paginate(
        MetricDataQueries=mdq, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
    ):
        for res in page.get("MetricDataResults", []):
            acc = merged.setdefault(res["Id"], {"Timestamps": [], "Values": [], "StatusCode": "Complete"})
            acc["Timestamps"].extend(res.get("Timestamps", []))
            acc["Values"].extend(res.get("Values", []))
            acc["StatusCode"] = res.get("StatusCode", "Complete")  # the last page's status is final
            for msg in res.get("Messages", []) or []:
                messages.append(
                    {"Code": msg.get("Code", ""), "Value": f"{res['Id']}: {msg.get('Value', '')}"}
                )
        messages.extend(page.get("Messages", []) or [])
    return merged, messages


def _results_frame(
    batch: Sequence[SeriesQuery], results: Mapping[str, Mapping[str, Any]], warnings: list[LoadWarning]
) -> pd.DataFrame:
    cols: dict[str, list[Any]] = {k: [] for k in ("job", "metric", "host", "timestamp", "value", "partial")}
    bad: dict[str, list[SeriesQuery]] = {}
    for i, q in enumerate(batch):
        res = results.get(f"q{i}")
        if res is None:
            continue
        status = res["StatusCode"]
        if status != "Complete":
            bad.setdefault(status, []).append(q)
        n = len(res["Values"])
        cols["job"] += [q.job] * n
        cols["metric"] += [q.metric] * n
        cols["host"] += [_host_label(q)] * n
        cols["timestamp"] += res["Timestamps"]
        cols["value"] += res["Values"]
        cols["partial"] += [status != "Complete"] * n
    for status, qs in sorted(bad.items()):
        series = ", ".join(f"{q.job} {q.metric}" for q in qs[:5]) + (" …" if len(qs) > 5 else "")
        hint = {
            "PartialData": "Those series are incomplete (marked partial); reload later or narrow the range.",
            "Forbidden": "Allow cloudwatch:GetMetricData on these metrics.",
        }.get(status, "Retry later.")
        warnings.append(
            LoadWarning(
                "metrics",
                f"CloudWatch returned {status} for {len(qs)} series: {series}.",
                hint,
                jobs=tuple(dict.fromkeys(q.job for q in qs)),
            )
        )
    if not cols["job"]:
        return pd.DataFrame()
    frame = pd.DataFrame(cols)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)  # boto3 gives local-tz datetimes
    frame["value"] = frame["value"].astype("float64")
    frame["source"] = "cloudwatch"
    return frame


def _host_label(q: SeriesQuery) -> str | None:
    if q.host is None:
        return None
    prefix = f"{q.job}/"
    return q.host[len(prefix) :] if q.host.startswith(prefix) else q.host


def _metric_names_by_job(
    cloudwatch: Any,
    records: Sequence[Mapping[str, Any]],
    metric_names: Sequence[str] | None,
    *,
    region: str | None,
) -> tuple[dict[str, tuple[str, ...]], list[LoadWarning]]:
    if metric_names is not None:
        names = tuple(dict.fromkeys(metric_names))
        return {r["TrainingJobName"]: names for r in records}, []
    out: dict[str, tuple[str, ...]] = {}
    warnings: list[LoadWarning] = []
    for rec in records:
        job = rec["TrainingJobName"]
        defs = (rec.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
        if defs:
            out[job] = tuple(dict.fromkeys(d["Name"] for d in defs))
            continue
        # No definitions (e.g. a job that publishes with PutMetricData): ask CloudWatch what exists.
        # ListMetrics only lists metrics with data in the last two weeks.
        try:
            with aws.aws_errors("cloudwatch", region=region, what="listing a job's metrics"):
                found: list[str] = []
                for page in cloudwatch.get_paginator("list_metrics").paginate(
                    Namespace=NAMESPACE, Dimensions=[{"Name": JOB_DIMENSION, "Value": job}]
                ):
                    found.extend(m["MetricName"] for m in page.get("Metrics", []))
        except DataSourceError as err:
            warnings.append(LoadWarning("metrics", err.message, err.hint, jobs=(job,)))
            continue
        out[job] = tuple(sorted(set(found)))
    return out, warnings


def _job_windows(
    records: Sequence[Mapping[str, Any]], now: dt.datetime
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    # Same window as the SageMaker SDK: [TrainingStartTime, TrainingEndTime + 1 min]; running jobs
    # end now; jobs that never started fall back to their creation/last-modified times.
    out = []
    for rec in records:
        created = _utc(rec["CreationTime"])
        start = _utc(rec["TrainingStartTime"]) if rec.get("TrainingStartTime") else created
        if rec.get("TrainingEndTime"):
            end = _utc(rec["TrainingEndTime"])
        elif rec.get("TrainingJobStatus") in ("InProgress", "Stopping"):
            end = now
        else:
            end = _utc(rec.get("LastModifiedTime") or now)
        out.append((str(rec["TrainingJobName"]), start, max(end, start) + dt.timedelta(minutes=1)))
    return out


def _frame_windows(jobs: pd.DataFrame, now: dt.datetime) -> list[tuple[str, dt.datetime, dt.datetime, int]]:
    out = []
    for row in jobs.itertuples(index=False):
        created = getattr(row, "created", pd.NaT)
        start = getattr(row, "start", pd.NaT)
        end = getattr(row, "end", pd.NaT)
        start = start if pd.notna(start) else created
        if pd.isna(start):
            continue
        end_t = end if pd.notna(end) else pd.Timestamp(now)
        count = getattr(row, "instance_count", 1)
        out.append(
            (
                str(row.job),
                _utc(start),
                max(_utc(end_t), _utc(start)) + dt.timedelta(minutes=1),
                int(count) if pd.notna(count) else 1,
            )
        )
    return out


# ---------------------------------------------------------------- logs (client level)


def fetch_log_metrics(
    logs: Any,
    records: Sequence[Mapping[str, Any]],
    *,
    region: str | None = None,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, list[LoadWarning], list[DataSourceError], bool]:
    """Parse the jobs' log streams with their MetricDefinitions and the built-in line shapes.

    One DescribeLogStreams per job, then FilterLogEvents over ≤100 streams per call (moto ignores
    ``logStreamNamePrefix`` on FilterLogEvents, AWS allows only one prefix: explicit names work on
    both). Returns ``(rows, warnings, errors, any_job_succeeded)`` like :func:`fetch_metric_data`.
    """
    from lib.sources.logs import MetricDefinition, parse_log_lines  # written alongside; lazy on purpose

    report = _progress_reporter(progress)
    warnings: list[LoadWarning] = []
    errors: list[DataSourceError] = []
    stream_job: dict[str, str] = {}
    succeeded = False
    missing_group = False
    for n, rec in enumerate(records):
        job = str(rec["TrainingJobName"])
        report(0.5 * n / max(len(records), 1), f"Finding log streams ({n + 1}/{len(records)})")
        try:
            with aws.aws_errors("logs", region=region, what=f"listing log streams of {job}"):
                for page in logs.get_paginator("describe_log_streams").paginate(
                    logGroupName=LOG_GROUP, logStreamNamePrefix=f"{job}/"
                ):
                    for stream in page.get("logStreams", []):
                        stream_job[stream["logStreamName"]] = job
            succeeded = True
        except DataSourceError as err:
            if isinstance(err.__cause__, bexc.ClientError) and (
                aws.error_code(err.__cause__) == "ResourceNotFoundException"
            ):
                missing_group = True  # no job in this region has written logs yet
                succeeded = True
                continue
            errors.append(err)
            warnings.append(LoadWarning("logs", err.message, err.hint, jobs=(job,)))
    if missing_group:
        warnings.append(LoadWarning("logs", f"The log group {LOG_GROUP} does not exist in this region."))

    events: dict[str, list[tuple[int, str]]] = {s: [] for s in stream_job}
    streams = list(stream_job)
    batches = [
        streams[i : i + MAX_STREAMS_PER_FILTER] for i in range(0, len(streams), MAX_STREAMS_PER_FILTER)
    ]
    read_ok = not batches
    for n, batch in enumerate(batches):
        report(0.5 + 0.4 * n / len(batches), f"Reading logs ({n + 1}/{len(batches)})")
        try:
            with aws.aws_errors("logs", region=region, what="reading training logs"):
                for page in logs.get_paginator("filter_log_events").paginate(
                    logGroupName=LOG_GROUP, logStreamNames=batch
                ):
                    for ev in page.get("events", []):
                        if ev.get("logStreamName") in events:
                            events[ev["logStreamName"]].append((int(ev["timestamp"]), str(ev["message"])))
            read_ok = True
        except DataSourceError as err:
            errors.append(err)
            failed_jobs = tuple(dict.fromkeys(stream_job[s] for s in batch))
            warnings.append(LoadWarning("logs", err.message, err.hint, jobs=failed_jobs))
            for s in batch:
                events.pop(s, None)

    definitions = {str(r["TrainingJobName"]): _definitions(r, MetricDefinition, warnings) for r in records}
    frames = []
    for stream, evs in events.items():
        if not evs:
            continue
        job = stream_job[stream]
        evs.sort(key=lambda e: e[0])  # stable: keeps arrival order within a millisecond
        parsed = parse_log_lines(
            [m for _, m in evs],
            job=job,
            timestamps=[pd.Timestamp(t, unit="ms", tz="UTC") for t, _ in evs],
            host=_stream_host(stream, job),
            metric_definitions=definitions[job],
            builtin=True,
        )
        if len(parsed):
            frames.append(parsed.assign(source="logs", partial=False))
    report(1.0, "Logs parsed")
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return frame, warnings, errors, succeeded and read_ok


_HOST_IN_STREAM = re.compile(r"^(algo-\d+)")


def _stream_host(stream: str, job: str) -> str | None:
    rest = stream[len(job) + 1 :] if stream.startswith(f"{job}/") else stream
    found = _HOST_IN_STREAM.match(rest)
    return found.group(1) if found else (rest or None)


def _definitions(rec: Mapping[str, Any], cls: Any, warnings: list[LoadWarning]) -> list[Any]:
    out = []
    for d in (rec.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []:
        try:
            out.append(cls.from_dict(d))
        except (AppError, ValueError) as err:
            warnings.append(
                LoadWarning(
                    "logs",
                    f"Skipped metric definition {d.get('Name')!r} of {rec['TrainingJobName']}: {err}",
                    jobs=(str(rec["TrainingJobName"]),),
                )
            )
    return out


# ---------------------------------------------------------------- helpers


def _finish_metrics(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    parts = [f for f in frames if len(f)]
    if not parts:
        out = empty_metrics()
        out["host"] = pd.Series([], dtype="str")
        out["source"] = pd.Series([], dtype="str")
        out["partial"] = pd.Series([], dtype="bool")
        return out
    merged = pd.concat(parts, ignore_index=True)
    if "host" not in merged.columns:
        merged["host"] = None
    merged["partial"] = merged["partial"].fillna(False).astype("bool")
    out = validate_metrics(merged, source="CloudWatch")
    out["host"] = out["host"].astype("str").where(out["host"].notna(), None)
    out["source"] = out["source"].astype("str")
    return out


def _progress_reporter(progress: Progress | None) -> Progress:
    if progress is None:
        return lambda fraction, text: None

    def report(fraction: float, text: str) -> None:
        progress(min(max(fraction, 0.0), 1.0), text)

    return report


def _check_filters(
    status: str | None, created_after: Any, created_before: Any, max_jobs: int
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Validate the job filters; return the creation-time bounds as UTC datetimes."""
    after, before = _opt_utc(created_after, "created_after"), _opt_utc(created_before, "created_before")
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
    created = _utc(rec["CreationTime"])
    return (
        (not name_contains or name_contains.lower() in str(rec["TrainingJobName"]).lower())
        and (not status or rec.get("TrainingJobStatus") == status)
        and (after is None or created >= after)
        and (before is None or created < before)
    )


def _error_code(err: DataSourceError) -> str:
    cause = err.__cause__
    return aws.error_code(cause) if isinstance(cause, bexc.ClientError) else ""


def _is_access_denied(err: DataSourceError) -> bool:
    return _error_code(err) in aws.ACCESS_DENIED_CODES


def _chunks_by_length(names: Sequence[str], limit: int) -> list[list[str]]:
    chunks: list[list[str]] = []
    current: list[str] = []
    length = 0
    for name in names:
        extra = len(name) + (1 if current else 0)
        if current and length + extra > limit:
            chunks.append(current)
            current, length, extra = [], 0, len(name)
        current.append(name)
        length += extra
    if current:
        chunks.append(current)
    return chunks


def _utc(value: Any) -> dt.datetime:
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def _utc_or_none(value: Any) -> dt.datetime | None:
    return None if value is None else _utc(value)


def _opt_utc(value: Any, name: str) -> dt.datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return _utc(value)
    except (ValueError, TypeError) as err:
        raise InputError(
            f"{name}: cannot read {value!r} as a date/time.", hint="Use e.g. 2024-05-01."
        ) from err


def _iso(value: dt.datetime) -> str:
    # Search wants "YYYY-mm-ddTHH:MM:SS" (UTC here).
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _floor(value: dt.datetime, period: int) -> dt.datetime:
    epoch = int(value.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % period, tz=dt.UTC)
