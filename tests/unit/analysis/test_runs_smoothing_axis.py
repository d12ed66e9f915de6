"""lib.analysis.runs: TensorBoard's debiased EMA, the compressed run axis and its default."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.analysis import runs
from lib.errors import InputError
from lib.schema import validate_metrics


def _tensorboard_smooth(values: list[float], weight: float) -> list[float]:
    """TensorBoard's scalar smoothing, written as its frontend does (the reference)."""
    last, out = 0.0, []
    for i, v in enumerate(values):
        last = last * weight + (1 - weight) * v
        out.append(last / (1 - weight ** (i + 1)))
    return out


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_ema_debiased_matches_tensorboard(rng: np.random.Generator, weight: float) -> None:
    values = list(rng.normal(0.8, 0.05, size=40))
    frame = pd.DataFrame({"job": "a", "metric": "m", "x": np.arange(40.0), "value": values})
    got = runs.smooth(frame, method="ema_debiased", weight=weight)["smoothed"].to_numpy()
    np.testing.assert_allclose(got, _tensorboard_smooth(values, weight), rtol=1e-12)


def test_ema_debiased_starts_at_the_first_value_not_near_zero() -> None:
    frame = pd.DataFrame({"job": "a", "metric": "m", "x": [0.0, 1.0, 2.0], "value": [0.9, 0.9, 0.9]})
    smoothed = runs.smooth(frame, method="ema_debiased", weight=0.9)["smoothed"]
    assert smoothed.tolist() == pytest.approx([0.9, 0.9, 0.9])  # an undebiased EMA starts at 0.09


def test_ema_debiased_is_per_run_and_keeps_the_input_order() -> None:
    frame = pd.DataFrame(
        {
            "job": ["b", "a", "b", "a"],
            "metric": "m",
            "x": [1.0, 1.0, 0.0, 0.0],
            "value": [2.0, 10.0, 0.0, 20.0],
        }
    )
    out = runs.smooth(frame, method="ema_debiased", weight=0.5)
    assert out["value"].tolist() == frame["value"].tolist()
    assert out["smoothed"].tolist() == pytest.approx([4 / 3, 40 / 3, 0.0, 20.0])


@pytest.mark.parametrize("weight", [-0.1, 1.0, 1.5])
def test_ema_weight_out_of_range_is_refused(weight: float) -> None:
    frame = pd.DataFrame({"job": "a", "metric": "m", "x": [0.0], "value": [1.0]})
    with pytest.raises(InputError, match="EMA weight"):
        runs.smooth(frame, method="ema_debiased", weight=weight)


def _runs_at(starts_h: list[float], length_h: float = 1.0) -> pd.DataFrame:
    t0 = pd.Timestamp("2026-10-01", tz="UTC")
    rows = [
        {
            "job": f"r{i}",
            "metric": "validation:accuracy",
            "timestamp": t0 + pd.Timedelta(hours=s + length_h * k / 4),
            "value": 0.5 + 0.1 * k,
        }
        for i, s in enumerate(starts_h)
        for k in range(5)
    ]
    return validate_metrics(pd.DataFrame(rows))


def test_run_axis_keeps_run_lengths_and_compresses_idle_time_in_order() -> None:
    frame = _runs_at([0, 25, 50, 75, 175, 275])  # gaps 24 h x 3, then 99 h x 2
    axis = runs.run_time_axis(frame)
    pos = frame.assign(p=axis.position_h).groupby("job")["p"].agg(["min", "max"])
    assert (pos["max"] - pos["min"]).tolist() == pytest.approx([1.0] * 6)  # a run keeps its length
    gaps = (pos["min"].shift(-1) - pos["max"]).dropna().to_numpy()
    assert gaps.max() < 24  # idle time shrinks ...
    assert gaps[0] == pytest.approx(gaps[1])
    assert gaps[3] > gaps[2] * 1.2
    assert axis.starts["job"].tolist() == [f"r{i}" for i in range(6)]
    assert axis.starts["position_h"].tolist() == pytest.approx(pos["min"].tolist())


def test_run_axis_merges_overlapping_runs_and_ignores_untimed_rows() -> None:
    frame = _runs_at([0, 0.5, 30])
    untimed = frame.iloc[:2].assign(job="tja")
    untimed["timestamp"] = pd.Series(pd.NaT, index=untimed.index, dtype=frame["timestamp"].dtype)
    both = pd.concat([frame, untimed], ignore_index=True)
    axis = runs.run_time_axis(both)
    assert axis.position_h.iloc[-2:].isna().all()
    pos = both.assign(p=axis.position_h).groupby("job")["p"].agg(["min", "max"])
    assert pos.loc["r1", "min"] - pos.loc["r0", "min"] == pytest.approx(0.5)  # overlap: real time


def test_default_time_axis() -> None:
    assert runs.default_time_axis(_runs_at([0, 2, 4, 6])) == "clock"  # back-to-back runs: clock time
    assert runs.default_time_axis(_runs_at([24 * d for d in range(15)])) == "runs"  # weeks of 1-h runs
    assert runs.default_time_axis(_runs_at([0])) == "clock"
