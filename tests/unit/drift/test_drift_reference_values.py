"""Tiny hand-checkable cases and scipy's own numbers for the same data (scipy-style)."""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from lib.drift import TESTS, min_detectable_effect
from lib.drift.registry import Samples

RNG_SEED = 12345


@pytest.fixture
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(RNG_SEED)
    return rng.normal(0, 1, 300), rng.normal(0.2, 1.3, 250)


def test_ks_matches_scipy_exact_path(pair: tuple[np.ndarray, np.ndarray]) -> None:
    ref, cur = pair
    expected = stats.ks_2samp(ref, cur)
    got = TESTS["ks"](ref, cur)
    assert got.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert got.p_value == pytest.approx(expected.pvalue, rel=1e-12)


@pytest.mark.parametrize("shift", [0.0, 0.02, 0.05])
def test_ks_matches_scipy_asymptotic_path_from_sorted_arrays(shift: float) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref = rng.normal(0, 1, 30_000)
    cur = np.round(rng.normal(shift, 1, 20_000), 2)  # ties, across both samples
    ref = np.round(ref, 2)
    expected = stats.ks_2samp(ref, cur)
    got = TESTS["ks"](ref, cur)
    assert got.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert got.p_value == pytest.approx(expected.pvalue, rel=1e-8)


def test_ks_far_tail_is_scipys_too() -> None:
    """Far in the tail (p ~ 1e-60) the p-value is still scipy's finite-n one, not a limit formula."""
    rng = np.random.default_rng(RNG_SEED)
    ref, cur = rng.normal(0, 1, 20_000), rng.normal(0.3, 1, 20_000)
    got = TESTS["ks"](ref, cur)
    expected = stats.ks_2samp(ref, cur)
    assert got.p_value is not None
    assert expected.pvalue < 1e-6
    assert got.p_value == pytest.approx(expected.pvalue, rel=1e-8)


def test_cramervonmises_anderson_mannwhitney_energy_match_scipy(pair: tuple[np.ndarray, np.ndarray]) -> None:
    ref, cur = pair
    cvm = stats.cramervonmises_2samp(ref, cur)
    assert TESTS["cramervonmises"](ref, cur).statistic == pytest.approx(cvm.statistic, rel=1e-12)
    assert TESTS["cramervonmises"](ref, cur).p_value == pytest.approx(cvm.pvalue, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ad = stats.anderson_ksamp([ref, cur], variant="midrank")
    assert TESTS["anderson"](ref, cur).statistic == pytest.approx(ad.statistic, rel=1e-12)
    assert TESTS["anderson"](ref, cur).p_value == pytest.approx(ad.pvalue, rel=1e-12)
    mw = stats.mannwhitneyu(ref, cur, alternative="two-sided")
    assert TESTS["mannwhitney"](ref, cur).statistic == pytest.approx(mw.statistic, rel=1e-12)
    assert TESTS["mannwhitney"](ref, cur).p_value == pytest.approx(mw.pvalue, rel=1e-12)
    assert TESTS["energy"](ref, cur).statistic == pytest.approx(stats.energy_distance(ref, cur), rel=1e-12)


def test_wasserstein_is_scipy_over_reference_std(pair: tuple[np.ndarray, np.ndarray]) -> None:
    ref, cur = pair
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert TESTS["wasserstein"](ref, cur).statistic == pytest.approx(expected, rel=1e-10)


def test_wasserstein_hand_case_and_ties() -> None:
    # Moving {0, 1} to {1, 2} moves every unit of mass by 1; reference std is 0.5.
    assert TESTS["wasserstein"](np.array([0.0, 1.0]), np.array([1.0, 2.0])).statistic == pytest.approx(2.0)
    ref, cur = np.array([1.0, 1.0, 2.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0, 3.0])
    assert Samples(ref, cur, "numeric").wasserstein == pytest.approx(stats.wasserstein_distance(ref, cur))
    assert TESTS["ks"](ref, cur).statistic == pytest.approx(stats.ks_2samp(ref, cur).statistic)


def test_chi2_and_fisher_match_scipy_on_the_contingency_table() -> None:
    ref = np.array(["a"] * 30 + ["b"] * 50 + ["c"] * 20)
    cur = np.array(["a"] * 45 + ["b"] * 35 + ["c"] * 20)
    table = np.array([[30, 50, 20], [45, 35, 20]])
    expected = stats.chi2_contingency(table)
    got = TESTS["chi2"](ref, cur)
    assert got.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert got.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    fisher = stats.fisher_exact([[3, 7], [8, 2]])
    got = TESTS["fisher_exact"](np.array(["x"] * 3 + ["y"] * 7), np.array(["x"] * 8 + ["y"] * 2))
    assert got.statistic == pytest.approx(fisher.statistic)
    assert got.p_value == pytest.approx(fisher.pvalue, rel=1e-12)


def test_psi_hand_computed() -> None:
    # Shares 0.5/0.5 → 0.25/0.75: (0.25-0.5)·ln(0.5) + (0.75-0.5)·ln(1.5) = 0.274653...
    ref = np.array(["a", "b"] * 50)
    cur = np.array(["a"] * 25 + ["b"] * 75)
    expected = -0.25 * math.log(0.5) + 0.25 * math.log(1.5)
    assert TESTS["psi"](ref, cur).statistic == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.2746530722, rel=1e-9)


def test_psi_floors_empty_shares() -> None:
    # Category "c" is new: its reference share 0 is floored at 1e-4.
    ref = np.array(["a"] * 50 + ["b"] * 50)
    cur = np.array(["a"] * 50 + ["b"] * 40 + ["c"] * 10)
    expected = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.1 - 1e-4) * math.log(0.1 / 1e-4)
    assert TESTS["psi"](ref, cur).statistic == pytest.approx(expected, rel=1e-12)


def test_jensenshannon_and_hellinger_hand_computed() -> None:
    # Disjoint supports: JS distance (base 2) = 1, Hellinger = 1.
    ref, cur = np.array(["a"] * 10), np.array(["b"] * 10)
    assert TESTS["jensenshannon"](ref, cur).statistic == pytest.approx(1.0)
    assert TESTS["hellinger"](ref, cur).statistic == pytest.approx(1.0)
    # 0.5/0.5 vs 0.25/0.75: JS via scipy; Hellinger = sqrt(1 - (sqrt(.125) + sqrt(.375))).
    ref = np.array(["a", "b"] * 50)
    cur = np.array(["a"] * 25 + ["b"] * 75)
    js = distance.jensenshannon([0.5, 0.5], [0.25, 0.75], base=2)
    assert TESTS["jensenshannon"](ref, cur).statistic == pytest.approx(js, rel=1e-12)
    hellinger = math.sqrt(1 - (math.sqrt(0.125) + math.sqrt(0.375)))
    assert TESTS["hellinger"](ref, cur).statistic == pytest.approx(hellinger, rel=1e-12)


def test_numeric_binned_tests_use_reference_deciles() -> None:
    ref = np.arange(1000, dtype=float)
    s = Samples(ref, ref + 0.0, "numeric")
    _, r, _c = s.counts
    assert r.tolist() == [100] * 10
    assert TESTS["psi"](ref, ref.copy()).statistic == 0.0
    shifted = TESTS["psi"](ref, ref + 500).statistic
    assert shifted > 1.0


def test_min_detectable_effect_formulas() -> None:
    # KS: c(0.05) = 1.3581, D = c·sqrt(2/40); in sds for a normal shift: 2·Φ⁻¹((1+D)/2). At 80 %
    # power the gap only has to reach the critical value (checked by simulation, calibration tests).
    d = math.sqrt(-math.log(0.025) / 2) * math.sqrt(2 / 40)
    assert min_detectable_effect("numeric", 40, 40, alpha=0.05) == pytest.approx(
        2 * stats.norm.ppf((1 + d) / 2)
    )
    assert min_detectable_effect("numeric", 40, 40, alpha=0.05) == pytest.approx(0.78, abs=0.01)
    assert min_detectable_effect("numeric", 2, 2, alpha=0.05) == math.inf
    # The level is alpha / n_tests (Benjamini-Hochberg's bar for a lone drifted column).
    assert min_detectable_effect("numeric", 40, 40, alpha=0.05, n_tests=10) == pytest.approx(
        min_detectable_effect("numeric", 40, 40, alpha=0.005)
    )
    # Categories, 2 categories, n = m = 1000, 80 % power: λ with P(χ²₁(λ) > 3.84) = 0.8 is 7.849;
    # TV = 0.5·sqrt(7.849·0.002) = 0.0626 (the old, 50 %-power formula gave 0.0438).
    lam = 7.848879
    assert stats.ncx2.sf(stats.chi2.ppf(0.95, 1), 1, lam) == pytest.approx(0.8, abs=1e-5)
    assert min_detectable_effect("categorical", 1000, 1000, alpha=0.05, n_categories=2) == pytest.approx(
        0.5 * math.sqrt(lam * 0.002), rel=1e-5
    )


def test_min_detectable_effect_follows_the_test_actually_used() -> None:
    """Issue 11: each test states its own MDE (the KS formula was used for every numeric test)."""
    mde = functools.partial(min_detectable_effect, n_reference=300, n_current=300, alpha=0.05, n_tests=10)
    ks = mde("numeric", test="ks")
    normal_theory = (stats.norm.ppf(1 - 0.005 / 2) + stats.norm.ppf(0.8)) * math.sqrt(2 / 300)
    assert mde("numeric", test="cramervonmises") == pytest.approx(1.08 * normal_theory)
    assert mde("numeric", test="energy") == pytest.approx(1.06 * normal_theory)
    # Binned tests: χ² with 9 degrees of freedom on the reference deciles, which keep 95.9 % of a
    # normal shift's information: δ = sqrt(λ · (2/300) / 0.959).
    df, crit = 9, stats.chi2.ppf(1 - 0.005, 9)
    lam = 23.729  # P(χ²₉(λ) > crit) = 0.8
    assert stats.ncx2.sf(crit, df, lam) == pytest.approx(0.8, abs=2e-3)
    factor = 1.01 + 0.019 * math.log(10)
    assert mde("numeric", test="psi") == pytest.approx(factor * math.sqrt(lam * (2 / 300) / 0.959), rel=3e-3)
    assert mde("numeric", test="psi") > 1.2 * ks  # far less powerful on a shift than KS
    # Categories: the χ² change; the distances (permutation) and Fisher's exact test need a little more.
    assert mde("categorical", test="psi") == pytest.approx(1.06 * mde("categorical", test="chi2"))
    assert mde("categorical", test="fisher_exact") > mde("categorical", test="chi2")


@pytest.mark.parametrize("n", [141, 1_013, 12_345, 250_000, 500_000, 1_000_000, 1_500_000])
@pytest.mark.parametrize("nxsq", [0.5, 2.0, 2.2, 3.0, 6.0, 14.0, 40.0, 120.0, 369.0, 400.0])
def test_kstwo_sf_matches_scipy(n: int, nxsq: float) -> None:
    """The vectorised Smirnov sum gives scipy's kstwo.sf, in and out of the branch it replaces."""
    from scipy import stats

    from lib.drift.registry import kstwo_sf

    d = (nxsq / n) ** 0.5
    expected = float(stats.kstwo.sf(d, n))
    assert kstwo_sf(d, n) == pytest.approx(expected, rel=1e-8, abs=1e-300)
