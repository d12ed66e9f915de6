"""Training and instance metrics from CloudWatch GetMetricData (batched, paged)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import boto3
import pandas as pd

from lib.errors import DataSourceError
from lib.schema import validate_metrics
from lib.sources.aws import session as aws
from lib.sources.aws.common import LoadWarning, Progress, finish_metrics, progress_reporter, utc_datetime
from lib.sources.aws.training_jobs import fetch_job_records
from lib.sources.sagemaker_json import instance_count

if TYPE_CHECKING:  # the stubs are dev-only (requirements-dev.in)
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MessageDataTypeDef, MetricDataQueryTypeDef

NAMESPACE: Final = "/aws/sagemaker/TrainingJobs"


JOB_DIMENSION: Final = "TrainingJobName"


HOST_DIMENSION: Final = "Host"


INSTANCE_METRICS: Final = (
    "CPUUtilization",
    "MemoryUtilization",
    "GPUUtilization",
    "GPUMemoryUtilization",
    "DiskUtilization",
)


MAX_QUERIES_PER_CALL: Final = 500  # GetMetricData hard limit


@dataclass(frozen=True)
class SeriesQuery:
    """One CloudWatch series to fetch: an algorithm metric (host None) or an instance metric."""

    job: str
    metric: str
    start: dt.datetime
    end: dt.datetime
    host: str | None = None


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
        From :func:`lib.sources.aws.session.make_session`.
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
    report = progress_reporter(progress)
    now = utc_datetime(now) if now is not None else dt.datetime.now(dt.UTC)
    region = session.region_name
    warnings: list[LoadWarning] = []
    report(0.0, "Looking up jobs")
    if isinstance(jobs, pd.DataFrame):
        windows = _frame_windows(jobs, now)
    else:
        sagemaker = aws.make_client(session, "sagemaker", endpoint_url)
        records, warnings = fetch_job_records(sagemaker, job_names=list(jobs), region=region)
        windows = [
            (job, start, end, instance_count(rec))
            for rec, (job, start, end) in zip(records, job_windows(records, now), strict=True)
        ]
    queries = [
        SeriesQuery(job=job, metric=metric, start=start, end=end, host=f"{job}/algo-{i}")
        for job, start, end, count in windows
        for i in range(1, max(count, 1) + 1)
        for metric in metric_names
    ]
    if not queries:
        out = finish_metrics([])
        out.attrs["warnings"] = warnings
        return out
    cloudwatch = aws.make_client(session, "cloudwatch", endpoint_url)
    frame, cw_warnings, errors, ok = fetch_metric_data(
        cloudwatch, queries, now=now, region=region, progress=lambda f, t: report(0.1 + 0.85 * f, t)
    )
    if errors and not ok:
        raise errors[0]
    out = finish_metrics([frame])
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
    cloudwatch: CloudWatchClient,
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
    report = progress_reporter(progress)
    now = utc_datetime(now) if now is not None else dt.datetime.now(dt.UTC)
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
        except aws.ACTION_ENDED:
            raise  # the whole action ends; the other batches would only time out too
        except DataSourceError as err:
            errors.append(err)
            warnings.append(
                LoadWarning(
                    "metrics",
                    err.message,
                    err.hint,
                    jobs=tuple(dict.fromkeys(q.job for q in batch)),
                    failed=True,
                )
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
    cloudwatch: CloudWatchClient,
    batch: Sequence[SeriesQuery],
    start: dt.datetime,
    end: dt.datetime,
    period: int,
    stat: str,
) -> tuple[dict[str, dict[str, Any]], list[MessageDataTypeDef]]:
    mdq: list[MetricDataQueryTypeDef] = []
    for i, q in enumerate(batch):
        dims: list[DimensionTypeDef] = (
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
    messages: list[MessageDataTypeDef] = []
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
    missing = [(q, batch[i]) for i, q in enumerate(mdq) if q["Id"] not in merged]
    if missing:
        # AWS answers every query with ReturnData (an empty series has a result too): a missing
        # result means the answer is incomplete, not that the series is empty.
        first = missing[0][1]
        raise aws.AnswerError(
            f"CloudWatch GetMetricData answered without {len(missing)} of the {len(mdq)} requested "
            f"series (first: {first.job} {first.metric}): the answer is incomplete.",
            hint="Retry; if it persists, check the endpoint URL and any proxy in between.",
        )
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


def metric_names_by_job(
    cloudwatch: CloudWatchClient,
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
        except aws.ACTION_ENDED:
            raise
        except DataSourceError as err:
            warnings.append(LoadWarning("metrics", err.message, err.hint, jobs=(job,), failed=True))
            continue
        out[job] = tuple(sorted(set(found)))
    return out, warnings


def job_windows(
    records: Sequence[Mapping[str, Any]], now: dt.datetime
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    # Same window as the SageMaker SDK: [TrainingStartTime, TrainingEndTime + 1 min]; running jobs
    # end now; jobs that never started fall back to their creation/last-modified times.
    out = []
    for rec in records:
        created = utc_datetime(rec["CreationTime"])
        start = utc_datetime(rec["TrainingStartTime"]) if rec.get("TrainingStartTime") else created
        if rec.get("TrainingEndTime"):
            end = utc_datetime(rec["TrainingEndTime"])
        elif rec.get("TrainingJobStatus") in ("InProgress", "Stopping"):
            end = now
        else:
            end = utc_datetime(rec.get("LastModifiedTime") or now)
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
                utc_datetime(start),
                max(utc_datetime(end_t), utc_datetime(start)) + dt.timedelta(minutes=1),
                int(count) if pd.notna(count) else 1,
            )
        )
    return out


def _floor(value: dt.datetime, period: int) -> dt.datetime:
    epoch = int(value.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % period, tz=dt.UTC)
