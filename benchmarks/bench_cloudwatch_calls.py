"""API calls and wall time: lib.cloudwatch vs the SageMaker SDK's way, on the same local moto scenario.

The SDK's ``TrainingJobAnalytics`` does one DescribeTrainingJob per job and one GetMetricStatistics
per job × metric. ``lib.sources.aws.load.load_training_jobs`` does one Search per 100 jobs and one
GetMetricData per 500 series. Calls are counted with botocore's ``before-call`` event.

moto's time per call is not AWS's (its GetMetricData scans every datapoint per query and period), so
an estimate for AWS is printed too: calls × an assumed round trip (sequential, as both approaches are).

Run:  .venv/bin/python benchmarks/bench_cloudwatch_calls.py [--jobs 60] [--metrics 2] [--epochs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import pandas as pd  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from lib.sources.aws import load as live  # noqa: E402
from lib.sources.aws import metrics as aws_metrics  # noqa: E402
from tests.support.aws_server import faithful_search, seed_training_jobs  # noqa: E402

AWS_RTT_S = 0.08  # assumed round trip per API call to a nearby AWS region (estimate, not measured)


def counted_session() -> tuple[boto3.Session, Counter[str]]:
    session = boto3.Session(region_name="us-east-1")
    calls: Counter[str] = Counter()
    session.events.register("before-call", lambda model, **_: calls.update([model.name]))
    return session, calls


def ours(endpoint: str) -> tuple[Counter[str], int]:
    session, calls = counted_session()
    _, metrics = live.load_training_jobs(session, endpoint_url=endpoint, max_jobs=10_000)
    return calls, len(metrics)


def sdk_style(endpoint: str, names: list[str]) -> tuple[Counter[str], int]:
    """What TrainingJobAnalytics does for each job (SDK v2 analytics.py l.338-413)."""
    session, calls = counted_session()
    sm = session.client("sagemaker", endpoint_url=endpoint)
    cw = session.client("cloudwatch", endpoint_url=endpoint)
    rows: list[dict[str, Any]] = []
    for name in names:
        desc = sm.describe_training_job(TrainingJobName=name)
        start = desc["TrainingStartTime"]
        end = desc.get("TrainingEndTime") or dt.datetime.now(dt.UTC)
        for d in desc["AlgorithmSpecification"]["MetricDefinitions"]:
            stats = cw.get_metric_statistics(
                Namespace=aws_metrics.NAMESPACE,
                MetricName=d["Name"],
                Dimensions=[{"Name": "TrainingJobName", "Value": name}],
                StartTime=start,
                EndTime=end + dt.timedelta(minutes=1),
                Period=60,
                Statistics=["Average"],
            )
            rows += [
                {"job": name, "metric": d["Name"], "timestamp": p["Timestamp"], "value": p["Average"]}
                for p in stats["Datapoints"]
            ]
    return calls, len(pd.DataFrame(rows))


def best_of(n: int, fn: Any, *args: Any) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=60)
    parser.add_argument("--metrics", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    metric_names = (
        "train:accuracy",
        "validation:accuracy",
        *(f"extra:m{i}" for i in range(args.metrics - 2)),
    )
    definitions = [{"Name": m, "Regex": f"{m}=([0-9.]+)"} for m in metric_names[: args.metrics]]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        with faithful_search():
            seeded = seed_training_jobs(
                endpoint,
                n_jobs=args.jobs,
                metrics=metric_names[: args.metrics],
                epochs=args.epochs,
                spacing=dt.timedelta(seconds=30),
                logs=False,
                instance_metrics=False,
                definitions=definitions,
            )
            names = [j.name for j in seeded]
            t_ours, (c_ours, n_ours) = best_of(args.repeat, ours, endpoint)
            t_sdk, (c_sdk, n_sdk) = best_of(args.repeat, sdk_style, endpoint, names)
    finally:
        server.stop()
    total_ours, total_sdk = sum(c_ours.values()), sum(c_sdk.values())
    print(f"scenario: {args.jobs} jobs × {args.metrics} metrics × {args.epochs} epochs (local moto server)")
    print(f"{'approach':<34}{'calls':>7}{'rows':>8}{'moto s':>9}{'AWS est. s':>12}  calls by API")
    for label, calls, total, rows, secs in (
        ("lib.sources.aws.load.load_training_jobs", c_ours, total_ours, n_ours, t_ours),
        ("SDK TrainingJobAnalytics-style", c_sdk, total_sdk, n_sdk, t_sdk),
    ):
        by_api = ", ".join(f"{k}={v}" for k, v in sorted(calls.items()))
        print(f"{label:<34}{total:>7}{rows:>8}{secs:>9.2f}{total * AWS_RTT_S:>12.2f}  {by_api}")
    print(f"ratio SDK/ours: calls {total_sdk / total_ours:.0f}×, moto wall time {t_sdk / t_ours:.1f}×")
    print(f"(AWS estimate: {AWS_RTT_S * 1000:.0f} ms per sequential call; both fetch the same datapoints)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
