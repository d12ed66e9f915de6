"""Endpoint latency straight from CloudWatch (ModelLatency, OverheadLatency)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import boto3
import pandas as pd

from lib.errors import DataSourceError, InputError
from lib.schema import utc_timestamp
from lib.sources.aws import session as aws
from lib.sources.aws.metrics import allowed_period
from lib.sources.latency import (
    LATENCY_METRICS,
    LATENCY_NAMESPACE,
    PERCENTILES,
    latency_frame,
    normalise_stat,
)

if TYPE_CHECKING:  # the stubs are dev-only (requirements-dev.in)
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDataQueryTypeDef


def load_endpoint_latency(
    session: boto3.Session,
    endpoint: str,
    variant: str,
    start: pd.Timestamp | dt.datetime | str,
    end: pd.Timestamp | dt.datetime | str,
    *,
    metrics: Sequence[str] = LATENCY_METRICS,
    stats: Sequence[str] = ("Average", *PERCENTILES),
    period: int = 60,
    endpoint_url: str | None = None,
    now: pd.Timestamp | dt.datetime | str | None = None,
) -> pd.DataFrame:
    """Endpoint latency from CloudWatch (GetMetricData), as the tidy frame ``read_latency_export`` gives.

    One query per metric and statistic on namespace ``AWS/SageMaker`` with dimensions
    ``EndpointName``/``VariantName`` (in that order), ScanBy ascending, following NextToken through
    boto3's paginator. The period is raised to what CloudWatch's retention serves for ``start``
    (60 s up to 15 days back, 300 s up to 63 days, 3600 s beyond).

    Parameters
    ----------
    session
        A boto3 session (``lib.sources.aws.session.make_session``); the client gets the shared retry config.
    endpoint, variant
        Endpoint and production-variant names (case-sensitive; the default variant is ``AllTraffic``).
    start, end
        Time window (anything ``pd.Timestamp`` reads; naive means UTC).
    metrics
        CloudWatch metric names (microseconds): ``ModelLatency``, ``OverheadLatency``.
    stats
        Statistics: ``Average``, ``Minimum``, ``Maximum`` and/or percentiles such as ``p90``.
    period
        Requested period in seconds (a multiple of 60).
    endpoint_url
        Custom CloudWatch endpoint (tests, VPC endpoints); None lets boto3 resolve it.
    now
        The current time (for the retention rule; default: now).

    Returns
    -------
    pandas.DataFrame
        ``LATENCY_COLUMNS``; ``attrs["warnings"]`` lists incomplete series and CloudWatch messages;
        ``attrs["partial"]`` is True when the session's :class:`~lib.sources.aws.session.Deadline`
        ended the load (time up or cancelled) after some pages were read: those records are kept.

    Raises
    ------
    InputError
        For an empty endpoint name, an empty window or a bad period.
    DataSourceError
        When AWS refuses or cannot be reached (``lib.sources.aws.session.aws_errors``), or returns no
        datapoint at all; ``ActionTimeoutError``/``ActionCancelledError`` when the session's deadline
        ends the load before any datapoint was read.
    """

    endpoint, variant = endpoint.strip(), (variant or "AllTraffic").strip()
    if not endpoint:
        raise InputError("Enter the endpoint name.", hint="As shown in SageMaker → Inference → Endpoints.")
    t0, t1 = utc_timestamp(start), utc_timestamp(end)
    if pd.isna(t0) or pd.isna(t1):
        raise InputError(f"Cannot read {start!r} / {end!r} as dates or times.", hint="Use e.g. 2024-05-01.")
    if t1 <= t0:
        raise InputError(f"The time window is empty ({t0} to {t1}).", hint="Pick an end after the start.")
    if period < 60 or period % 60:
        raise InputError(f"The period must be a multiple of 60 s; got {period}.")
    current = utc_timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC")
    if pd.isna(current):
        raise InputError(f"Cannot read {now!r} as a date or time.")
    p = allowed_period(t0.to_pydatetime(), current.to_pydatetime(), period)
    dims: list[DimensionTypeDef] = [
        {"Name": "EndpointName", "Value": endpoint},
        {"Name": "VariantName", "Value": variant},
    ]
    plan = [(m, normalise_stat(s)) for m in metrics for s in stats]
    queries: list[MetricDataQueryTypeDef] = [
        {
            "Id": f"q{i}",  # must start with a lower-case letter
            "MetricStat": {
                "Metric": {"Namespace": LATENCY_NAMESPACE, "MetricName": m, "Dimensions": dims},
                "Period": p,
                "Stat": s,
            },
            "Label": f"{endpoint} {variant} {m} {s}",
            "ReturnData": True,
        }
        for i, (m, s) in enumerate(plan)
    ]
    cloudwatch = aws.make_client(session, "cloudwatch", endpoint_url)
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    status: dict[str, str] = {}
    ended: str | None = None
    try:
        with aws.aws_errors("cloudwatch", region=session.region_name, what="fetching endpoint latency"):
            for page in cloudwatch.get_paginator("get_metric_data").paginate(
                MetricDataQueries=queries,
                StartTime=t0.to_pydatetime(),
                EndTime=t1.to_pydatetime(),
                ScanBy="TimestampAscending",
            ):
                for res in page.get("MetricDataResults", []):
                    i = int(str(res["Id"])[1:])
                    metric, stat = plan[i]
                    status[metric + " " + stat] = str(res.get("StatusCode", "Complete"))
                    for ts, value in zip(res.get("Timestamps", []), res.get("Values", []), strict=False):
                        rows.append(
                            {"timestamp": ts, "endpoint": endpoint, "variant": variant, "metric": metric,
                             "stat": stat, "value_us": value}
                        )  # fmt: skip
                for msg in page.get("Messages", []) or []:
                    warnings.append(f"CloudWatch: {msg.get('Code', '')}: {msg.get('Value', '')}")
    except aws.ACTION_ENDED as err:  # the action's deadline or Stop: keep the pages already read
        if not rows:
            raise
        deadline = aws.session_deadline(session)
        action = deadline.action if deadline is not None else "The latency load"
        how = f"timed out after {deadline.seconds:g} s" if deadline is not None else "ended"
        if isinstance(err, aws.ActionCancelledError):
            how = "was cancelled"
        last = max(row["timestamp"] for row in rows)
        ended = (
            f"{action} {how} before CloudWatch sent every page: only the {len(rows):,} datapoints read "
            f"until then are shown (up to {last:%Y-%m-%d %H:%M} UTC), so this latency is incomplete."
        )
        warnings.append(ended)
    for series, code in sorted(status.items()):
        if code != "Complete":
            warnings.append(f"{series}: CloudWatch returned {code}; the series may be incomplete.")
    if not rows:
        raise DataSourceError(
            f"CloudWatch has no {'/'.join(metrics)} data for endpoint '{endpoint}', variant '{variant}' "
            f"between {t0:%Y-%m-%d %H:%M} and {t1:%Y-%m-%d %H:%M} UTC.",
            hint="Names are case-sensitive; check the region too. Latency is only published for minutes "
            "in which the endpoint received requests.",
        )
    frame = latency_frame(rows)
    frame.attrs["warnings"] = tuple(warnings)
    frame.attrs["period_s"] = p
    frame.attrs["partial"] = ended is not None
    return frame
