"""Cost of checking every AWS answer before botocore parses it (issue 15, "AWS answers you can trust").

``lib.sources.aws.session.check_answer`` parses each 2xx JSON/XML body once more (``json.loads`` /
ElementTree) to refuse empty, HTML or cut-off bodies. This times that check against botocore's own
parse of the same body, in the same process, for the largest answers the app gets: a full
GetMetricData page (500 series, 100,800 datapoints) and a 1,000-key ListObjectsV2 page.
Run: ``.venv/bin/python benchmarks/bench_answer_check.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import boto3
from botocore.parsers import create_parser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.sources.aws.session import check_answer


def best(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1")
    t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC).timestamp()
    results = [
        {"Id": f"q{i}", "Label": f"m{i}", "StatusCode": "Complete",
         "Timestamps": [t0 + 60 * k for k in range(201)], "Values": [0.5 + k * 1e-3 for k in range(201)]}
        for i in range(500)
    ]  # fmt: skip
    metric_body = json.dumps({"MetricDataResults": results, "Messages": []}).encode()
    keys = "".join(
        f"<Contents><Key>capture/ep/AllTraffic/2026/11/02/09/{k:06d}.jsonl</Key><Size>1024</Size>"
        '<LastModified>2026-11-02T09:00:00.000Z</LastModified><ETag>"x"</ETag></Contents>'
        for k in range(1000)
    )
    s3_body = (
        '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><KeyCount>1000</KeyCount>'
        f"<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{keys}</ListBucketResult>"
    ).encode()
    cases = [
        ("cloudwatch", "GetMetricData", metric_body),
        ("s3", "ListObjectsV2", s3_body),
    ]
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("| answer | body | check_answer | botocore parse | check / parse |")
    print("|---|---|---|---|---|")
    for service, operation, body in cases:
        model = session.client(service).meta.service_model
        op = model.operation_model(operation)
        response = {"status_code": 200, "headers": {}, "body": body}
        parser = create_parser(model.resolved_protocol)
        check = best(lambda: check_answer(op, response))  # noqa: B023 - called at once
        parse = best(lambda: parser.parse(response, op.output_shape))  # noqa: B023 - called at once
        print(
            f"| {service} {operation} | {len(body) / 1e6:.1f} MB | {check * 1e3:.1f} ms | "
            f"{parse * 1e3:.0f} ms | {check / parse:.1%} |"
        )


if __name__ == "__main__":
    main()
