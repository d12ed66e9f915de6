"""Drift chart builders, asserted on their Vega-Lite specs and the binned data they embed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib import charts, drift
from lib.demo import drift as demo_drift
from lib.errors import InputError


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return demo_drift.demo_reference(600), demo_drift.demo_current(600)


def _data(chart: object) -> pd.DataFrame:
    data = chart.data  # type: ignore[attr-defined]
    assert isinstance(data, pd.DataFrame)
    return data


def test_histogram_draws_bars_from_bin_edges_down_to_zero(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    overlay = drift.binned_overlay(*frames, "income", "numeric", bins=12)
    chart = charts.drift_overlay(overlay, "income")
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "bar"
    enc = spec["encoding"]
    assert (enc["x"]["field"], enc["x2"]["field"], enc["y"]["field"]) == ("bin_start", "bin_end", "share")
    assert enc["y2"] == {"datum": 0}  # bars, not slivers
    assert enc["color"]["scale"]["domain"] == ["reference", "current"]
    data = _data(chart)
    assert len(data) == 2 * 12  # binned rows only, never the 1,200 raw rows
    np.testing.assert_allclose(data.groupby("side")["share"].sum(), [1.0, 1.0])


def test_ecdf_is_a_step_line_ending_at_one(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    overlay = drift.binned_overlay(*frames, "basket_value", "numeric")
    chart = charts.drift_overlay(overlay, "basket_value", mode="ecdf")
    spec = chart.to_dict()
    assert spec["mark"] == {"type": "line", "interpolate": "step-after", "strokeWidth": 2}
    assert spec["encoding"]["y"]["field"] == "cumulative_share"
    last = _data(chart).groupby("side")["cumulative_share"].last()
    np.testing.assert_allclose(last, [1.0, 1.0])


def test_categories_get_side_by_side_bars_in_frequency_order(
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    overlay = drift.binned_overlay(*frames, "plan")
    spec = charts.drift_overlay(overlay, "plan").to_dict()
    assert spec["encoding"]["xOffset"]["field"] == "side"
    assert spec["encoding"]["x"]["sort"][0] == "basic"  # most frequent first
    assert "trial" in spec["encoding"]["x"]["sort"]  # the unseen category is shown


def test_unknown_overlay_mode_is_an_input_error(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    overlay = drift.binned_overlay(*frames, "age", "numeric")
    with pytest.raises(InputError, match="Unknown overlay mode"):
        charts.drift_overlay(overlay, "age", mode="violin")


def test_heatmap_has_one_cell_per_window_and_column_and_marks_drift(
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    report = drift.compare_windows(
        frames[0], frames[1], timestamp="event_time", freq="W", prediction="churn_score", label="churned"
    )
    chart = charts.drift_heatmap(report.table)
    spec = chart.to_dict()
    rect, dots = spec["layer"]
    assert rect["mark"]["type"] == "rect"
    assert dots["transform"] == [{"filter": "datum.drifted"}]
    assert rect["encoding"]["color"]["scale"]["domain"] == [0, 0.2]  # twice the 0.1 threshold
    cells = _data(chart)  # the layers share one data set
    assert len(cells) == len(report.windows) * report.table["column"].nunique()
    assert rect["encoding"]["x"]["sort"] == list(report.windows["window"])  # time runs left to right
    assert rect["encoding"]["x"]["title"] == "Window (time →)"
    assert rect["encoding"]["color"]["condition"] == {"test": "datum.too_small", "value": "#d9d9d9"}
    assert cells["effect_shown"].max() <= 0.2


def test_importance_bars_sorted_largest_first() -> None:
    importance = pd.DataFrame({"column": ["a", "b", "c"], "importance": [0.2, 0.5, 0.3]})
    spec = charts.drift_importance(importance).to_dict()
    assert spec["encoding"]["y"]["sort"] == ["b", "c", "a"]
    assert spec["encoding"]["x"]["axis"]["format"] == "%"


def test_performance_chart_shows_reference_band_only_when_reference_has_labels() -> None:
    perf = pd.DataFrame(
        {
            "window": ["reference", "w1", "w2"],
            "window_start": [
                pd.NaT,
                pd.Timestamp("2024-05-01", tz="UTC"),
                pd.Timestamp("2024-05-02", tz="UTC"),
            ],
            "n": [100, 50, 50],
            "metric": "accuracy",
            "value": [0.8, 0.75, 0.6],
            "low": [0.71, 0.61, 0.46],
            "high": [0.87, 0.85, 0.72],
        }
    )
    spec = charts.prediction_performance(perf).to_dict()
    marks = [
        layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]
    ]
    assert marks == ["rect", "rule", "errorbar", "line"]
    assert spec["layer"][2]["encoding"]["y"]["axis"]["format"] == "%"
    without_reference = charts.prediction_performance(perf.iloc[1:]).to_dict()
    assert len(without_reference["layer"]) == 2
