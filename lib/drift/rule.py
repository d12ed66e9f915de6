"""The one verdict rule: BH-adjusted p below alpha AND effect at least a practical threshold."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
from scipy import optimize, stats

from lib.drift.registry import N_BINS, Treatment

Status = Literal[
    "drift", "negligible", "no drift", "not detected", "could not tell", "not tested", "too small to judge"
]

#: Null mean of the normal-score Wasserstein distance is ``NULL_SHIFT_FACTOR · sqrt(1/n + 1/m)``:
#: ``sqrt(2/π) · ∫ sqrt(Φ(z)(1 - Φ(z))) dz`` (Brownian-bridge limit; 0.33 at 30 vs 30 rows).
NULL_SHIFT_FACTOR: Final = 1.2883791903028585
_Z95: Final = 1.959963984540054
_Z80: Final = 0.8416212335729143


@dataclass(frozen=True)
class Defaults:
    """Every default of the drift report, documented in one place.

    Attributes
    ----------
    alpha : float
        False-discovery rate for the Benjamini-Hochberg-adjusted p-values.
    numeric_threshold : float
        Practical threshold for numbers: Wasserstein distance in reference standard deviations.
    categorical_threshold : float
        Practical threshold for categories: total-variation distance (share of rows).
    low_cardinality : int
        Numbers with at most this many distinct reference values are tested as categories.
    max_categories : int
        Categories beyond the most frequent ``max_categories`` are pooled into ``"(other)"``.
    missing_change : float
        Flag a column when its missing share changes by at least this much (absolute).
    type_mix_share : float
        Flag a numeric column when at least this share of current values is not a number.
    unseen_share : float
        Flag a categorical column when at least this share of current rows has a new category.
    out_of_range_share : float
        Flag a numeric column when at least this share of current values falls outside the
        reference's [min, max] *and* at least 5x the share expected by chance (2/(n_ref+1)).
    power : float
        Power at which the smallest detectable effect is stated (numbers and categories alike).
    useful_bound : float
        A non-significant column whose smallest detectable effect is at most this many times the
        threshold is "not detected" (a bound is stated); beyond it, "could not tell".
    sentinel_share : float
        A single value holding at least this share of a side's rows, far outside the bulk (beyond
        3 interquartile ranges from the quartiles), is reported as a sentinel (placeholder) value.
    unseen_alpha : float
        Unseen categories are flagged only when their share exceeds the Good-Turing expectation
        (reference singletons / reference rows) by ``unseen_share`` and a one-sided z test of the
        excess (binomial noise of the share plus the estimate's ``(f1 + 2 f2) / n²``) gives p
        below this.
    """

    alpha: float = 0.05
    numeric_threshold: float = 0.1
    categorical_threshold: float = 0.1
    low_cardinality: int = 10
    max_categories: int = 100
    missing_change: float = 0.05
    type_mix_share: float = 0.01
    unseen_share: float = 0.01
    out_of_range_share: float = 0.01
    power: float = 0.8
    useful_bound: float = 5.0
    sentinel_share: float = 0.005
    unseen_alpha: float = 0.01


DEFAULTS: Final = Defaults()


def rule_text(alpha: float, thresholds: Mapping[str, float], n_tests: int | None = None) -> str:
    """The verdict rule in plain words, as the page shows it."""
    across = (
        ("the 1 test" if n_tests == 1 else f"all {n_tests} tests") if n_tests is not None else "every test"
    )
    d = DEFAULTS
    return (
        f"A column has drifted when its p-value, adjusted by Benjamini-Hochberg across {across} in "
        f"this report, is below α = {alpha:g} AND its effect size reaches the practical threshold: "
        f"a shift of {thresholds['numeric']:g} for numbers (Wasserstein distance on the reference's "
        f"normal scores: reference standard deviations for a normal column, unswayed by sentinel "
        f"values and heavy tails) or {thresholds['categorical']:g} total-variation distance for "
        f"categories (the share of rows that changed category). Effect sizes are corrected for the "
        f"distance two same-distribution samples of these sizes show by chance, and carry a 95 % "
        f"interval. Distances (PSI, Jensen-Shannon, Hellinger, Wasserstein, energy) are judged by a "
        f"permutation p-value. Significant but below the threshold is 'negligible'. Not significant: "
        f"'no drift' when a change of the threshold size would have been detected with "
        f"{d.power:.0%} power (at the Benjamini-Hochberg level of this report), 'not detected' with "
        f"the size that was ruled out when only larger changes (up to {d.useful_bound:g}× the "
        f"threshold) were, and 'could not tell' when the sample sizes rule out nothing useful."
    )


def verdict(
    *,
    p_adjusted: float | None,
    effect: float,
    threshold: float,
    min_detectable: float,
    alpha: float,
    treatment: Treatment,
    n_reference: int,
    n_current: int,
    effect_low: float | None = None,
    effect_high: float | None = None,
    method: str = "",
    n_tests: int = 1,
    power: float = DEFAULTS.power,
    useful_bound: float = DEFAULTS.useful_bound,
) -> tuple[bool, Status, str]:
    """Apply the verdict rule to one row; returns ``(drifted, status, reason)``."""
    noun = "shift" if treatment == "numeric" else "mix change"
    size, limit, floor = (_amount(v, treatment) for v in (effect, threshold, min_detectable))
    if effect_low is not None and effect_high is not None and math.isfinite(effect_low):
        size += f" (95% interval {_amount(effect_low, treatment)} to {_amount(effect_high, treatment)})"
    rows = f"n = {n_reference:,} vs {n_current:,} rows"
    how = f" ({method})" if method else ""
    power_words = f"{power:.0%} power, Benjamini-Hochberg over {n_tests} test{'s' if n_tests != 1 else ''}"
    if p_adjusted is None:
        return (
            False,
            "could not tell",
            f"could not tell: the test gives no p-value; the {noun} is {size} ({rows}).",
        )
    significant = p_adjusted < alpha
    evidence = f"adjusted p {_p(p_adjusted)}"
    if p_adjusted >= 1e-16:
        evidence += f" {'<' if significant else '≥'} {alpha:g}"
    evidence += how
    if significant and effect >= threshold:
        return True, "drift", f"drifted: {evidence}, and the {noun}, {size}, reaches the {limit} threshold."
    if significant:
        return (
            False,
            "negligible",
            f"real but negligible: {evidence}, but the {noun}, {size}, is below the {limit} threshold.",
        )
    if min_detectable <= threshold:
        return (
            False,
            "no drift",
            f"no drift: {evidence}; {noun}s of {floor} or more would have been detected ({power_words}; "
            f"{rows}).",
        )
    if min_detectable <= useful_bound * threshold:
        return (
            False,
            "not detected",
            f"no drift of {floor} or more detected ({rows}; {power_words}): {evidence}; smaller "
            f"{noun}s, down to the {limit} threshold, could go unseen at these sizes.",
        )
    return (
        False,
        "could not tell",
        f"could not tell: {evidence}, and with {n_reference:,} vs {n_current:,} rows only {noun}s of "
        f"{floor} or more are detectable "
        f"({power_words}; threshold {limit}).",
    )


def _amount(value: float, treatment: Treatment) -> str:
    if not math.isfinite(value):
        return "any size"
    if treatment == "numeric":
        return f"{value:.2g} sd"
    return f"{value:.2%} of rows" if value < 0.01 else f"{value:.0%} of rows"


def _p(p: float) -> str:
    return "< 1e-16" if p < 1e-16 else f"= {p:.2g}"


#: How each test's smallest detectable effect is computed (see :func:`min_detectable_effect`).
#: Numbers: "ks" and "mannwhitney" have formulas of their own; "binned" tests (PSI, Jensen-Shannon,
#: Hellinger on reference deciles) are χ² tests with ``N_BINS - 1`` degrees of freedom; the others
#: are a calibrated multiple of the normal-theory shift. Categories: the χ² formula for every test.
MDE_FORMULAS: Final = {
    "ks": "ks",
    "mannwhitney": "mannwhitney",
    "cramervonmises": "factor",
    "anderson": "factor",
    "energy": "factor",
    "wasserstein": "factor",
    "psi": "binned",
    "jensenshannon": "binned",
    "hellinger": "binned",
}

#: Per-test calibration ``(a, b)``: the simulated 80 %-power shift is ``(a + b·ln(0.05 / level))``
#: times the formula's. "factor" tests: times the normal-theory shift ``(z_{1-level/2} + z_power) ·
#: sqrt(1/n + 1/m)``; "binned" tests: times the χ²(9 df) decile shift. Derived by
#: ``benchmarks/bench_calibration.py --mde-factors`` (normal shifts, 300 vs 300 rows, 200 for the
#: permutation distances; levels 0.05, 0.005 and 0.001) and checked inside 10-column
#: Benjamini-Hochberg reports by ``tests/unit/drift/test_drift_calibration.py``.
MDE_FACTORS: Final[dict[str, tuple[float, float]]] = {
    "cramervonmises": (1.08, 0.0),
    "anderson": (1.04, 0.015),
    "energy": (1.06, 0.0),
    "wasserstein": (1.01, 0.035),
    "psi": (1.01, 0.019),
    "jensenshannon": (1.01, 0.019),
    "hellinger": (1.01, 0.019),
}
#: The same for category tests, on the χ² total-variation change: Fisher's exact test is
#: conservative; the distances on categories (permutation p-values) reached 70-76 % power at the χ²
#: change inside 10-column reports (``bench_calibration.py 100 tests``), hence 6 % more.
MDE_CATEGORY_FACTORS: Final[dict[str, tuple[float, float]]] = {
    "fisher_exact": (1.02, 0.01),
    "psi": (1.06, 0.0),
    "jensenshannon": (1.06, 0.0),
    "hellinger": (1.06, 0.0),
}

#: Share of a normal shift's Fisher information kept by the ``N_BINS`` reference deciles:
#: ``Σ (φ(e_{i-1}) - φ(e_i))² / (1/10)`` over the decile edges ``e_i`` (1 without binning).
_DECILE_INFORMATION: Final = 0.9590464518703137


def mde_factor(test: str, level: float, treatment: Treatment = "numeric") -> float:
    """The calibrated multiplier of ``test``'s smallest detectable effect at a raw ``level``."""
    table = MDE_FACTORS if treatment == "numeric" else MDE_CATEGORY_FACTORS
    a, b = table.get(test, (1.0, 0.0))
    return a + b * math.log(0.05 / min(level, 0.05))


def min_detectable_effect(
    treatment: Treatment,
    n_reference: int,
    n_current: int,
    *,
    alpha: float,
    n_categories: int = 2,
    power: float = DEFAULTS.power,
    n_tests: int = 1,
    test: str = "ks",
) -> float:
    """Smallest effect (on the report's scale) that ``test`` detects with ``power`` at these sizes.

    The level is ``alpha / n_tests``: after Benjamini-Hochberg across ``n_tests`` tests, a lone
    drifted column must reach that raw p-value. ``inf`` when nothing is detectable. The effect is a
    normal shift (in reference standard deviations) for numbers, a total-variation change for
    categories.

    * Kolmogorov-Smirnov: the ECDF gap a normal shift ``δ`` opens is ``D = 2Φ(δ/2) - 1``; it is
      detected with ``power`` when ``D ≥ (c + (z_power - z_0.8) / 2) · sqrt(1/n + 1/m)``,
      ``c = sqrt(-ln(level / 2) / 2)``: at 80 % power the gap only has to reach the critical value
      itself, because the supremum's upward bias offsets its noise (simulated: 80 % power needs
      ``D`` within ±0.05·sqrt(1/n + 1/m) of ``c · sqrt(1/n + 1/m)`` for n from 40 to 2,000 and 1
      to 50 tests); the gap at the median has standard deviation ``sqrt(1/n + 1/m) / 2`` for other
      powers;
    * Mann-Whitney: ``AUC = Φ(δ/√2)`` must exceed ``0.5 + (z_{1-level/2} + z_power) ·
      sqrt((n + m + 1) / (12 n m))``;
    * Cramér-von Mises, Anderson-Darling, energy and Wasserstein (permutation): ``f · (z_{1-level/2}
      + z_power) · sqrt(1/n + 1/m)``, the normal-theory shift times the test's simulated
      efficiency factor ``f`` (:data:`MDE_FACTORS`; 1.0-1.15);
    * PSI, Jensen-Shannon, Hellinger on numbers (reference deciles, permutation p-values): like a χ²
      test with 9 degrees of freedom, whose non-centrality is ``λ = I δ² / (1/n + 1/m)`` with ``I``
      the share of the normal's information the deciles keep (0.96), so ``δ = sqrt(λ (1/n + 1/m)
      / I)``; a 9-degree-of-freedom test needs much larger shifts than KS (about 1.4×);
    * categories (chi-square; Fisher's exact test and the distances on categories times their
      factor, :data:`MDE_CATEGORY_FACTORS`): the non-centrality ``λ`` that gives ``power`` at the χ²
      critical value with ``k - 1`` degrees of freedom; a total-variation change ``TV`` moved
      between two categories of share ½ has ``λ = 4 TV² / (1/n + 1/m)``, so ``TV = ½ sqrt(λ (1/n
      + 1/m))``.

    Checked by simulation in ``tests/unit/drift/test_drift_calibration.py``.
    """
    if n_reference < 1 or n_current < 1:
        return math.inf
    level = alpha / max(n_tests, 1)
    z_power = float(stats.norm.ppf(power))
    scale = (n_reference + n_current) / (n_reference * n_current)
    factor = mde_factor(test, level, treatment)
    if treatment == "numeric":
        formula = MDE_FORMULAS.get(test, "ks")
        if formula == "mannwhitney":
            se = math.sqrt((n_reference + n_current + 1) / (12 * n_reference * n_current))
            auc = 0.5 + (float(stats.norm.ppf(1 - level / 2)) + z_power) * se
            if auc >= 1:
                return math.inf
            return float(math.sqrt(2) * stats.norm.ppf(auc))
        if formula == "factor":
            return factor * (float(stats.norm.ppf(1 - level / 2)) + z_power) * math.sqrt(scale)
        if formula == "binned":
            df = N_BINS - 1
            lam = _noncentrality(float(stats.chi2.ppf(1 - level, df)), df, power)
            return factor * math.sqrt(lam * scale / _DECILE_INFORMATION)
        c = math.sqrt(-math.log(level / 2) / 2)
        d_needed = (c + (z_power - _Z80) / 2) * math.sqrt(scale)
        if d_needed >= 1:
            return math.inf
        return float(2 * stats.norm.ppf((1 + d_needed) / 2))
    df = max(n_categories - 1, 1)
    crit = float(stats.chi2.ppf(1 - level, df))
    lam = _noncentrality(crit, df, power)
    return min(1.0, factor * 0.5 * math.sqrt(lam * scale))


@functools.lru_cache(maxsize=1024)
def _noncentrality(crit: float, df: int, power: float) -> float:
    """λ with ``P(χ²_df(λ) > crit) = power`` (cached: a report asks for the same few values)."""
    hi = 1.0
    while stats.ncx2.sf(crit, df, hi) < power:
        hi *= 2
    return float(optimize.brentq(lambda lam: stats.ncx2.sf(crit, df, lam) - power, 0.0, hi, xtol=1e-6))


def null_effect(treatment: Treatment, n_reference: int, n_current: int, pooled_shares: Any = None) -> float:
    """Expected effect size between two same-distribution samples of these sizes (the noise floor).

    Numbers: ``NULL_SHIFT_FACTOR · sqrt(1/n + 1/m)``; categories: ``½ Σ sqrt(2/π) · sqrt(p(1-p)
    (1/n + 1/m))`` over the pooled shares ``p``.
    """
    scale = (n_reference + n_current) / max(n_reference * n_current, 1)
    if treatment == "numeric":
        return NULL_SHIFT_FACTOR * math.sqrt(scale)
    p = np.asarray(pooled_shares, dtype=np.float64)
    return float(0.5 * math.sqrt(2 / math.pi) * np.sum(np.sqrt(p * (1 - p) * scale)))


def corrected_effect(
    raw: float, treatment: Treatment, n_reference: int, n_current: int, pooled_shares: Any = None
) -> tuple[float, float, float]:
    """``(effect, low, high)``: the raw distance corrected for its null expectation, with a 95 % interval.

    The correction subtracts the noise floor in quadrature (``sqrt(raw² - floor²)``, 0 below the
    floor). The interval is the raw distance ± 1.96 standard errors (numbers: ``sqrt(1/n + 1/m)``,
    the standard error of a mean difference on the unit normal-score scale; categories: half of
    that, the bound for a total-variation change), each end corrected the same way. Its coverage is
    measured in ``tests/unit/drift/test_drift_calibration.py``.
    """
    if not math.isfinite(raw):
        return raw, math.nan, math.nan
    scale = (n_reference + n_current) / max(n_reference * n_current, 1)
    floor = null_effect(treatment, n_reference, n_current, pooled_shares)
    se = math.sqrt(scale) * (1.0 if treatment == "numeric" else 0.5)

    def correct(value: float) -> float:
        value = max(value, 0.0)
        return math.sqrt(max(value * value - floor * floor, 0.0))

    high = correct(raw + _Z95 * se)
    if treatment == "categorical":
        high = min(high, 1.0)
    return correct(raw), correct(raw - _Z95 * se), high
