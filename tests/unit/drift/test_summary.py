"""Mergeable summaries: exact and associative merges, JSON round trips, and compare()'s report from them."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import ColumnSummary, DatasetSummary, DriftSummaries, compare
from lib.drift.engine import plan_tests
from lib.drift.summary import edges_for, merge_all, summaries_of, summarise_column, summarise_frame
from lib.drift.summary.sketch import CATEGORY_MAX, EXACT_MAX_VALUES, exact_sum
from lib.errors import InputError

FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from([0.0, -0.0, 1.0, 2.5])
TEXT = st.sampled_from(["a", "b", "c", "d", None, "ü", "(other)"])


def _split(values: list, cuts: list[int]) -> list[list]:
    points = sorted({min(c, len(values)) for c in cuts})
    return [values[a:b] for a, b in zip([0, *points], [*points, len(values)], strict=True)]


def _numeric(values: list[float], edges: np.ndarray | None, sample: bool = False) -> ColumnSummary:
    return summarise_column(pd.Series(values, dtype="float64"), "numeric", edges=edges, sample=sample)


@settings(max_examples=60, deadline=None)
@given(st.lists(FLOATS, max_size=60), st.lists(st.integers(0, 60), max_size=4), st.booleans())
def test_numeric_merges_are_exact_in_any_split_and_order(
    values: list[float], cuts: list[int], sample: bool
) -> None:
    edges = np.array([-1.0, 0.0, 0.5, 3.0])
    whole = _numeric(values, edges, sample)
    parts = [_numeric(p, edges, sample) for p in _split(values, cuts)]
    left = merge_all_columns(parts)
    right = merge_all_columns(parts[::-1])
    assert left.to_dict() == whole.to_dict()
    assert right.to_dict() == whole.to_dict()
    if len(parts) >= 3:  # (a + b) + c == a + (b + c)
        a, b, c = parts[0], parts[1], merge_all_columns(parts[2:])
        assert (a.merge(b)).merge(c).to_dict() == a.merge(b.merge(c)).to_dict()
    assert ColumnSummary.from_dict(whole.to_dict()) == whole


def merge_all_columns(parts: list[ColumnSummary]) -> ColumnSummary:
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p)
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(TEXT, max_size=60), st.lists(st.integers(0, 60), max_size=4))
def test_category_merges_are_exact_in_any_split(values: list[str | None], cuts: list[int]) -> None:
    whole = summarise_column(pd.Series(values, dtype="object"), "categorical")
    parts = [summarise_column(pd.Series(p, dtype="object"), "categorical") for p in _split(values, cuts)]
    assert merge_all_columns(parts) == whole
    assert merge_all_columns(parts[::-1]) == whole


def test_past_the_caps_merges_stay_exact_and_associative() -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(size=3 * EXACT_MAX_VALUES)
    labels = pd.Series([f"c{i}" for i in rng.integers(0, 3 * CATEGORY_MAX, 40_000)])
    cuts = [(0, 9_000), (9_000, 21_000), (21_000, 30_000)]
    parts = [_numeric(values[a:b].tolist(), None, sample=True) for a, b in cuts]
    whole = _numeric(values.tolist(), None, sample=True)
    assert whole.numeric is not None
    assert whole.numeric.values is None
    assert whole.numeric.distinct is None
    assert parts[0].merge(parts[1]).merge(parts[2]) == whole == parts[0].merge(parts[1].merge(parts[2]))
    cat_parts = [
        summarise_column(labels.iloc[a:b], "categorical") for a, b in ((0, 15_000), (15_000, 40_000))
    ]
    cat_whole = summarise_column(labels, "categorical")
    assert cat_whole.categorical is not None
    assert len(cat_whole.categorical.counts) <= CATEGORY_MAX
    assert cat_whole.categorical.other > 0
    assert cat_parts[0].merge(cat_parts[1]) == cat_whole


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=40))
def test_exact_sum_is_the_exact_rational_sum(values: list[float]) -> None:
    assert exact_sum(np.asarray(values, dtype=np.float64)) == sum(map(Fraction, values), Fraction(0))


def test_summary_moments_counts_and_round_trip() -> None:
    s = summarise_column(pd.Series([1.0, 2.0, np.inf, None, 4.0]), "numeric")
    assert (s.n_rows, s.n_missing, s.n_nonfinite) == (5, 1, 1)
    assert s.numeric is not None
    assert (s.numeric.min, s.numeric.max, s.numeric.mean) == (1.0, 4.0, 7 / 3)
    assert s.numeric.variance == pytest.approx(np.var([1.0, 2.0, 4.0]))
    text = summarise_column(pd.Series(["1", "x", "2"]), "numeric")
    assert text.n_garbage == 1
    frame = DatasetSummary(5, {"a": s})
    assert DatasetSummary.from_dict(frame.to_dict()) == frame


def _frames(seed: int, n: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "normal": rng.normal(shift, 1, n),
            "skewed": rng.lognormal(shift / 4, 1.2, n),
            "heavy": rng.standard_t(2, n) + shift,
            "counts": rng.poisson(3 + shift, n),
            "prices": np.round(rng.gamma(2, 10 + shift, n), 1),
            "plan": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2 + shift / 20, 0.1 - shift / 20]),
            "flag": rng.random(n) < 0.3 + shift / 20,
        }
    )


@pytest.mark.parametrize(
    ("n", "shift"), [(800, 0.0), (800, 0.5), (40_000, 0.0), (40_000, 0.05), (40_000, 0.3)]
)
def test_summary_reports_agree_with_compare(n: int, shift: float) -> None:
    ref, cur = _frames(1, n, 0.0), _frames(2, n + 357, shift)
    cur.loc[cur.index[:25], "normal"] = np.nan
    exact = compare(ref, cur)
    _, kinds = plan_tests(
        ref, cur, columns=None, tests=None, kinds=None, exclude=[], names=("reference", "current")
    )
    summaries = summaries_of(ref, cur, kinds, batch_rows=6_000)
    report = summaries.report()
    assert type(report) is type(exact)
    assert list(report.table.columns) == list(exact.table.columns)
    a = exact.table.set_index(["column", "test"])
    b = report.table.set_index(["column", "test"]).loc[a.index]
    assert (a["status"] == b["status"]).all()
    assert (a["drifted"] == b["drifted"]).all()
    assert (a["p_method"] == b["p_method"]).all()
    # Exact everywhere: values or distinct counts kept (small data, counts, categories), and for
    # continuous columns past them the refinement passes make KS D, hence its p-value, exact.
    pd.testing.assert_series_equal(a["statistic"], b["statistic"], check_exact=True)
    pd.testing.assert_series_equal(a["p_value"], b["p_value"], check_exact=True)
    pd.testing.assert_series_equal(a["effect_size"], b["effect_size"], atol=0.002, rtol=0)
    pd.testing.assert_frame_equal(
        exact.signals[["column", "signal", "flagged"]].reset_index(drop=True),
        report.signals[["column", "signal", "flagged"]].reset_index(drop=True),
    )


def test_binned_tests_and_raw_value_tests_on_large_summaries() -> None:
    ref, cur = _frames(3, 30_000, 0.0), _frames(4, 30_000, 0.4)
    tests = ["ks", "psi", "jensenshannon", "hellinger", "anderson"]
    exact = compare(ref, cur, columns=["normal", "skewed"], tests=tests)
    _, kinds = plan_tests(
        ref, cur, columns=None, tests=None, kinds=None, exclude=[], names=("reference", "current")
    )
    report = summaries_of(ref, cur, kinds).report(columns=["normal", "skewed"], tests=tests)
    a = exact.table.set_index(["column", "test"])
    b = report.table.set_index(["column", "test"]).loc[a.index]
    binned = a.index.get_level_values("test").isin(["psi", "jensenshannon", "hellinger"])
    np.testing.assert_allclose(a.loc[binned, "statistic"], b.loc[binned, "statistic"], rtol=0.03)
    assert (a.loc[binned, "drifted"] == b.loc[binned, "drifted"]).all()
    assert (a.loc[binned, "status"] == b.loc[binned, "status"]).all()
    anderson = b.xs("anderson", level="test")
    assert (anderson["status"] == "not tested").all()
    assert anderson["reason"].str.contains("raw value").all()


def test_summary_file_round_trip_and_bad_files() -> None:
    ref, cur = _frames(1, 500, 0.0), _frames(2, 500, 1.0)
    _, kinds = plan_tests(
        ref, cur, columns=None, tests=None, kinds=None, exclude=[], names=("reference", "current")
    )
    summaries = summaries_of(ref, cur, kinds)
    again = DriftSummaries.from_json(summaries.to_json())
    assert again.to_json() == summaries.to_json()
    pd.testing.assert_frame_equal(again.report().table, summaries.report().table)
    pd.testing.assert_frame_equal(again.report().table, compare(ref, cur).table)
    for bad in (
        b"{",
        b"[]",
        b'{"format": "other"}',
        b'{"format": "driftwatch-drift-summaries", "version": 9}',
    ):
        with pytest.raises(InputError):
            DriftSummaries.from_json(bad)


def test_edges_are_fixed_by_the_reference_and_merges_refuse_other_edges() -> None:
    ref = pd.DataFrame({"x": np.random.default_rng(0).normal(size=50_000)})
    first = merge_all(
        summarise_frame(ref.iloc[i : i + 10_000], {"x": "numeric"}, first_pass=True)
        for i in range(0, 50_000, 10_000)
    )
    edges = edges_for(first)["x"]
    assert edges[0] < ref["x"].min() == np.nextafter(edges[0], np.inf)
    assert edges[-1] == ref["x"].max()
    assert 3_000 < edges.size <= 4_001
    a = _numeric([1.0], edges)
    b = _numeric([1.0], edges[:-1])
    with pytest.raises(InputError, match="different bin edges"):
        a.merge(b)


@pytest.mark.parametrize("placeholder", [0.0, -999.0])
def test_summary_signals_are_compares_word_for_word(placeholder: float) -> None:
    """One engine rule (engine.numeric_signals) on sorted arrays and on summaries: same rows, same words."""
    rng = np.random.default_rng(8)
    n = 20_000  # past the values kept verbatim: the summaries' sides are fine bins
    ref = rng.lognormal(5, 0.1, n)
    cur = rng.lognormal(5.01, 0.1, n + 500)
    ref[rng.choice(n, n // 20, replace=False)] = placeholder
    cur[rng.choice(n, n // 10, replace=False)] = placeholder
    cur[-400:] = 1e4  # above the reference range
    frames = pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur})
    summaries = summaries_of(*frames, {"x": "numeric"})
    assert summaries.current.columns["x"].numeric.values is None  # type: ignore[union-attr]
    exact = compare(*frames).signals
    assert set(exact["signal"]) == {"missing_rate", "type_mix", "out_of_range", "sentinel"}
    pd.testing.assert_frame_equal(summaries.report().signals, exact)
