"""One call per user action: jobs + metrics (+ logs, instance metrics) for the charts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import boto3
import pandas as pd

from lib.errors import DataSourceError
from lib.sources.aws import session as aws
from lib.sources.aws.common import (
    LoadWarning,
    Progress,
    finish_metrics,
    is_partial,
    progress_reporter,
    utc_datetime,
)
from lib.sources.aws.logs import fetch_log_metrics
from lib.sources.aws.metrics import (
    SeriesQuery,
    combine_hosts,
    fetch_metric_data,
    job_windows,
    load_instance_metrics,
    metric_names_by_job,
)
from lib.sources.aws.training_jobs import check_filters, fetch_job_records
from lib.sources.sagemaker_json import jobs_frame


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
        From :func:`lib.sources.aws.session.make_session` (credentials from boto3's standard chain only).
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
    check_filters(status, created_after, created_before, max_jobs)  # before building any client
    report = progress_reporter(progress)
    now = utc_datetime(now) if now is not None else dt.datetime.now(dt.UTC)
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
        metrics = finish_metrics([])
        metrics.attrs["warnings"] = warnings
        report(1.0, "No training jobs matched")
        return jobs, metrics

    cloudwatch = aws.make_client(session, "cloudwatch", endpoint_url)
    names_by_job, name_warnings = metric_names_by_job(cloudwatch, records, metric_names, region=region)
    warnings.extend(name_warnings)
    queries = [
        SeriesQuery(job=job, metric=metric, start=start, end=end)
        for job, start, end in job_windows(records, now)
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
    metrics = finish_metrics(frames)
    jobs.attrs["warnings"] = warnings
    metrics.attrs["warnings"] = warnings
    report(1.0, f"Loaded {len(metrics)} datapoint(s) for {len(records)} job(s)")
    return jobs, metrics


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

    @property
    def partial(self) -> bool:
        """True when something asked for is missing or incomplete (a failed call, a partial series):
        show it, but never keep it (e.g. in a cache) as if it were the complete answer."""
        return is_partial(self.warnings) or bool(
            "partial" in self.metrics.columns and self.metrics["partial"].any()
        )


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
    report = progress_reporter(progress)
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
        except aws.ACTION_ENDED:
            raise
        except DataSourceError as err:
            warnings.append(
                LoadWarning("instances", err.message, err.hint, jobs=tuple(jobs["job"]), failed=True)
            )
        else:
            warnings.extend(hosts.attrs.get("warnings", []))
            if len(hosts):
                frames.append(combine_hosts(hosts))
                notes.append("Instance metrics (CPU, GPU, memory, disk) are the mean over each job's hosts.")
    merged = finish_metrics(frames)
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
