"""Chart builders of the Timing & cost and Model Monitor pages: specs carry the data and marks promised."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from lib import charts
from lib.analysis import latency, monitor_checks, pricing, series, timing
from lib.demo import latency as demo_latency_data
from lib.schema import validate_jobs
from lib.sources import latency as latency_files
from lib.sources import monitor_files
from tests.unit.charts.test_charts import _views

DATA_DIR = "tests/data/model_monitor"


def _datasets(spec: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return list(spec["datasets"].values())


def _data_of(spec: dict[str, Any], view: dict[str, Any]) -> list[dict[str, Any]]:
    return spec["datasets"][view["data"]["name"]] if "data" in view else _datasets(spec)[0]


@pytest.fixture
def jobs() -> pd.DataFrame:
    t0 = pd.Timestamp("2026-11-01", tz="UTC")
    return validate_jobs(
        pd.DataFrame(
            {
                "job": ["late", "early", "spot"],
                "start": [t0 + pd.Timedelta(hours=5), t0, t0 + pd.Timedelta(hours=9)],
                "instance_type": ["ml.m5.xlarge"] * 3,
                "instance_count": [1, 2, 1],
                "training_seconds": [3600.0, 1800.0, 7200.0],
                "billable_seconds": [3600.0, 1800.0, 3600.0],
                "spot": [False, False, True],
                "phase.Starting_s": [60.0, 90.0, 30.0],
                "phase.Training_s": [3000.0, 1500.0, 7000.0],
            }
        )
    )


def test_series_drift_marks_change_points_windows_and_regime_medians() -> None:
    values = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 20.1, 19.9, 20.2, 20.0, 19.8, 20.1]
    times = pd.date_range("2026-11-01", periods=12, freq="D", tz="UTC")
    drift = series.series_drift(values, labels=[f"r{i}" for i in range(12)], times=times, recent=3)
    spec = charts.series_drift(
        drift.series, drift.change_points, title="T", y_title="Training time (s)"
    ).to_dict()
    views = _views(spec)
    marks = [v["mark"]["type"] if isinstance(v["mark"], dict) else v["mark"] for v in views]
    assert marks == ["line", "line", "circle", "rule", "text"]
    dots, rule = views[2], views[3]
    assert dots["encoding"]["x"]["field"] == "time"
    assert dots["encoding"]["color"]["scale"]["domain"] == ["baseline", "recent"]
    assert views[1]["encoding"]["y"]["field"] == "segment_median"
    assert views[1]["encoding"]["detail"]["field"] == "segment"
    (cp_row,) = _data_of(spec, rule)
    assert cp_row["label"] == "r6"
    assert pd.Timestamp(cp_row["time"]) == times[6]
    assert len(_data_of(spec, dots)) == 12
    assert set(spec["config"]) <= {"view"}


def test_series_drift_without_times_uses_positions_and_no_rule_without_change_points() -> None:
    drift = series.series_drift([1.0, 1.1, 0.9, 1.0, 1.05, 0.95])
    spec = charts.series_drift(
        drift.series, drift.change_points, title="T", y_title="v", log_y=True
    ).to_dict()
    views = _views(spec)
    assert len(views) == 3
    assert views[2]["encoding"]["x"]["field"] == "position"
    assert views[2]["encoding"]["y"]["scale"]["type"] == "log"


def test_phase_bars_stack_phases_in_order_runs_by_start(jobs: pd.DataFrame) -> None:
    phases = timing.phase_durations(timing.run_timings(jobs))
    spec = charts.phase_bars(phases).to_dict()
    enc = spec["encoding"]
    assert enc["y"]["sort"] == ["early", "late", "spot"]
    assert enc["color"]["sort"] == ["Starting", "Training"]
    assert enc["order"]["field"] == "order"
    rows = _datasets(spec)[0]
    assert {(r["job"], r["phase"]): r["minutes"] for r in rows}[("spot", "Training")] == pytest.approx(
        7000 / 60
    )
    assert spec["height"] == 120  # three runs: the minimum height


def test_cost_bars_stack_paid_and_spot_saving(jobs: pd.DataFrame) -> None:
    costs = pricing.cost_table(jobs, {"ml.m5.xlarge": 0.23})
    spec = charts.cost_bars(costs).to_dict()
    rows = _datasets(spec)[0]
    parts = {(r["job"], r["part"]): r["usd"] for r in rows}
    assert parts[("late", "paid")] == pytest.approx(0.23)
    assert parts[("early", "paid")] == pytest.approx(0.23)  # 1800 s × 2 instances
    assert parts[("spot", "paid")] == pytest.approx(0.23)
    assert parts[("spot", "saved by spot")] == pytest.approx(0.23)  # 7200 s on demand − 3600 s billed
    assert ("late", "saved by spot") not in parts  # on-demand runs have no saving bar
    assert spec["encoding"]["color"]["scale"]["domain"] == ["paid", "saved by spot"]


def test_latency_percentiles_dash_per_percentile_and_change_rule() -> None:
    pcts = latency.latency_percentiles(demo_latency_data.demo_latency(days=2), freq="1h")
    spec = charts.latency_percentiles(pcts, change_times=[demo_latency_data.DEMO_LATENCY_CHANGE]).to_dict()
    lines, rule = _views(spec)
    assert lines["encoding"]["y"]["field"] == "value_ms"
    assert lines["encoding"]["strokeDash"]["scale"]["domain"] == ["p50", "p90", "p99"]
    assert {r["percentile"] for r in _data_of(spec, lines)} == {"p50", "p90", "p99"}
    assert {r["series"] for r in _data_of(spec, lines)} == {"churn-endpoint/AllTraffic"}
    assert pd.Timestamp(_data_of(spec, rule)[0]["timestamp"]) == demo_latency_data.DEMO_LATENCY_CHANGE
    overhead = charts.latency_percentiles(pcts, metric="OverheadLatency").to_dict()
    assert len(_views(overhead)) == 1
    assert overhead["title"]["text"] == "OverheadLatency percentiles"


def test_baseline_vs_current_puts_both_shares_side_by_side() -> None:
    baseline = monitor_files.read_statistics(f"{DATA_DIR}/statistics.json")
    current = pd.DataFrame({"plan": ["basic", "basic", "pro", "gold"]})
    dists = monitor_checks.baseline_distributions(baseline, current)
    spec = charts.baseline_vs_current(dists, "plan").to_dict()
    rows = _datasets(spec)[0]
    cur = {r["bucket"]: r["share"] for r in rows if r["side"] == "current"}
    assert cur["basic"] == pytest.approx(0.5)
    assert cur["gold"] == pytest.approx(0.25)  # an unseen category gets its own bar
    assert spec["encoding"]["xOffset"]["field"] == "side"
    assert spec["encoding"]["y"]["axis"]["format"] == "%"


def test_timing_builders_accept_empty_frames(jobs: pd.DataFrame) -> None:
    none = jobs.iloc[0:0]
    built = [
        charts.phase_bars(timing.phase_durations(timing.run_timings(none))),
        charts.cost_bars(pricing.cost_table(none)),
        charts.latency_percentiles(latency.latency_percentiles(latency_files.empty_latency())),
        charts.series_drift(series.series_drift([]).series, (), title="T", y_title="v"),
    ]
    for chart in built:
        spec = chart.to_dict()
        assert all(rows == [] for rows in spec.get("datasets", {}).values())


def test_latency_percentiles_thins_long_series_but_keeps_each_lines_peak() -> None:
    pcts = latency.latency_percentiles(demo_latency_data.demo_latency(days=14), freq="5min")
    shown = pcts.loc[pcts["metric"] == "ModelLatency"]
    assert len(shown) > 2000  # long enough to need thinning at this budget
    spec = charts.latency_percentiles(pcts, max_points=2000).to_dict()
    rows = _data_of(spec, _views(spec)[0])
    assert len(rows) <= 2000
    for pct, line in shown.groupby("percentile"):
        kept = [r["value_ms"] for r in rows if r["percentile"] == pct]
        assert max(kept) == pytest.approx(line["value_ms"].max())
