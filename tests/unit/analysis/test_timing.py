"""Run timings, window comparison, change points and endpoint latency."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.stub import ANY, Stubber
from scipy import stats

from lib.analysis.latency import latency_drift, latency_percentiles
from lib.analysis.series import (
    change_points,
    compare_windows,
    default_penalty,
    explain_change_points,
    robust_scale,
    series_drift,
)
from lib.analysis.timing import (
    duration_drift,
    phase_columns,
    phase_durations,
    run_timings,
    runs_cost_table,
    timing_measures,
)
from lib.demo.latency import DEMO_LATENCY_CHANGE, demo_latency
from lib.errors import DataSourceError, InputError
from lib.schema import validate_jobs, validate_metrics
from lib.sources.aws import session as aws
from lib.sources.aws.endpoint_latency import load_endpoint_latency
from lib.sources.latency import LATENCY_COLUMNS, read_latency_export
from tests.support import aws_server

# fixtures from the shared moto helper (a session-scoped server; a fresh, isolated env per test)
moto_endpoint = aws_server.moto_endpoint
aws_env = aws_server.aws_env

# --------------------------------------------------------------------------- run timings


def test_run_timings_from_jobs_phases_and_metric_epochs() -> None:
    jobs = validate_jobs(
        pd.DataFrame(
            {
                "job": ["b", "a"],
                "start": ["2024-05-02T10:00:00Z", "2024-05-01T10:00:00Z"],
                "end": ["2024-05-02T10:20:00Z", "2024-05-01T10:21:34Z"],
                "training_seconds": [np.nan, 1294],
                "billable_seconds": [np.nan, 1294],
                "instance_type": ["ml.m5.xlarge", "ml.p3.2xlarge"],
                "instance_count": [1, 1],
                "phase.Training_s": [1000.0, 1160.0],
                "phase.Downloading_s": [60.0, 120.0],
                "hp.epochs": ["10", "12"],
            }
        )
    )
    t0 = pd.Timestamp("2024-05-01T10:05:12Z")
    metrics = validate_metrics(
        pd.DataFrame(
            {
                "job": ["a"] * 6,
                "metric": ["train:accuracy", "validation:accuracy"] * 3,
                "timestamp": [t0 + pd.Timedelta(seconds=s) for s in (90, 95, 180, 186, 270, 275)],
                "value": [0.5, 0.4, 0.6, 0.5, 0.7, 0.6],
                "epoch": [0, 0, 1, 1, 2, 2],
            }
        )
    )
    out = run_timings(jobs, metrics).set_index("job")
    assert list(out.index) == ["a", "b"]  # sorted by start
    assert out.loc["a", "training_s"] == 1294
    assert out.loc["b", "training_s"] == 1200  # from start/end
    assert out.loc["b", "billable_s"] == 1200
    assert out.loc["a", "phase.Downloading_s"] == 120
    # a: first report of epochs 0 and 2 are 180 s apart → 90 s/epoch, from metrics
    assert out.loc["a", "seconds_per_epoch"] == pytest.approx(90.0)
    assert out.loc["a", "n_epochs"] == 3
    assert out.loc["a", "epoch_source"] == "metrics"
    # b: no metrics → Training phase / hp.epochs
    assert out.loc["b", "seconds_per_epoch"] == pytest.approx(100.0)
    assert out.loc["b", "epoch_source"] == "hyperparameter"


def test_run_timings_without_epochs_leaves_nan() -> None:
    out = run_timings(validate_jobs(pd.DataFrame({"job": ["x"], "training_seconds": [10]})))
    assert math.isnan(out["seconds_per_epoch"].iloc[0])
    assert out["epoch_source"].iloc[0] == ""


# --------------------------------------------------------------------------- window comparison


def test_compare_windows_matches_scipy_and_reports_ratio_of_medians() -> None:
    values = [100, 102, 98, 101, 99, 103, 97, 100, 130, 128, 133, 131]
    result = compare_windows(values, recent=4)
    expected = stats.mannwhitneyu([130, 128, 133, 131], values[:8], alternative="two-sided")
    assert result.p_value == pytest.approx(expected.pvalue)
    assert result.statistic == pytest.approx(expected.statistic)
    assert (result.n_baseline, result.n_recent) == (8, 4)
    assert result.median_baseline == 100.0
    assert result.median_recent == 130.5
    assert result.ratio == pytest.approx(1.305)
    assert result.significant
    assert "(×1.30, 30% higher)" in result.explanation
    assert "a real shift at the 0.05 level" in result.explanation


def test_compare_windows_baseline_is_the_values_just_before_recent() -> None:
    values = [500, 500, 500, 100, 101, 99, 100, 102]
    result = compare_windows(values, recent=2, baseline=3)
    assert result.n_baseline == 3
    assert result.median_baseline == 100.0  # [100, 101, 99], not the earlier 500s


def test_compare_windows_same_distribution_is_not_significant(rng: np.random.Generator) -> None:
    result = compare_windows(rng.normal(1000, 30, 30), recent=10)
    assert not result.significant
    assert "not distinguishable from chance" in result.explanation


def test_compare_windows_with_too_few_values_explains_instead_of_failing() -> None:
    result = compare_windows([1.0, 2.0, math.nan], recent=1)
    assert math.isnan(result.p_value)
    assert "Not enough runs" in result.explanation


def test_compare_windows_rejects_nonpositive_windows() -> None:
    with pytest.raises(InputError, match="recent window"):
        compare_windows([1.0, 2.0, 3.0], recent=0)


# --------------------------------------------------------------------------- change points


def test_change_points_finds_an_obvious_step() -> None:
    values = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 20.1, 19.9, 20.2, 20.0, 19.8, 20.1]
    assert change_points(values) == [6]


def test_change_points_positions_skip_nans_but_refer_to_the_input() -> None:
    values = [10.0, 10.2, math.nan, 9.9, 10.1, 10.0, 9.8, 20.1, 19.9, 20.2, 20.0, 19.8, 20.1]
    assert change_points(values) == [7]


def test_change_points_on_stationary_series_false_alarm_rate() -> None:
    # The documented calibration: ≈ 2 % of stationary Gaussian series of length 20-200 get a
    # change point; we allow 8 % on 300 seeded series (binomial sd at 3 % is 1 %).
    rng = np.random.default_rng(2024)
    alarms = sum(bool(change_points(rng.normal(size=int(rng.integers(20, 201))))) for _ in range(300))
    assert alarms / 300 <= 0.08


def test_change_points_short_series_false_alarm_rate() -> None:
    rng = np.random.default_rng(7)
    alarms = sum(bool(change_points(rng.normal(size=20))) for _ in range(300))
    assert alarms / 300 <= 0.10


def test_change_points_finds_a_two_sd_shift_near_where_it_happened() -> None:
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(100):
        x = rng.normal(size=60)
        x[30:] += 2.0
        hits += any(abs(c - 30) <= 3 for c in change_points(x))
    assert hits >= 85


def test_change_points_single_outlier_is_not_a_change_point() -> None:
    rng = np.random.default_rng(5)
    quiet = 0
    for _ in range(100):
        x = rng.normal(size=60)
        x[25] += 12.0
        quiet += not change_points(x)
    assert quiet >= 90


def test_change_points_two_changes_and_scale_invariance() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 1, 40), rng.normal(4, 1, 40), rng.normal(-1, 1, 40)])
    cps = change_points(x)
    assert len(cps) == 2
    assert abs(cps[0] - 40) <= 2
    assert abs(cps[1] - 80) <= 2
    assert change_points(1000 + 50 * x) == cps


def test_change_points_min_size_and_edge_cases() -> None:
    step = [0.0] * 10 + [5.0, 5.1, 4.9] + [0.0] * 10
    assert change_points(step, min_size=3) == [10, 13]
    assert change_points(step, min_size=4) == []  # a 3-run episode is too short for min_size 4
    assert change_points([1.0] * 30) == []
    assert change_points([1.0, 2.0]) == []
    with pytest.raises(InputError):
        change_points([1.0, 2.0, 3.0], min_size=0)


def test_larger_penalty_gives_fewer_change_points() -> None:
    rng = np.random.default_rng(9)
    x = np.concatenate([rng.normal(0, 1, 30), rng.normal(1.2, 1, 30)])
    assert len(change_points(x, penalty=1e6)) == 0
    assert len(change_points(x, penalty=2.0)) >= len(change_points(x))


def test_robust_scale_ignores_level_shifts_and_penalty_formula() -> None:
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 2, 500), rng.normal(50, 2, 500)])
    assert robust_scale(x) == pytest.approx(2.0, rel=0.1)
    assert default_penalty(100) == pytest.approx(2 * math.log(100) + 6)


def test_explain_change_points_in_words() -> None:
    values = [100.0, 101, 99, 100, 150, 151, 149, 150]
    texts = explain_change_points(values, [4], labels=[f"run-{i}" for i in range(8)])
    assert texts == [
        "From run-4 on, the typical value is 150 s against 100 s before "
        "(up 50%; medians of the 4 values after and 4 before)."
    ]


# --------------------------------------------------------------------------- latency


STATS_JSON = {
    "Label": "ModelLatency",
    "Datapoints": [
        {"Timestamp": "2024-05-06T10:01:00+00:00", "Average": 12000.0, "Unit": "Microseconds",
         "ExtendedStatistics": {"p50": 11000.0, "p90": 15000.0, "p99": 30000.0}},
        {"Timestamp": "2024-05-06T10:00:00+00:00", "Average": 10000.0, "Unit": "Microseconds",
         "ExtendedStatistics": {"p50": 9000.0, "p90": 13000.0, "p99": 20000.0}},
    ],
}  # fmt: skip
DATA_JSON = {
    "MetricDataResults": [
        {"Id": "m1", "Label": "my-ep AllTraffic ModelLatency p90",
         "Timestamps": ["2024-05-06T10:01:00Z", "2024-05-06T10:00:00Z"], "Values": [15000.0, 13000.0],
         "StatusCode": "Complete"},
        {"Id": "m2_avg", "Label": "OverheadLatency",
         "Timestamps": ["2024-05-06T10:00:00Z"], "Values": [1500.0], "StatusCode": "Complete"},
    ],
    "Messages": [],
}  # fmt: skip


def test_read_get_metric_statistics_with_extended_statistics() -> None:
    frame = read_latency_export(json.dumps(STATS_JSON).encode(), endpoint="ep", variant="AllTraffic")
    assert tuple(frame.columns) == LATENCY_COLUMNS
    assert sorted(frame["stat"].unique()) == ["Average", "p50", "p90", "p99"]
    p90 = frame.loc[frame["stat"] == "p90"]
    assert p90["value_us"].tolist() == [13000.0, 15000.0]  # sorted by time
    assert set(frame["endpoint"]) == {"ep"}
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"


def test_milliseconds_unit_is_converted_to_microseconds() -> None:
    doc = {
        "Label": "ModelLatency",
        "Datapoints": [{"Timestamp": "2024-05-06T10:00:00Z", "Average": 12.5, "Unit": "Milliseconds"}],
    }
    assert read_latency_export(json.dumps(doc).encode())["value_us"].tolist() == [12500.0]


def test_read_get_metric_data_parses_labels() -> None:
    frame = read_latency_export(json.dumps(DATA_JSON).encode())
    p90 = frame.loc[frame["stat"] == "p90"]
    assert set(p90["endpoint"]) == {"my-ep"}
    assert set(p90["variant"]) == {"AllTraffic"}
    assert set(p90["metric"]) == {"ModelLatency"}
    overhead = frame.loc[frame["metric"] == "OverheadLatency"]
    assert overhead["stat"].tolist() == ["Average"]  # from the query Id "m2_avg"


def test_read_csv_long_and_wide_and_several_sources() -> None:
    long_csv = b"timestamp,metric,value,endpoint,variant\n2024-05-06 10:00:00,ModelLatency,12000,ep,v1\n"
    wide_csv = b"Timestamp,ModelLatency,OverheadLatency\n2024-05-06T10:00:00Z,11000,900\n"
    frame = read_latency_export([long_csv, wide_csv])
    assert len(frame) == 3
    assert sorted(frame["value_us"]) == [900.0, 11000.0, 12000.0]
    ms = read_latency_export(b"time,latency_ms\n2024-05-06 10:00:00,12.5\n")
    assert ms["value_us"].tolist() == [12500.0]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b'{"Items": []}', r"lat\.json: the JSON has keys Items"),
        (b"{not json", r"lat\.json: looks like JSON but does not parse"),
        (b"when,value\n1,2\n", r"lat\.json: no timestamp column; found columns when, value"),
        (b"timestamp,foo\n2024-05-06,2\n", r"lat\.json: no value column"),
    ],
)
def test_bad_latency_files_name_the_file_and_what_was_expected(content: bytes, match: str) -> None:
    with pytest.raises(InputError, match=match):
        read_latency_export(content, name="lat.json")


def test_percentiles_from_cloudwatch_percentile_statistics() -> None:
    frame = read_latency_export(json.dumps(STATS_JSON).encode())
    out = latency_percentiles(frame, freq="1h")
    p99 = out.loc[out["percentile"] == "p99"]
    assert p99["value_us"].tolist() == [25000.0]  # mean of the two periods' p99
    assert p99["value_ms"].tolist() == [25.0]
    assert p99["n_points"].tolist() == [2]


def test_percentiles_computed_from_raw_values() -> None:
    times = pd.date_range("2024-05-06 10:00", periods=101, freq="30s", tz="UTC")
    frame = pd.DataFrame(
        {"timestamp": times, "endpoint": "e", "variant": "v", "metric": "ModelLatency", "stat": "Average",
         "value_us": np.arange(101, dtype="float64") * 100}
    )  # fmt: skip
    out = latency_percentiles(frame, freq="1D").set_index("percentile")
    assert out.loc["p50", "value_us"] == pytest.approx(np.percentile(frame["value_us"], 50))
    assert out.loc["p90", "value_us"] == pytest.approx(9000.0)
    assert out.loc["p99", "n_points"] == 101


def test_demo_latency_is_deterministic_and_its_step_is_found() -> None:
    demo = demo_latency()
    pd.testing.assert_frame_equal(demo, demo_latency())
    hourly = latency_percentiles(demo)
    p90 = hourly.loc[(hourly["metric"] == "ModelLatency") & (hourly["percentile"] == "p90")]
    cps = change_points(np.log(p90["value_us"].to_numpy()))
    assert [p90["timestamp"].iloc[c] for c in cps] == [DEMO_LATENCY_CHANGE]


# --------------------------------------------------------------------------- series drift


def test_series_drift_marks_windows_segments_and_change_points() -> None:
    values = [100.0, 101, 99, 100, 102, 98, 100, 150, 151, 149, 150, 152, 148]
    labels = [f"run-{i}" for i in range(len(values))]
    drift = series_drift(values, labels=labels, recent=4, baseline=5)
    s = drift.series
    assert list(s["window"]) == ["earlier"] * 4 + ["baseline"] * 5 + ["recent"] * 4
    assert drift.change_points == (7,)
    assert list(s["segment"]) == [0] * 7 + [1] * 6
    assert s["segment_median"].iloc[0] == 100.0
    assert s["segment_median"].iloc[-1] == 150.0
    assert drift.comparison.n_recent == 4
    assert drift.comparison.n_baseline == 5
    assert "starting at run-7" in drift.summary
    assert drift.explanations[0].startswith("From run-7 on")


def test_series_drift_drops_missing_values_with_their_labels() -> None:
    drift = series_drift([1.0, np.nan, 2.0, 3.0], labels=["a", "b", "c", "d"])
    assert list(drift.series["label"]) == ["a", "c", "d"]
    assert list(drift.series["position"]) == [0, 1, 2]
    assert "Too few runs" in drift.summary
    with pytest.raises(InputError, match="one entry per value"):
        series_drift([1.0, 2.0], labels=["a"])


def test_series_drift_uses_log_scale_for_ratios_but_raw_values_with_zeros() -> None:
    rng = np.random.default_rng(7)
    # Multiplicative noise: a ×2 step is clear on the log scale.
    x = np.exp(np.r_[rng.normal(0, 0.05, 20), np.log(2) + rng.normal(0, 0.05, 20)]) * 1000
    assert series_drift(x).change_points == tuple(change_points(np.log(x)))
    with_zero = np.r_[0.0, x]
    assert series_drift(with_zero).change_points == tuple(change_points(with_zero))


def test_duration_drift_follows_runs_in_start_order() -> None:
    t0 = pd.Timestamp("2026-11-01", tz="UTC")
    # Given out of order: the drift must sort by start; the last 6 runs take twice as long.
    secs = [600.0, 610, 590, 605, 595, 600, 1200, 1210, 1190, 1205, 1195, 1200]
    jobs = validate_jobs(
        pd.DataFrame(
            {
                "job": [f"j{i:02d}" for i in range(12)][::-1],
                "start": [t0 + pd.Timedelta(hours=i) for i in range(12)][::-1],
                "training_seconds": secs[::-1],
            }
        )
    )
    drift = duration_drift(run_timings(jobs), "training_s", recent=6)
    assert list(drift.series["label"]) == [f"j{i:02d}" for i in range(12)]
    assert drift.change_points == (6,)
    assert drift.comparison.ratio == pytest.approx(1200 / 600)
    assert drift.comparison.significant
    with pytest.raises(InputError, match="No timing column"):
        duration_drift(run_timings(jobs), "nope")


def test_phase_durations_long_form_in_phase_order() -> None:
    jobs = validate_jobs(
        pd.DataFrame(
            {
                "job": ["b", "a"],
                "start": ["2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z"],
                "phase.Uploading_s": [5.0, 6.0],
                "phase.Training_s": [100.0, np.nan],
                "phase.Starting_s": [30.0, 40.0],
            }
        )
    )
    timings = run_timings(jobs)
    assert phase_columns(timings) == ["phase.Starting_s", "phase.Training_s", "phase.Uploading_s"]
    long = phase_durations(timings)
    assert list(zip(long["job"], long["phase"], strict=True)) == [
        ("a", "Starting"), ("a", "Uploading"), ("b", "Starting"), ("b", "Training"), ("b", "Uploading"),
    ]  # fmt: skip
    assert long["seconds"].tolist() == [40.0, 6.0, 30.0, 100.0, 5.0]
    assert phase_durations(run_timings(validate_jobs(pd.DataFrame({"job": ["x"]})))).empty
    assert set(timing_measures(timings)) == {"phase.Starting_s", "phase.Uploading_s"}  # ≥ 2 values each


def test_latency_drift_finds_the_demo_step_in_p90() -> None:
    pcts = latency_percentiles(demo_latency(), freq="1h")
    drift = latency_drift(pcts, metric="ModelLatency", percentile="p90", what="hours")
    (cp,) = drift.change_points
    assert drift.series["time"].iloc[cp] == DEMO_LATENCY_CHANGE
    assert drift.comparison.ratio == pytest.approx(1.35, rel=0.05)
    assert drift.unit == "ms"
    with pytest.raises(InputError, match="No NoSuchLatency p90"):
        latency_drift(pcts, metric="NoSuchLatency")


def test_runs_cost_table_joins_timings_and_written_out_cost() -> None:
    jobs = validate_jobs(
        pd.DataFrame(
            {
                "job": ["a", "b"],
                "start": ["2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"],
                "instance_type": ["ml.m5.xlarge", "ml.m5.xlarge"],
                "instance_count": [2, 1],
                "training_seconds": [3600.0, 7200.0],
                "billable_seconds": [3600.0, 1800.0],
                "spot": [False, True],
            }
        )
    )
    table = runs_cost_table(jobs, prices={"ml.m5.xlarge": 0.23})
    assert table["cost_usd"].tolist() == pytest.approx([0.46, 0.115])
    assert table["on_demand_cost_usd"].tolist() == pytest.approx([0.46, 0.46])
    assert table["arithmetic"].iloc[0] == "3,600 s ÷ 3600 × 2 × $0.23/h = $0.46"
    assert "spot saves $0.35" in table["arithmetic"].iloc[1]


# --------------------------------------------------------------------------- live endpoint latency


def _put_latency(moto: str, endpoint: str, t0: dt.datetime, values: list[float]) -> None:
    cw = aws_server.client(moto, "cloudwatch")
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}]
    data = [
        {
            "MetricName": "ModelLatency",
            "Dimensions": dims,
            "Timestamp": t0 + dt.timedelta(minutes=i),
            "Value": v,
        }
        for i, v in enumerate(values)
    ]
    cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=data)


def test_load_endpoint_latency_from_moto_average_and_maximum(aws_env: str) -> None:
    # The start of the previous hour: the three points share one hour bucket whatever the clock says.
    t0 = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    _put_latency(aws_env, "churn-ep", t0, [11_000.0, 12_000.0, 13_000.0])
    _put_latency(aws_env, "other-ep", t0, [99_000.0])  # another endpoint must not leak in
    session = aws.make_session(None, "us-east-1")
    frame = load_endpoint_latency(
        session, "churn-ep", "AllTraffic", t0 - dt.timedelta(minutes=5), t0 + dt.timedelta(minutes=10),
        metrics=("ModelLatency",), stats=("Average", "Maximum"),
    )  # fmt: skip
    assert list(frame.columns) == list(LATENCY_COLUMNS)
    avg = frame.loc[frame["stat"] == "Average"]
    assert avg["value_us"].tolist() == [11_000.0, 12_000.0, 13_000.0]
    assert avg["timestamp"].tolist() == [pd.Timestamp(t0 + dt.timedelta(minutes=i)) for i in range(3)]
    assert set(frame["endpoint"]) == {"churn-ep"}
    assert set(frame["variant"]) == {"AllTraffic"}
    assert frame.loc[frame["stat"] == "Maximum", "value_us"].tolist() == [11_000.0, 12_000.0, 13_000.0]
    assert frame.attrs["period_s"] == 60
    pcts = latency_percentiles(frame, freq="1h")
    assert pcts.loc[pcts["percentile"] == "p50", "value_ms"].tolist() == [12.0]


def test_load_endpoint_latency_with_no_data_says_what_to_check(aws_env: str) -> None:
    session = aws.make_session(None, "us-east-1")
    end = dt.datetime.now(dt.UTC)
    with pytest.raises(DataSourceError, match="no ModelLatency data for endpoint 'ghost'") as info:
        load_endpoint_latency(session, "ghost", "AllTraffic", end - dt.timedelta(hours=1), end,
                              metrics=("ModelLatency",), stats=("Average",))  # fmt: skip
    assert "case-sensitive" in (info.value.hint or "")


def test_load_endpoint_latency_rejects_bad_inputs_before_calling_aws() -> None:
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="AKIAX", aws_secret_access_key="y")
    end = pd.Timestamp("2026-11-20 12:00", tz="UTC")
    with pytest.raises(InputError, match="endpoint name"):
        load_endpoint_latency(session, "  ", "AllTraffic", end - pd.Timedelta(hours=1), end)
    with pytest.raises(InputError, match="window is empty"):
        load_endpoint_latency(session, "ep", "AllTraffic", end, end)
    with pytest.raises(InputError, match="multiple of 60"):
        load_endpoint_latency(session, "ep", "AllTraffic", end - pd.Timedelta(hours=1), end, period=90)


def stub_session() -> boto3.Session:
    return boto3.Session(
        region_name="us-east-1", aws_access_key_id="AKIASTUB", aws_secret_access_key="z" * 40
    )


@pytest.fixture
def stubbed_cloudwatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    session = stub_session()
    client = session.client("cloudwatch", endpoint_url="http://127.0.0.1:9", config=aws.RETRY_CONFIG)
    monkeypatch.setattr(aws, "make_client", lambda session, service, endpoint_url=None: client)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def test_load_endpoint_latency_percentiles_pages_and_status_with_stubber(stubbed_cloudwatch: Stubber) -> None:
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    start = now - dt.timedelta(days=20)  # older than 15 days: CloudWatch only serves 5-minute periods
    t = [start + dt.timedelta(minutes=5 * i) for i in range(3)]
    dims = [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "blue"}]
    metric = {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency", "Dimensions": dims}
    expected_queries = [
        {"Id": f"q{i}", "Label": f"ep blue ModelLatency {s}", "ReturnData": True,
         "MetricStat": {"Metric": metric, "Period": 300, "Stat": s}}
        for i, s in enumerate(("p50", "p90", "p99"))
    ]  # fmt: skip
    params = {"MetricDataQueries": expected_queries, "StartTime": ANY, "EndTime": ANY,
              "ScanBy": "TimestampAscending"}  # fmt: skip

    def result(qid: str, times: list[dt.datetime], values: list[float], status: str) -> dict[str, Any]:
        return {"Id": qid, "Label": "x", "Timestamps": times, "Values": values, "StatusCode": status}

    first = [
        result("q0", t[:2], [10_000.0, 11_000.0], "PartialData"),
        result("q1", t, [20_000.0, 21_000.0, 22_000.0], "Complete"),
        result("q2", t, [30_000.0, 31_000.0, 32_000.0], "Complete"),
    ]
    stubbed_cloudwatch.add_response(
        "get_metric_data", {"MetricDataResults": first, "NextToken": "p2"}, params
    )
    second = [result("q0", t[2:], [12_000.0], "Complete")]
    stubbed_cloudwatch.add_response(
        "get_metric_data", {"MetricDataResults": second}, {**params, "NextToken": "p2"}
    )
    session = stub_session()
    frame = load_endpoint_latency(session, "ep", "blue", start, now, metrics=("ModelLatency",),
                                  stats=("p50", "p90", "p99"), now=now)  # fmt: skip
    assert frame.attrs["period_s"] == 300
    p50 = frame.loc[frame["stat"] == "p50"]
    assert p50["value_us"].tolist() == [10_000.0, 11_000.0, 12_000.0]  # both pages merged
    pcts = latency_percentiles(frame, freq="1h")
    assert pcts.set_index("percentile")["value_ms"].to_dict() == {"p50": 11.0, "p90": 21.0, "p99": 31.0}
    # q0's first page said PartialData but its last page Complete: the final status wins, no warning.
    assert frame.attrs["warnings"] == ()


def test_load_endpoint_latency_access_denied_names_the_permission(stubbed_cloudwatch: Stubber) -> None:
    stubbed_cloudwatch.add_client_error(
        "get_metric_data",
        service_error_code="AccessDenied",
        service_message="not allowed",
        http_status_code=403,
    )
    session = stub_session()
    end = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    with pytest.raises(DataSourceError, match="cloudwatch:GetMetricData"):
        load_endpoint_latency(session, "ep", "AllTraffic", end - dt.timedelta(hours=1), end, now=end)
