"""Drift results as CloudWatch metrics, named like Model Monitor's so existing alarms keep working.

Model Monitor publishes, per feature, ``feature_baseline_drift_<feature>`` (the distance between the
baseline's and the current distribution) in the namespace ``aws/sagemaker/Endpoints/data-metrics``
with the dimensions ``Endpoint`` and ``MonitoringSchedule``. :func:`publish_drift_metrics` does the
same from a :class:`~lib.drift.report.DriftReport`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

import boto3
import pandas as pd

from lib.errors import InputError
from lib.sources.aws import session as aws
from lib.sources.aws.common import utc_datetime

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDatumTypeDef

    from lib.drift.report import DriftReport

#: Model Monitor's own namespace, metric prefix and dimension names for data-quality metrics.
MODEL_MONITOR_NAMESPACE: Final = "aws/sagemaker/Endpoints/data-metrics"
METRIC_PREFIX: Final = "feature_baseline_drift_"
ENDPOINT_DIMENSION: Final = "Endpoint"
SCHEDULE_DIMENSION: Final = "MonitoringSchedule"
#: PutMetricData takes at most 1,000 values per call.
BATCH: Final = 1000


def drift_metric_values(report: DriftReport) -> dict[str, float]:
    """One value per tested column: what ``feature_baseline_drift_<column>`` should carry.

    Model Monitor's value is the L-infinity distance between the two distributions; for a numeric
    column that is exactly the Kolmogorov-Smirnov statistic, so the ``ks`` row's ``statistic`` is
    used when the report has one; otherwise (categorical columns, other tests) the column's
    effect size (total variation distance for categories, also in [0, 1]). Columns without a
    finite value are left out (CloudWatch rejects NaN).
    """
    table = report.table
    values: dict[str, float] = {}
    for column, rows in table.groupby("column", sort=False):
        ks = rows.loc[rows["test"] == "ks", "statistic"]
        candidates = [*ks.tolist(), *rows["effect_size"].tolist()]
        for value in candidates:
            if value is not None and not pd.isna(value) and math.isfinite(float(value)):
                values[str(column)] = float(value)
                break
    return values


def publish_drift_metrics(
    session: boto3.Session,
    report: DriftReport,
    *,
    endpoint: str | None = None,
    schedule: str | None = None,
    namespace: str = MODEL_MONITOR_NAMESPACE,
    dimensions: Mapping[str, str] | None = None,
    metric_prefix: str = METRIC_PREFIX,
    timestamp: dt.datetime | pd.Timestamp | str | None = None,
    endpoint_url: str | None = None,
) -> int:
    """Publish one drift metric per column of ``report`` with PutMetricData (batched, ≤ 1,000 a call).

    Parameters
    ----------
    session
        From :func:`lib.make_session`.
    report
        From :func:`lib.compare`; values as :func:`drift_metric_values`.
    endpoint, schedule
        Values of Model Monitor's dimensions ``Endpoint`` and ``MonitoringSchedule`` (both needed
        unless ``dimensions`` is given: an alarm matches the exact set of dimensions).
    namespace
        Default: Model Monitor's ``aws/sagemaker/Endpoints/data-metrics``.
    dimensions
        Your own dimensions (name → value) instead of Endpoint/MonitoringSchedule.
    metric_prefix
        Metric name = prefix + column (default ``feature_baseline_drift_``).
    timestamp
        Time of the datapoints (default: now, UTC).
    endpoint_url
        A CloudWatch endpoint URL (moto, LocalStack); default: boto3's resolution.

    Returns
    -------
    int
        The number of values published.

    Raises
    ------
    InputError
        If the dimensions are incomplete or more than 30.
    DataSourceError
        If PutMetricData fails (names ``cloudwatch:PutMetricData`` when denied).
    """
    if dimensions is None:
        if not endpoint or not schedule:
            raise InputError(
                "Model Monitor's drift metrics carry both dimensions Endpoint and MonitoringSchedule.",
                hint="Give the endpoint and the schedule name, or choose your own dimensions "
                "(--dimension Name=Value).",
            )
        dimensions = {ENDPOINT_DIMENSION: endpoint, SCHEDULE_DIMENSION: schedule}
    if len(dimensions) > 30 or any(not str(k) or not str(v) for k, v in dimensions.items()):
        raise InputError("CloudWatch takes 1 to 30 dimensions, each with a name and a value.")
    when = utc_datetime(timestamp) if timestamp is not None else dt.datetime.now(dt.UTC)
    dims: list[DimensionTypeDef] = [{"Name": str(k), "Value": str(v)} for k, v in dimensions.items()]
    datums: list[MetricDatumTypeDef] = [
        {"MetricName": f"{metric_prefix}{column}", "Timestamp": when, "Value": value, "Dimensions": dims}
        for column, value in drift_metric_values(report).items()
    ]
    if not datums:
        return 0
    cloudwatch = aws.make_client(session, "cloudwatch", endpoint_url)
    with aws.aws_errors(
        "cloudwatch", region=session.region_name, what=f"publishing drift metrics to {namespace}"
    ):
        for i in range(0, len(datums), BATCH):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=datums[i : i + BATCH])
    return len(datums)
