"""The engine's shortcuts give the report a straightforward computation gives, on varied data.

Shortcuts pinned here: scipy's exact KS result and the detectable effect reused across columns of the
same sizes, text counted in one ``value_counts``, float64 kinds inferred in numpy, the low-cardinality
choice decided from probes, Parquet text decoded in Arrow, and threads over columns.
"""

from __future__ import annotations

import functools
import io
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib.drift import compare
from lib.drift import registry as registry_module
from lib.drift.engine import FREQUENT_COVERAGE, FREQUENT_VALUE_SHARE, low_cardinality_treatment
from lib.drift.registry import TESTS, Samples
from lib.drift.rule import DEFAULTS, corrected_effect, min_detectable_effect
from lib.drift.summary.evaluate import BinnedSamples
from lib.drift.types import infer_kind
from lib.sources.tables import read_table


def _varied(n: int, seed: int, shift: float) -> pd.DataFrame:
    """Normal (some shifted), skewed, discrete, tied, NaN-bearing, 0/1, text and mixed-type columns."""
    rng = np.random.default_rng(seed)
    nan_col = rng.normal(shift, 1, n)
    nan_col[rng.random(n) < 0.15] = np.nan
    text = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1] if shift else [0.25] * 4)
    text_missing = pd.Series(text, dtype="str").where(rng.random(n) > 0.1)
    return pd.DataFrame(
        {
            **{f"normal_{i}": rng.normal(shift * (i % 2), 1, n) for i in range(6)},
            "skewed": rng.lognormal(shift, 1, n),
            "poisson": rng.poisson(3 + shift, n).astype(np.float64),
            "ints": rng.integers(0, 500, n).astype(np.float64),
            "rounded": np.round(rng.normal(shift, 1, n), 1),
            "with_nan": nan_col,
            "zero_one": (rng.random(n) < 0.3 + shift).astype(np.float64),
            "text": pd.Series(text, dtype="str"),
            "text_missing": text_missing,
            "colour_obj": pd.Series(rng.choice(["red", "blue", "green"], n), dtype=object),
        }
    )


def _reference_row(ref: pd.DataFrame, cur: pd.DataFrame, row: pd.Series) -> tuple[float, float | None]:
    """The row's test run the plain way: its registry test on the raw column, no shared state."""
    a, b = ref[row["column"]], cur[row["column"]]
    if row["test"] == "ks" and row["p_method"] == "scipy (exact)":
        a_, b_ = a.dropna().to_numpy(float), b.dropna().to_numpy(float)
        res = stats.ks_2samp(a_, b_)
        return float(res.statistic), float(res.pvalue)
    if pd.api.types.is_numeric_dtype(a.dtype):  # numbers, tested as numbers or as categories
        result = TESTS[row["test"]](a.to_numpy(float), b.to_numpy(float))
    else:
        result = TESTS[row["test"]](a.dropna().to_numpy(object), b.dropna().to_numpy(object))
    return result.statistic, result.p_value


@pytest.mark.parametrize(("n", "seed"), [(200, 1), (200, 2), (3000, 3), (40, 4)])
def test_report_equals_a_straightforward_computation(n: int, seed: int) -> None:
    ref, cur = _varied(n, seed, 0.0), _varied(n + 7, seed + 100, 0.3)
    registry_module._KS_EXACT.clear()
    table = compare(ref, cur, workers=2).table.set_index(["column", "test"]).sort_index()
    assert len(table) == ref.shape[1]
    tested = table["status"] != "not tested"
    for (column, test), row in table.iterrows():
        if not tested[(column, test)]:
            continue
        statistic, p = _reference_row(ref, cur, pd.Series({**row, "column": column, "test": test}))
        assert row["statistic"] == pytest.approx(statistic, rel=1e-12, abs=1e-15), column
        if p is None:
            assert np.isnan(row["p_value"])
        else:
            assert row["p_value"] == pytest.approx(p, rel=1e-9, abs=1e-300), column
    # Benjamini-Hochberg over every p-value of the report, as in scipy.
    has_p = table["p_value"].notna() & tested
    adjusted = stats.false_discovery_control(table.loc[has_p, "p_value"].to_numpy(), method="bh")
    np.testing.assert_allclose(table.loc[has_p, "p_adjusted"], adjusted, rtol=1e-12)
    # The detectable effect of every row, computed for that row alone.
    n_tests = int(has_p.sum())
    for (column, test), row in table[tested].iterrows():
        treatment = "categorical" if row["effect_measure"] == "total_variation" else "numeric"
        k = row["min_detectable_effect"]
        expected = min_detectable_effect(
            treatment,
            int(row["n_reference"]),
            int(row["n_current"]),
            alpha=DEFAULTS.alpha,
            n_tests=n_tests,
            n_categories=_n_categories(ref, cur, column) if treatment == "categorical" else 2,
            test=test,
        )
        assert k == pytest.approx(expected, rel=1e-12), column
    # Numeric effects: normal-score Wasserstein from unsorted arrays, corrected for chance.
    for (column, _), row in table[tested & (table["effect_measure"] != "total_variation")].iterrows():
        a, b = ref[column].to_numpy(float), cur[column].to_numpy(float)
        s = Samples(a[np.isfinite(a)], b[np.isfinite(b)], "numeric")
        effect, low, high = corrected_effect(s.wasserstein_scores, "numeric", s.n_reference, s.n_current)
        assert (row["effect_size"], row["effect_low"], row["effect_high"]) == pytest.approx(
            (effect, low, high), rel=1e-12, abs=1e-15
        ), column


def _n_categories(ref: pd.DataFrame, cur: pd.DataFrame, column: str) -> int:
    a, b = ref[column].dropna(), cur[column].dropna()
    if pd.api.types.is_numeric_dtype(a.dtype):
        a, b = a.astype("float64"), b.astype("float64")
    return len(set(a.astype(str)) | set(b.astype(str)))


def test_threads_and_text_dtypes_do_not_change_the_report() -> None:
    """workers=1 and 2, str and object text columns: identical tables and signals, to the bit."""
    ref, cur = _varied(500, 7, 0.0), _varied(480, 8, 0.2)
    base = compare(ref, cur, workers=1)
    threaded = compare(ref, cur, workers=2)
    as_object = compare(
        ref.astype({"text": object, "text_missing": object}),
        cur.astype({"text": object, "text_missing": object}),
        workers=1,
    )
    for other in (threaded, as_object):
        pd.testing.assert_frame_equal(base.table, other.table, check_exact=True)
        pd.testing.assert_frame_equal(base.signals, other.signals, check_exact=True)


def test_cached_exact_ks_is_scipys_for_every_column() -> None:
    """Columns sharing (n, m, D) reuse one scipy call; each still gets scipy's exact result."""
    rng = np.random.default_rng(5)
    ref = pd.DataFrame(rng.normal(size=(60, 40)), columns=[f"c{i}" for i in range(40)])
    cur = pd.DataFrame(rng.normal(0.2, 1, size=(50, 40)), columns=ref.columns)
    registry_module._KS_EXACT.clear()
    table = compare(ref, cur, tests="ks", workers=2).table
    assert (table["p_method"] == "scipy (exact)").all()
    assert len(registry_module._KS_EXACT) < 40  # shared across columns
    for row in table.itertuples():
        expected = stats.ks_2samp(ref[row.column].to_numpy(), cur[row.column].to_numpy())
        assert row.statistic == expected.statistic
        assert row.p_value == expected.pvalue


def _treatment_by_full_pass(values: np.ndarray, low: int) -> str:
    """The low-cardinality rule counted over every value (no probes)."""
    distinct, counts = np.unique(values, return_counts=True)
    if distinct.size <= low:
        return "categorical"
    if not np.all(values == np.round(values)):
        return "numeric"
    frequent = counts >= FREQUENT_VALUE_SHARE * values.size
    few = np.count_nonzero(frequent) <= low and counts[frequent].sum() / values.size >= FREQUENT_COVERAGE
    return "categorical" if few else "numeric"


@pytest.mark.parametrize(
    "make",
    [
        lambda r: r.normal(size=5000),
        lambda r: r.poisson(3, 5000).astype(float),
        lambda r: np.round(r.normal(size=5000), 1),
        lambda r: r.integers(0, 12, 5000).astype(float),
        lambda r: np.r_[r.integers(0, 5, 4990), r.normal(size=10)],  # integers, a few fractions
        lambda r: np.r_[np.zeros(4000), r.normal(size=1000)],
        lambda r: r.choice([0.5, 1.5, 2.5], 5000),
        lambda r: np.r_[r.integers(0, 8, 4900), r.integers(100, 10_000, 100)].astype(float),
        lambda r: np.arange(11.0),
        lambda r: np.array([3.0]),
    ],
)
def test_low_cardinality_probes_match_the_full_pass(make) -> None:  # type: ignore[no-untyped-def]
    values = np.sort(make(np.random.default_rng(9)))
    for low in (2, 10, 30):
        assert low_cardinality_treatment(values, low) == _treatment_by_full_pass(values, low)


@pytest.mark.parametrize(
    "values",
    [
        [0.0, 1.0, 1.0, np.nan],
        [1.0, 1.0, 1.0],
        [np.nan, np.nan],
        [0.0, 1.0, 2.0],
        [1.0, -0.0, 0.0],
        [0.0, 1.0, np.inf],
        [*([1.0] * 1000), 0.0],
        [*([1.0] * 999), 0.0],
        [0.5, 1.0],
    ],
)
def test_float_kinds_match_the_nullable_float_path(values: list[float]) -> None:
    """float64 columns take the numpy shortcut; the same values as Float64 take the pandas rules."""
    plain = pd.Series(values, dtype="float64", name="x")
    nullable = pd.Series(values, dtype="Float64", name="x").mask(plain.isna())
    assert infer_kind(plain) == infer_kind(nullable)


def test_parquet_reads_the_values_pyarrow_reads() -> None:
    ref = _varied(300, 11, 0.0)
    up = np.where(ref["normal_0"] > 0, "up", "down")
    ref["category"] = pd.Categorical(up, categories=["up", "down", "unused"])
    buf = io.BytesIO()
    ref.to_parquet(buf)
    frame = read_table(buf.getvalue(), name="t.parquet")
    expected = pd.read_parquet(io.BytesIO(buf.getvalue()))
    for column in ref.columns:
        got, want = frame[column], expected[column]
        if isinstance(want.dtype, pd.CategoricalDtype):
            want = want.astype(str)
        assert got.isna().tolist() == want.isna().tolist(), column
        assert got.dropna().astype(str).tolist() == want.dropna().astype(str).tolist(), column
    assert not any(isinstance(d, pd.CategoricalDtype) for d in frame.dtypes)
    assert str(frame["text"].dtype) == "str"


def test_shared_arrays_of_two_columns_are_computed_at_the_same_time_by_two_threads() -> None:
    """Worker threads must not wait for each other: Python 3.11's ``functools.cached_property`` holds
    one lock per class attribute, so two columns' ``ecdf_gaps`` were computed one after the other.

    Two threads each compute a property of their own instance that waits for the other to arrive;
    with a class-wide lock the second never enters and the barrier breaks."""
    barrier = threading.Barrier(2, timeout=30)

    class Probe(Samples):
        @registry_module.cached_property
        def meet(self) -> int:
            return barrier.wait()

    samples = [Probe(np.arange(3.0), np.arange(3.0), "numeric", presorted=True) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        arrived = sorted(pool.map(lambda s: s.meet, samples))
    assert arrived == [0, 1]
    assert samples[0].__dict__["meet"] in (0, 1)  # stored on the instance: computed once


def test_no_drift_sample_class_uses_the_locking_cached_property() -> None:
    for cls in (Samples, BinnedSamples):
        assert not any(isinstance(v, functools.cached_property) for v in vars(cls).values()), cls


def test_the_default_report_makes_no_blas_dot_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """``np.dot`` on long vectors wakes OpenBLAS threads that spin on the other core afterwards
    (during a 1M-row report: 1.7 CPU s taken from the second worker); the report sums in numpy."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("np.dot called")

    reference, current = _varied(3_000, 1, 0.0), _varied(3_000, 2, 0.3)
    expected = compare(reference, current).table
    monkeypatch.setattr(np, "dot", refuse)
    table = compare(reference, current, tests=["ks", "wasserstein"]).table
    assert compare(reference, current).table.equals(expected)
    assert table["test"].isin(["ks", "wasserstein"]).any()
