"""lib.runs: runs table, robust flags, alignment, smoothing, downsampling, page view helpers."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lib.analysis import runs
from lib.errors import InputError
from lib.schema import validate_jobs, validate_metrics

T0 = pd.Timestamp("2026-11-02 10:00", tz="UTC")


def _series(job: str, metric: str, start_min: float, values: list[float], step_min: float = 10) -> list[dict]:
    return [
        {
            "job": job,
            "metric": metric,
            "timestamp": T0 + pd.Timedelta(minutes=start_min + step_min * i),
            "value": v,
            "epoch": i,
        }
        for i, v in enumerate(values)
    ]


@pytest.fixture
def three_runs() -> pd.DataFrame:
    """run-a 10:00-10:20, run-c 10:30-10:50, run-b 12:00-12:10 (listed out of start order)."""
    rows = [
        *_series("run-a", "validation:accuracy", 0, [0.5, 0.8, 0.7]),
        *_series("run-a", "train:accuracy", 0, [0.6, 0.85, 0.9]),
        *_series("run-b", "validation:accuracy", 120, [0.6, 0.65]),
        *_series("run-b", "train:accuracy", 120, [0.62, 0.7]),
        *_series("run-c", "validation:accuracy", 30, [0.4, 0.9, 0.85]),
        *_series("run-c", "validation:loss", 30, [1.2, 0.3, 0.4]),
    ]
    return validate_metrics(pd.DataFrame(rows))


def _finals_table(finals: list[float], metric: str = "validation:accuracy") -> pd.DataFrame:
    """One run per final value, started an hour apart (regular spacing)."""
    rows = []
    for i, v in enumerate(finals):
        rows += _series(f"run-{i:02d}", metric, 60 * i, [v - 0.1, v], step_min=5)
    return runs.runs_table(validate_metrics(pd.DataFrame(rows)), metric=metric)


# --- runs_table -------------------------------------------------------------------------------


def test_runs_table_values_by_hand(three_runs: pd.DataFrame) -> None:
    table = runs.runs_table(three_runs)
    assert list(table["job"]) == ["run-a", "run-c", "run-b"]  # sorted by start, not by name
    a, c, b = (table.iloc[i] for i in range(3))
    assert (a["first"], a["best"], a["last"], a["min"], a["max"]) == (0.5, 0.8, 0.7, 0.5, 0.8)
    assert a["epoch_at_best"] == 1
    assert a["duration_s"] == 1200.0
    assert np.isnan(a["gap_s"])
    assert c["gap_s"] == 600.0  # 10:30 - 10:20
    assert b["gap_s"] == 4200.0  # 12:00 - 10:50
    assert a["val_minus_train"] == pytest.approx(0.7 - 0.9)
    assert b["val_minus_train"] == pytest.approx(0.65 - 0.7)
    assert np.isnan(c["val_minus_train"])  # run-c has no train:accuracy
    assert list(table["n_points"]) == [3, 3, 2]
    assert list(table.columns) == list(runs.RUNS_TABLE_COLUMNS)
    assert table.attrs == {"metric": "validation:accuracy", "higher_is_better": True}


def test_runs_table_lower_is_better_metric_takes_min_as_best(three_runs: pd.DataFrame) -> None:
    table = runs.runs_table(three_runs, metric="validation:loss")
    assert list(table["job"]) == ["run-c"]
    assert table.loc[0, "best"] == 0.3
    assert table.loc[0, "epoch_at_best"] == 1
    assert table.attrs["higher_is_better"] is False
    forced = runs.runs_table(three_runs, metric="validation:loss", higher_is_better=True)
    assert forced.loc[0, "best"] == 1.2


def test_runs_table_uses_jobs_metadata_when_known(three_runs: pd.DataFrame) -> None:
    jobs = validate_jobs(
        pd.DataFrame(
            {
                "job": ["run-a", "run-b"],
                "start": [T0 - pd.Timedelta(minutes=5), pd.NaT],
                "end": [T0 + pd.Timedelta(minutes=25), pd.NaT],
                "training_seconds": [1800.0, None],
                "instance_type": ["ml.p3.2xlarge", "ml.g5.xlarge"],
            }
        )
    )
    table = runs.runs_table(three_runs, jobs).set_index("job")
    assert table.loc["run-a", "duration_s"] == 1800.0
    assert table.loc["run-a", "start"] == T0 - pd.Timedelta(minutes=5)
    assert table.loc["run-c", "gap_s"] == 300.0  # from run-a's known end 10:25
    assert table.loc["run-b", "duration_s"] == 600.0  # not in jobs: from timestamps
    assert table.loc["run-b", "instance_type"] == "ml.g5.xlarge"
    assert pd.isna(table.loc["run-c", "instance_type"])


def test_runs_table_gap_is_zero_when_runs_overlap() -> None:
    rows = _series("long", "validation:accuracy", 0, [0.1, 0.2, 0.3, 0.4], step_min=30)  # 10:00-11:30
    rows += _series("inside", "validation:accuracy", 20, [0.5, 0.6])  # 10:20-10:30
    rows += _series("after", "validation:accuracy", 100, [0.5, 0.6])  # 11:40
    table = runs.runs_table(validate_metrics(pd.DataFrame(rows))).set_index("job")
    assert table.loc["inside", "gap_s"] == 0.0
    assert table.loc["after", "gap_s"] == 600.0  # since the long run's end, not the inner one's


def test_runs_table_empty_when_metric_absent(three_runs: pd.DataFrame) -> None:
    table = runs.runs_table(three_runs, metric="validation:auc")
    assert table.empty
    assert list(table.columns) == list(runs.RUNS_TABLE_COLUMNS)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("validation:accuracy", True),
        ("train:auc", True),
        ("validation:f1", True),
        ("validation:rmse", False),
        ("train:logloss", False),
        ("validation:merror", False),
        ("train:cross_entropy", False),
        ("validation:objective_loss", False),
        ("test:mae", False),
        ("validation:mse", False),
    ],
)
def test_direction_guessed_from_name(name: str, expected: bool) -> None:
    assert runs.guess_higher_is_better(name) is expected


# --- flags ------------------------------------------------------------------------------------


def test_modified_z_score_matches_hand_and_scipy() -> None:
    finals = [0.90, 0.91, 0.92, 0.93, 0.60]
    scores, median, spread, name = runs.robust_z_scores(np.array(finals))
    assert median == pytest.approx(0.91)
    assert spread == pytest.approx(stats.median_abs_deviation(finals)) == pytest.approx(0.01)
    assert name == "MAD"
    assert scores[-1] == pytest.approx(0.6745 * (0.60 - 0.91) / 0.01)  # -20.91


def test_flag_runs_low_final_value_with_numbers_in_words() -> None:
    flags = runs.flag_runs(_finals_table([0.90, 0.91, 0.92, 0.93, 0.60]), metric="validation:accuracy")
    assert list(flags.columns) == list(runs.FLAG_COLUMNS)
    assert len(flags) == 1
    row = flags.iloc[0]
    assert row["job"] == "run-04"
    cut = runs.calibrated_threshold(5)
    assert 7.5 < cut < 8.5  # the 95 % point of the largest of 5 normal robust z-scores
    assert row["severity"] == "alert"  # |z| = 20.9 > 2 × 7.99
    assert row["score"] == pytest.approx(-20.9095, abs=1e-3)
    assert row["explanation"] == (
        "Final validation:accuracy 0.6 is unusually low (worse than the other runs): the median of 5 runs "
        f"is 0.91 (MAD 0.01), a robust z-score of -20.9 (flag above {cut:.2f}, the level 5 like runs "
        "exceed by chance in 5 % of tables)."
    )
    # The fixed Iglewicz-Hoaglin rule is still there when asked for.
    fixed = runs.flag_runs(_finals_table([0.90, 0.91, 0.92, 0.93, 0.60]), threshold=3.5)
    assert fixed.iloc[0]["explanation"].endswith("a robust z-score of -20.9 (flag above 3.5).")


def test_flag_runs_mad_zero_falls_back_to_mean_absolute_deviation() -> None:
    # MAD = 0 (four equal values); MeanAD = 0.3 / 5 = 0.06; z = -0.3 / (1.253314 * 0.06) = -3.989:
    # beyond the fixed 3.5, not beyond the 5-run calibrated threshold (about 8).
    assert runs.flag_runs(_finals_table([0.9, 0.9, 0.9, 0.9, 0.6])).empty
    flags = runs.flag_runs(_finals_table([0.9, 0.9, 0.9, 0.9, 0.6]), threshold=3.5)
    assert len(flags) == 1
    assert flags.iloc[0]["score"] == pytest.approx(-0.3 / (1.253314 * 0.06))
    assert flags.iloc[0]["severity"] == "warning"
    assert "mean absolute deviation 0.06" in flags.iloc[0]["explanation"]


def test_flag_runs_lower_is_better_high_value_is_worse() -> None:
    flags = runs.flag_runs(_finals_table([0.30, 0.31, 0.32, 0.33, 0.90], metric="validation:rmse"))
    assert flags.iloc[0]["flag"] == "unusually high final value"
    assert "(worse than the other runs)" in flags.iloc[0]["explanation"]


def test_flag_runs_unusually_good_run_is_info() -> None:
    flags = runs.flag_runs(_finals_table([0.70, 0.71, 0.72, 0.73, 0.99]))
    assert flags.iloc[0]["severity"] == "info"
    assert "better than the other runs" in flags.iloc[0]["explanation"]


def test_flag_runs_nothing_when_all_similar() -> None:
    flags = runs.flag_runs(_finals_table([0.90, 0.91, 0.92, 0.905, 0.915]))
    assert flags.empty
    assert flags.attrs["notes"] == []


def test_flag_runs_all_equal_gives_note_not_flags() -> None:
    flags = runs.flag_runs(_finals_table([0.9] * 5))
    assert flags.empty
    assert any("same" in note for note in flags.attrs["notes"])


def test_too_few_runs_no_flags_and_a_reason(three_runs: pd.DataFrame) -> None:
    table = runs.runs_table(three_runs)
    flags = runs.flag_runs(table)
    assert flags.empty
    notes = runs.flag_notes(table)
    assert notes == flags.attrs["notes"]
    assert any("Only 3 runs logged validation:accuracy" in note for note in notes)


def _spaced_table(gaps_h: list[float]) -> pd.DataFrame:
    rows, start = [], 0.0
    for i, gap in enumerate([0.0, *gaps_h]):
        start += gap * 60
        rows += _series(f"run-{i:02d}", "validation:accuracy", start, [0.5, 0.9], step_min=10)
        start += 10  # the run lasts 10 minutes
    return runs.runs_table(validate_metrics(pd.DataFrame(rows)))


def test_spacing_change_flagged_at_the_run_where_it_starts() -> None:
    flags = runs.flag_runs(_spaced_table([1, 1.2, 0.8, 1, 1.1, 0.9, 10, 12, 9, 11]))
    spacing = flags.loc[flags["flag"] == "runs further apart"]
    assert len(spacing) == 1
    assert spacing.iloc[0]["job"] == "run-07"  # the first run after a 10-hour gap
    assert spacing.iloc[0]["score"] == pytest.approx(10.5)
    change = runs.spacing_change(_spaced_table([1, 1.2, 0.8, 1, 1.1, 0.9, 10, 12, 9, 11])["gap_s"][1:])
    assert change is not None
    # The 4 longest gaps last: 2 of the C(10, 4) = 210 orderings (either end) split as clearly.
    assert change.p_value == pytest.approx(2 / 210, abs=0.006)
    assert spacing.iloc[0]["explanation"] == (
        "From this run on, runs are further apart: the mean gap over the last 4 gaps is 10 h 30 min, "
        f"against 1 h over the 6 before (10.5× longer). Only {100 * change.p_value:.1f} % of random "
        "orderings of the same gaps split as clearly (flag at 5 % and 3× either way)."
    )


def test_spacing_closer_together_also_flagged() -> None:
    flags = runs.flag_runs(_spaced_table([10, 12, 9, 11, 10, 1, 1.2, 0.8, 1]))
    assert list(flags["flag"]) == ["runs closer together"]


def test_spacing_change_that_chance_explains_is_not_flagged() -> None:
    # Four long gaps then three short ones: 10× apart, but 2 of C(7, 3) = 35 orderings split as clearly.
    flags = runs.flag_runs(_spaced_table([10, 10, 10, 10, 1, 1, 1]))
    assert flags.empty
    assert runs.spacing_change([1.0, 2.0, 3.0]) is None  # fewer than four gaps


def test_regular_spacing_not_flagged() -> None:
    assert runs.flag_runs(_spaced_table([2, 3, 2.5, 2, 3, 2.2])).empty


# --- align, smooth, downsample ---------------------------------------------------------------


def test_align_runs_uses_epochs_when_every_row_has_one(three_runs: pd.DataFrame) -> None:
    aligned = runs.align_runs(three_runs, metric="validation:accuracy")
    assert set(aligned["x_kind"]) == {"epoch"}
    assert list(aligned.loc[aligned["job"] == "run-c", "x"]) == [0.0, 1.0, 2.0]


def test_align_runs_falls_back_to_elapsed_seconds(three_runs: pd.DataFrame) -> None:
    no_epochs = three_runs.assign(epoch=pd.array([pd.NA] * len(three_runs), dtype="Int64"))
    aligned = runs.align_runs(no_epochs, metric="validation:accuracy")
    assert set(aligned["x_kind"]) == {"elapsed_s"}
    assert list(aligned.loc[aligned["job"] == "run-b", "x"]) == [0.0, 600.0]


def test_align_runs_prefers_given_elapsed_s(three_runs: pd.DataFrame) -> None:
    frame = three_runs.assign(elapsed_s=np.arange(len(three_runs), dtype="float64") * 7)
    aligned = runs.align_runs(frame, metric="validation:accuracy", x_kind="elapsed_s")
    expected = frame.loc[frame["metric"] == "validation:accuracy"].sort_values(["job", "elapsed_s"])
    assert list(aligned["x"]) == list(expected["elapsed_s"])


def test_smooth_rolling_by_hand_keeps_value_and_order(three_runs: pd.DataFrame) -> None:
    frame = three_runs.loc[three_runs["metric"] == "validation:accuracy"].iloc[::-1]  # reversed rows
    out = runs.smooth(frame, window=2)
    pd.testing.assert_series_equal(out["value"], frame["value"])
    assert list(out.index) == list(frame.index)
    run_a = out.loc[out["job"] == "run-a"].sort_values("timestamp")
    assert list(run_a["smoothed"]) == pytest.approx([0.5, 0.65, 0.75])
    assert "smoothed" not in frame.columns


def test_smooth_ema_by_hand() -> None:
    frame = validate_metrics(pd.DataFrame(_series("r", "m", 0, [1.0, 3.0, 5.0])))
    out = runs.smooth(frame, window=3, method="ema")  # alpha = 2 / (3 + 1) = 0.5
    assert list(out["smoothed"]) == pytest.approx([1.0, 2.0, 3.5])


def test_smooth_rejects_bad_window(three_runs: pd.DataFrame) -> None:
    with pytest.raises(InputError):
        runs.smooth(three_runs, window=0)


def _long_series(n: int, rng: np.random.Generator) -> pd.DataFrame:
    values = rng.normal(0.8, 0.01, n)
    values[n // 8] = 5.0  # a single spike up
    values[2 * n // 3] = -5.0  # and down
    stamps = T0 + pd.to_timedelta(np.arange(n), unit="s")
    return validate_metrics(pd.DataFrame({"job": "j", "metric": "m", "timestamp": stamps, "value": values}))


def test_downsample_100k_keeps_spikes_and_last_point(rng: np.random.Generator) -> None:
    frame = _long_series(100_000, rng)
    before = frame.copy()
    out = runs.downsample(frame, max_points=5000)
    assert len(out) <= 5000
    assert len(out) > 4000  # the budget is used, not wasted
    assert out["value"].max() == 5.0
    assert out["value"].min() == -5.0
    assert out.iloc[-1]["timestamp"] == frame.iloc[-1]["timestamp"]
    assert out.iloc[0]["timestamp"] == frame.iloc[0]["timestamp"]
    assert out.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(frame, before)  # input not mutated


def test_downsample_leaves_small_series_whole(rng: np.random.Generator) -> None:
    big = _long_series(20_000, rng)
    small = validate_metrics(pd.DataFrame(_series("small", "m", 0, [0.1, 0.2, 0.3])))
    frame = pd.concat([big, small], ignore_index=True)
    out = runs.downsample(frame, max_points=1000)
    assert len(out) <= 1000
    assert (out["job"] == "small").sum() == 3


def test_downsample_returns_copy_when_it_fits(three_runs: pd.DataFrame) -> None:
    out = runs.downsample(three_runs, max_points=5000)
    pd.testing.assert_frame_equal(out, three_runs)
    assert out is not three_runs


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 3000), min_size=1, max_size=6),
    max_points=st.integers(50, 2000),
    seed=st.integers(0, 2**16),
)
def test_downsample_budget_and_extremes_property(sizes: list[int], max_points: int, seed: int) -> None:
    gen = np.random.default_rng(seed)
    parts = [
        pd.DataFrame(
            {
                "job": f"j{i}",
                "metric": "m",
                "timestamp": T0 + pd.to_timedelta(np.sort(gen.integers(0, 10**6, n)), unit="s"),
                "value": gen.normal(size=n),
            }
        )
        for i, n in enumerate(sizes)
    ]
    frame = validate_metrics(pd.concat(parts, ignore_index=True))
    out = runs.downsample(frame, max_points=max_points)
    assert len(out) <= max(max_points, 4 * len(sizes))
    assert set(out.index) <= set(frame.index)
    for job, series in frame.groupby("job"):
        kept = out.loc[out["job"] == job, "value"]
        assert kept.max() == series["value"].max()
        assert kept.min() == series["value"].min()


# --- names, bounds, page views ---------------------------------------------------------------


def test_metric_names_accuracy_first_losses_last() -> None:
    frame = pd.DataFrame(
        {"metric": ["train:cross_entropy", "validation:auc", "validation:accuracy", "train:accuracy"]}
    )
    assert runs.metric_names(frame) == [
        "train:accuracy",
        "validation:accuracy",
        "validation:auc",
        "train:cross_entropy",
    ]
    assert runs.default_metric(frame) == "validation:accuracy"
    assert (
        runs.default_metric(pd.DataFrame({"metric": ["train:rmse", "validation:rmse"]})) == "validation:rmse"
    )
    assert runs.default_metric(pd.DataFrame({"metric": pd.Series([], dtype="str")})) is None


def test_time_bounds_whole_minutes_naive_utc(three_runs: pd.DataFrame) -> None:
    lo, hi = runs.time_bounds(three_runs)
    assert lo == datetime(2026, 11, 2, 10, 0)
    assert hi == datetime(2026, 11, 2, 12, 10)
    assert lo.tzinfo is None


def test_select_view_filters_runs_and_pairs_metrics(three_runs: pd.DataFrame) -> None:
    view = runs.select_view(three_runs, None, metric="validation:accuracy", jobs=["run-a", "run-b"])
    assert view.metric_list == ["train:accuracy", "validation:accuracy"]
    assert set(view.metrics["job"]) == {"run-a", "run-b"}
    assert list(view.table["job"]) == ["run-a", "run-b"]
    assert view.flags.empty
    assert "Only 2 runs" in view.flag_summary
    assert not view.downsampled
    alone = runs.select_view(three_runs, metric="validation:accuracy", with_counterpart=False)
    assert alone.metric_list == ["validation:accuracy"]


def test_select_view_time_range_keeps_whole_runs_with_points_inside(three_runs: pd.DataFrame) -> None:
    window = (datetime(2026, 11, 2, 10, 45), datetime(2026, 11, 2, 11, 0))  # naive = UTC
    view = runs.select_view(three_runs, metric="validation:accuracy", time_range=window)
    assert list(view.table["job"]) == ["run-c"]
    assert view.table.loc[0, "n_points"] == 3  # whole run, not just the point at 10:50


def test_overlay_view_smooths_before_it_thins(three_runs: pd.DataFrame) -> None:
    view = runs.overlay_view(three_runs, metric="validation:accuracy", window=2)
    assert view.x_kind == "epoch"
    assert view.x_label == "epoch"
    run_a = view.frame.loc[view.frame["job"] == "run-a"]
    assert list(run_a["smoothed"]) == pytest.approx([0.5, 0.65, 0.75])


def test_select_view_keeps_and_names_runs_without_clock_times(metrics: pd.DataFrame) -> None:
    """A relative-time run survives the time filter and is listed as untimed (not silently dropped)."""
    untimed = metrics.loc[metrics["job"] == "run-a"].assign(job="relative-run", timestamp=pd.NaT)
    frame = pd.concat([metrics, untimed], ignore_index=True)
    lo, hi = runs.time_bounds(frame)
    assert lo is not None
    assert hi is not None
    view = runs.select_view(frame, metric="validation:accuracy", time_range=(lo, hi))
    assert view.untimed_jobs == ["relative-run"]
    assert "relative-run" in set(view.metrics["job"])
    assert set(view.table["job"]) == {"run-a", "run-b", "relative-run"}
