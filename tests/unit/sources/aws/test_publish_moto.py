"""Drift metrics to CloudWatch (moto's server): Model Monitor's names, read back with GetMetricData."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from types import SimpleNamespace
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest

import lib
from lib.errors import InputError
from lib.sources.aws import publish
from tests.support import aws_server

moto_endpoint = aws_server.moto_endpoint
aws_env = aws_server.aws_env

WHEN = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=10)


def report() -> Any:
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"age": rng.normal(40, 5, 400), "plan": rng.choice(["a", "b"], 400)})
    cur = pd.DataFrame({"age": rng.normal(46, 5, 400), "plan": rng.choice(["a", "b"], 400, p=[0.8, 0.2])})
    return lib.compare(ref, cur)


def test_metrics_read_back_with_get_metric_data(aws_env: str) -> None:
    rep = report()
    values = publish.drift_metric_values(rep)
    ks = rep.table.loc[(rep.table["column"] == "age") & (rep.table["test"] == "ks"), "statistic"].iloc[0]
    assert values["age"] == pytest.approx(ks)  # Model Monitor's numeric distance is the KS statistic
    session = boto3.Session(region_name="us-east-1")
    n = lib.publish_drift_metrics(
        session, rep, endpoint="churn-prod", schedule="churn-monitor", timestamp=WHEN
    )
    assert n == 2
    cw = aws_server.client(aws_env, "cloudwatch")
    dims = [
        {"Name": "Endpoint", "Value": "churn-prod"},
        {"Name": "MonitoringSchedule", "Value": "churn-monitor"},
    ]
    queries = [
        {
            "Id": f"m{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "aws/sagemaker/Endpoints/data-metrics",
                    "MetricName": f"feature_baseline_drift_{col}",
                    "Dimensions": dims,
                },
                "Period": 60,
                "Stat": "Maximum",
            },
        }
        for i, col in enumerate(("age", "plan"))
    ]
    got = cw.get_metric_data(
        MetricDataQueries=queries,
        StartTime=WHEN - dt.timedelta(minutes=5),
        EndTime=WHEN + dt.timedelta(minutes=5),
    )["MetricDataResults"]
    assert [r["Values"] for r in got] == [[pytest.approx(values["age"])], [pytest.approx(values["plan"])]]


def test_own_namespace_and_dimensions_and_batches_of_1000(aws_env: str) -> None:
    columns = [f"c{i}" for i in range(2300)]
    table = pd.DataFrame({"column": columns, "test": "psi", "statistic": 0.5, "effect_size": 0.25})
    fake = SimpleNamespace(table=table)
    session = boto3.Session(region_name="us-east-1")
    calls: Counter[str] = Counter()
    session.events.register("before-call.cloudwatch.PutMetricData", lambda **_: calls.update(["put"]))
    n = publish.publish_drift_metrics(session, fake, namespace="team/drift", dimensions={"Model": "churn"})  # type: ignore[arg-type]
    assert n == 2300
    assert calls["put"] == 3  # 1000 + 1000 + 300
    cw = aws_server.client(aws_env, "cloudwatch")
    names = {
        m["MetricName"]
        for p in cw.get_paginator("list_metrics").paginate(Namespace="team/drift")
        for m in p["Metrics"]
    }
    assert len(names) == 2300


def test_default_dimensions_need_endpoint_and_schedule() -> None:
    with pytest.raises(InputError, match="Endpoint and MonitoringSchedule"):
        publish.publish_drift_metrics(boto3.Session(region_name="us-east-1"), report(), endpoint="e")
