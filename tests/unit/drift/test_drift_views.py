"""Windows, prediction drift and multivariate drift: the data behind the other drift views."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib.demo.drift import DEMO_ROLES, demo_current, demo_reference
from lib.drift import (
    compare,
    compare_windows,
    domain_classifier,
    prediction_drift,
    split_windows,
)
from lib.errors import InputError


def _timed(n: int, days: int, seed: int, shift_from_day: int | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    when = pd.Timestamp("2024-05-01", tz="UTC") + pd.to_timedelta(
        np.sort(rng.uniform(0, days * 86400, n)), unit="s"
    )
    x = rng.normal(0, 1, n)
    if shift_from_day is not None:
        x = x + np.where(
            when >= pd.Timestamp("2024-05-01", tz="UTC") + pd.Timedelta(days=shift_from_day), 1.0, 0.0
        )
    return pd.DataFrame({"when": when, "x": x, "y": rng.normal(0, 1, n)})


def test_split_by_day_week_and_size() -> None:
    frame = _timed(700, 7, 1)
    days = split_windows(frame, timestamp="when", freq="day")
    assert [w.label for w in days] == [f"2024-05-0{d}" for d in range(1, 8)]
    assert sum(len(w.rows) for w in days) == 700
    assert len(split_windows(frame, timestamp="when", freq="W")) == 2  # Wed 1 May → week of Mon 6 May
    sized = split_windows(frame, size=300)
    assert [len(w.rows) for w in sized] == [300, 300, 100]
    with pytest.raises(InputError, match="either by period"):
        split_windows(frame, timestamp="when", freq="D", size=10)
    with pytest.raises(InputError, match="should hold timestamps"):
        split_windows(frame.assign(when="soon"), timestamp="when", freq="D")


def test_window_grid_finds_the_late_shift_and_corrects_across_the_grid() -> None:
    ref = _timed(2000, 7, 2)
    cur = _timed(1400, 7, 3, shift_from_day=4)
    report = compare_windows(ref, cur, timestamp="when", freq="D")
    assert len(report.table) == 7 * 2
    expected = stats.false_discovery_control(report.table["p_value"].to_numpy(), method="bh")
    np.testing.assert_allclose(report.table["p_adjusted"], expected, rtol=1e-12)
    drifted = report.matrix("drifted")
    assert drifted["x"].tolist() == [False] * 4 + [True] * 3
    assert not drifted["y"].any()
    assert list(report.windows["window"]) == list(report.matrix().index)


def test_prediction_drift_with_accuracy_per_window() -> None:
    ref, cur = demo_reference(), demo_current()
    result = prediction_drift(
        ref,
        cur,
        prediction=DEMO_ROLES["prediction"],
        label=DEMO_ROLES["label"],
        timestamp="event_time",
        freq="W",
    )
    assert result.metric == "accuracy"
    assert result.kind == "numeric"
    perf = result.performance
    assert perf is not None
    assert perf["window"].iloc[0] == "reference"
    expected = ((ref["churn_score"] >= 0.5) == (ref["churned"] == 1)).mean()
    assert perf["value"].iloc[0] == pytest.approx(expected)
    assert (perf["low"] <= perf["value"]).all()
    assert (perf["value"] <= perf["high"]).all()
    assert perf["value"].iloc[-1] < perf["value"].iloc[0]  # the demo's concept drift
    assert set(result.overlay["side"]) == {"reference", "current"}


def test_prediction_class_mix_drift() -> None:
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"pred": rng.choice(["cat", "dog"], 800, p=[0.5, 0.5])})
    cur = pd.DataFrame({"pred": rng.choice(["cat", "dog"], 800, p=[0.3, 0.7])})
    result = prediction_drift(ref, cur, prediction="pred")
    assert result.drift.table["test"].item() == "chi2"
    assert result.drift.drifted_columns == ["pred"]
    assert result.performance is None
    with pytest.raises(InputError, match="no prediction column"):
        prediction_drift(ref, cur, prediction="score")


def test_domain_classifier_finds_a_shift_and_the_column_behind_it() -> None:
    rng = np.random.default_rng(8)
    n = 2000
    ref = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["u", "v"], n)})
    cur = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(0.5, 1, n), "c": rng.choice(["u", "v"], n)})
    result = domain_classifier(ref, cur)
    assert result.drifted
    assert result.auc > 0.6
    assert result.auc_low < result.auc < result.auc_high
    assert result.importance["column"].iloc[0] == "b"
    null = domain_classifier(
        ref, pd.DataFrame({c: ref[c].sample(frac=1, random_state=1).to_numpy() for c in ref})
    )
    assert not null.drifted
    assert null.auc < 0.55


def test_pca_reconstruction_sees_a_correlation_change_the_marginals_miss() -> None:
    rng = np.random.default_rng(9)
    n = 3000
    z = rng.normal(size=n)
    ref = pd.DataFrame({"a": z + 0.1 * rng.normal(size=n), "b": z + 0.1 * rng.normal(size=n)})
    cur = pd.DataFrame({"a": rng.normal(size=n) * ref["a"].std(), "b": rng.normal(size=n) * ref["b"].std()})
    result = domain_classifier(ref, cur)
    assert result.pca_components == 1
    assert result.pca_ratio is not None
    assert result.pca_ratio > 5
    assert result.pca_p_value is not None
    assert result.pca_p_value < 1e-6
    assert not compare(ref, cur).table["drifted"].any()  # each column alone looks the same
