"""Endpoints and data capture straight from S3, against moto's server on 127.0.0.1.

A day of capture (2 objects an hour, 5 records each) under Model Monitor's hour prefixes; the S3
calls are counted with a botocore ``before-call`` hook, so "lists only the hours in range" is checked,
not assumed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import boto3
import pandas as pd
import pytest

import lib
from lib.errors import DataSourceError, InputError
from lib.sources.aws import capture_s3, endpoints
from lib.sources.monitor_files import read_statistics
from tests.support import aws_server
from tests.support.aws_server import CAPTURE_BUCKET, seed_capture

moto_endpoint = aws_server.moto_endpoint
aws_env = aws_server.aws_env

UTC = dt.UTC
DAY = dt.datetime(2024, 5, 6, tzinfo=UTC)


def counted_session() -> tuple[boto3.Session, Counter[str]]:
    session = boto3.Session(region_name="us-east-1")
    calls: Counter[str] = Counter()
    session.events.register("before-call.s3", lambda model, **_: calls.update([model.name]))
    session.events.register("before-call.sagemaker", lambda model, **_: calls.update([model.name]))
    return session, calls


def test_list_endpoints_shows_the_capture_destination_and_options(aws_env: str) -> None:
    seed_capture(aws_env, hours=1)
    frame = lib.list_endpoints(boto3.Session(region_name="us-east-1"))
    assert list(frame.columns) == list(endpoints.ENDPOINT_COLUMNS)
    row = frame.set_index("endpoint").loc["churn-prod"]
    assert row["status"] == "InService"
    assert row["variants"] == "AllTraffic"
    assert bool(row["capture_enabled"]) is True
    assert row["capture_destination"] == f"s3://{CAPTURE_BUCKET}/datacapture"
    assert row["capture_options"] == "Input,Output"
    assert row["sampling_percentage"] == 100
    assert frame["created"].dt.tz is not None
    assert frame.attrs["warnings"] == []


def test_three_hours_list_three_prefixes_and_read_six_objects(aws_env: str) -> None:
    seeded = seed_capture(aws_env, hours=24)
    session, calls = counted_session()
    start, end = DAY + dt.timedelta(hours=5), DAY + dt.timedelta(hours=8)
    seen: list[tuple[int, int, str]] = []
    frame = lib.load_endpoint_capture(
        session, "churn-prod", start, end, progress=lambda d, t, text: seen.append((d, t, text))
    )
    # 1 variant listing (Delimiter) + 1 listing per hour in range; never the other 21 hours
    assert calls["ListObjectsV2"] == 1 + 3
    assert calls["GetObject"] == 3 * 2
    assert calls["DescribeEndpoint"] == 1
    expected = seeded.rows(start, end)
    assert len(frame) == len(expected) == 30
    assert frame["event_id"].tolist() == [r["event_id"] for r in expected]
    assert frame["f0"].tolist() == pytest.approx([r["age"] for r in expected])
    assert frame["prediction"].tolist() == pytest.approx([r["prediction"] for r in expected])
    assert str(frame["inference_time"].dt.tz) == "UTC"
    assert frame.attrs["n_objects"] == 6
    assert frame.attrs["n_records"] == 30
    assert frame.attrs["n_bad"] == 0
    assert frame.attrs["partial"] is False
    assert frame.attrs["prefixes"] == tuple(
        f"s3://{CAPTURE_BUCKET}/datacapture/churn-prod/AllTraffic/2024/05/06/{h:02d}/" for h in (5, 6, 7)
    )
    assert seen[-1][:2] == (6, 6)
    assert (3, 3) in [s[:2] for s in seen]


def test_a_mid_hour_range_lists_the_hours_it_touches_and_drops_rows_outside(aws_env: str) -> None:
    seeded = seed_capture(aws_env, hours=4)
    session, calls = counted_session()
    start, end = DAY + dt.timedelta(hours=1, minutes=3), DAY + dt.timedelta(hours=2, minutes=12)
    frame = lib.load_endpoint_capture(session, "churn-prod", start, end, variant="AllTraffic")
    assert calls["ListObjectsV2"] == 2  # hours 01 and 02, the variant given: no Delimiter listing
    assert calls["GetObject"] == 4
    assert frame["event_id"].tolist() == [r["event_id"] for r in seeded.rows(start, end)]
    assert frame.attrs["n_outside"] == 20 - len(frame)
    assert any("dropped" in n for n in frame.attrs["notes"])


def test_every_variant_is_found_by_a_delimiter_listing(aws_env: str) -> None:
    seed_capture(aws_env, variants=("A", "B"), hours=2)
    session, calls = counted_session()
    frame = lib.load_endpoint_capture(session, "churn-prod", DAY, DAY + dt.timedelta(hours=2))
    assert calls["ListObjectsV2"] == 1 + 2 * 2
    assert len(frame) == 2 * 2 * 10
    assert {e.split("-")[0] for e in frame["event_id"]} == {"A", "B"}


def test_baseline_names_the_features_model_monitor_style(aws_env: str) -> None:
    seed_capture(aws_env, hours=1)
    stats = {
        "version": 0.0,
        "dataset": {"item_count": 100},
        "features": [
            {
                "name": n,
                "inferred_type": "Fractional",
                "numerical_statistics": {"common": {"num_present": 100}},
            }
            for n in ("label", "age", "income")
        ],
    }
    baseline = read_statistics(stats)
    frame = lib.load_endpoint_capture(
        boto3.Session(region_name="us-east-1"), "churn-prod", DAY, DAY + dt.timedelta(hours=1),
        feature_names=baseline,
    )  # fmt: skip
    assert {"age", "income"} <= set(frame.columns)
    assert frame.attrs["label_column"] == "label"


def test_max_records_keeps_a_seeded_uniform_sample(aws_env: str) -> None:
    seed_capture(aws_env, hours=3)
    session = boto3.Session(region_name="us-east-1")
    a = lib.load_endpoint_capture(session, "churn-prod", DAY, DAY + dt.timedelta(hours=3), max_records=7)
    b = lib.load_endpoint_capture(session, "churn-prod", DAY, DAY + dt.timedelta(hours=3), max_records=7)
    assert len(a) == 7
    assert a["event_id"].tolist() == b["event_id"].tolist()
    assert a["inference_time"].is_monotonic_increasing
    assert any("uniform random sample of 7 of the 30" in n and "seed 0" in n for n in a.attrs["notes"])


def test_an_empty_range_names_the_prefixes_tried(aws_env: str) -> None:
    seed_capture(aws_env, hours=2)
    with pytest.raises(DataSourceError, match=r"tried 5 hour prefix\(es\): s3://capture-bucket/datacapture/"
                       r"churn-prod/AllTraffic/2024/05/07/00/.* and 2 more"):  # fmt: skip
        lib.load_endpoint_capture(
            boto3.Session(region_name="us-east-1"), "churn-prod", DAY + dt.timedelta(days=1),
            DAY + dt.timedelta(days=1, hours=5),
        )  # fmt: skip


def test_truncated_and_broken_lines_are_counted_and_the_rest_kept(aws_env: str) -> None:
    seeded = seed_capture(aws_env, hours=1, records_per_file=3)
    s3 = aws_server.client(aws_env, "s3")
    body = s3.get_object(Bucket=CAPTURE_BUCKET, Key=seeded.keys[0])["Body"].read()
    s3.put_object(Bucket=CAPTURE_BUCKET, Key=seeded.keys[0], Body=body[: len(body) - 40])  # cut mid-line
    frame = lib.load_endpoint_capture(
        boto3.Session(region_name="us-east-1"), "churn-prod", DAY, DAY + dt.timedelta(hours=1)
    )
    assert frame.attrs["n_records"] == 6
    assert frame.attrs["n_bad"] == 1
    assert len(frame) == 5
    assert any(seeded.keys[0].rsplit("/", 1)[1] in p for p in frame.attrs["problems"])


def test_no_capture_configured_and_bad_ranges_are_clear(aws_env: str) -> None:
    session = boto3.Session(region_name="us-east-1")
    with pytest.raises(InputError, match="must be after start"):
        lib.load_endpoint_capture(session, "x", DAY, DAY)
    with pytest.raises(DataSourceError, match=r"describing endpoint nope.*"):
        lib.load_endpoint_capture(session, "nope", DAY, DAY + dt.timedelta(hours=1))


def test_destination_given_skips_sagemaker(aws_env: str) -> None:
    seed_capture(aws_env, hours=2, create_endpoint=False)
    session, calls = counted_session()
    frame = capture_s3.load_endpoint_capture(
        session, "churn-prod", pd.Timestamp("2024-05-06T01:00Z"), "2024-05-06T02:00",
        destination=f"s3://{CAPTURE_BUCKET}/datacapture/",
    )  # fmt: skip
    assert len(frame) == 10
    assert "DescribeEndpoint" not in calls
