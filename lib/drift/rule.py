"""The one verdict rule: BH-adjusted p below alpha AND effect at least a practical threshold."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from scipy import stats

from lib.drift.registry import Treatment

Status = Literal["drift", "negligible", "no drift", "could not tell", "not tested"]


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


DEFAULTS: Final = Defaults()


def rule_text(alpha: float, thresholds: Mapping[str, float], n_tests: int | None = None) -> str:
    """The verdict rule in plain words, as the page shows it."""
    across = (
        ("the 1 test" if n_tests == 1 else f"all {n_tests} tests") if n_tests is not None else "every test"
    )
    return (
        f"A column has drifted when its p-value, adjusted by Benjamini-Hochberg across {across} in "
        f"this report, is below α = {alpha:g} AND its effect size reaches the practical threshold: "
        f"a shift of {thresholds['numeric']:g} reference standard deviations for numbers "
        f"(Wasserstein distance / reference std) or {thresholds['categorical']:g} total-variation "
        f"distance for categories (the share of rows that changed category). Distance-only tests "
        f"have no p-value; for them the effect must also exceed the smallest effect detectable at "
        f"the sample sizes. Significant but below the threshold is reported as 'negligible'; not "
        f"significant with too few rows to see the threshold is 'could not tell'."
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
) -> tuple[bool, Status, str]:
    """Apply the verdict rule to one row; returns ``(drifted, status, reason)``."""
    noun = "shift" if treatment == "numeric" else "mix change"
    size, limit, floor = (_amount(v, treatment) for v in (effect, threshold, min_detectable))
    rows = f"{n_reference:,} vs {n_current:,} rows"
    if p_adjusted is None:
        significant = effect >= min_detectable
        evidence = (
            f"distance test without a p-value; the {noun} is {'above' if significant else 'within'} "
            f"the {floor} noise floor at {rows}"
        )
    else:
        significant = p_adjusted < alpha
        evidence = f"adjusted p {_p(p_adjusted)}"
        if p_adjusted >= 1e-16:
            evidence += f" {'<' if significant else '≥'} {alpha:g}"
    if significant and effect >= threshold:
        return True, "drift", f"drifted: {evidence}, and the {noun}, {size}, reaches the {limit} threshold."
    if significant:
        return (
            False,
            "negligible",
            f"real but negligible: {evidence}, but the {noun}, {size}, is below the {limit} threshold.",
        )
    if min_detectable > threshold:
        return (
            False,
            "could not tell",
            f"could not tell: {evidence}, and with {rows} only {noun}s of {floor} or more are detectable "
            f"(threshold {limit}).",
        )
    return False, "no drift", f"no drift: {evidence}; {noun}s of {floor} or more would have been detected."


def _amount(value: float, treatment: Treatment) -> str:
    if not math.isfinite(value):
        return "any size"
    if treatment == "numeric":
        return f"{value:.2g} sd"
    return f"{value:.2%} of rows" if value < 0.01 else f"{value:.0%} of rows"


def _p(p: float) -> str:
    return "< 1e-16" if p < 1e-16 else f"= {p:.2g}"


def min_detectable_effect(
    treatment: Treatment, n_reference: int, n_current: int, *, alpha: float, n_categories: int = 2
) -> float:
    """Smallest effect (on the report's scale) the test could detect at these sample sizes.

    See the module docstring for the formulas; ``inf`` when nothing is detectable.
    """
    if n_reference < 1 or n_current < 1:
        return math.inf
    scale = (n_reference + n_current) / (n_reference * n_current)
    if treatment == "numeric":
        d_crit = math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt(scale)
        if d_crit >= 1:
            return math.inf
        return float(2 * stats.norm.ppf((1 + d_crit) / 2))
    chi2_crit = float(stats.chi2.ppf(1 - alpha, max(n_categories - 1, 1)))
    return min(1.0, 0.5 * math.sqrt(chi2_crit * scale))
