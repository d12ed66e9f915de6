"""``compare()``: per-column drift tests, one verdict rule, signals, and the exportable report.

The verdict rule, the effect scales and every default live here (:data:`DEFAULTS`,
:func:`verdict`, :func:`rule_text`); pages show :attr:`DriftReport.rule` next to the table.

Effect sizes (one scale per column treatment, so rows sort meaningfully):

* numbers: Wasserstein distance / reference standard deviation ("shift in reference sds");
  a location shift of ``d`` sds gives ``d``; default threshold 0.1.
* categories (and numbers with ≤ 10 distinct values): total-variation distance, the share of
  rows that would have to change category to turn one mix into the other; default threshold 0.1.

Minimum detectable effect (shown so "no drift" is never confused with "could not tell"):

* numbers: the KS critical value ``D = c(α)·sqrt((n+m)/(n·m))``, ``c(α) = sqrt(-ln(α/2)/2)``,
  translated to sds for a normal location shift: ``2·Φ⁻¹((1+D)/2)``.
* categories: the chi-square critical value for ``k-1`` degrees of freedom translated to total
  variation in the worst case of a shift between two categories at 50 %:
  ``0.5·sqrt(χ²(1-α; k-1)·(1/n+1/m))``.

Both are approximations at the unadjusted ``α`` (a best case): fewer rows, more columns or a
less favourable shape make the real floor higher.

Automatic test choice (override per column with ``tests={"col": "psi"}``):

* numeric with more than 10 distinct reference values → ``ks`` (scipy's exact p-value up to
  10,000 values per side, asymptotic above). The effect threshold keeps its large-sample
  sensitivity from flagging negligible shifts, so no switch to a distance is needed.
* categorical, boolean, or numeric with ≤ 10 distinct values → ``chi2``; with exactly two
  categories and an expected count below 5 in any cell → ``fisher_exact``.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from scipy import stats

from lib.drift.registry import TESTS, Samples, Treatment, get_test
from lib.drift.types import TESTABLE_KINDS, ColumnKind, infer_kinds, to_numbers
from lib.errors import InputError
from lib.sources.tables import check_pair

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
OTHER: Final = "(other)"
EFFECT_MEASURES: Final[dict[Treatment, str]] = {
    "numeric": "wasserstein_sd",
    "categorical": "total_variation",
}
#: Columns of :attr:`DriftReport.table`, in order.
TABLE_COLUMNS: Final = (
    "column",
    "kind",
    "test",
    "test_label",
    "statistic",
    "p_value",
    "p_adjusted",
    "effect_size",
    "effect_measure",
    "effect_threshold",
    "min_detectable_effect",
    "n_reference",
    "n_current",
    "drifted",
    "status",
    "reason",
)
SIGNAL_COLUMNS: Final = ("column", "signal", "reference", "current", "flagged", "message")


# ------------------------------------------------------------------------------------------------
# The verdict: one rule, one place.
# ------------------------------------------------------------------------------------------------


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


# ------------------------------------------------------------------------------------------------
# Column preparation: each side read, cleaned and sorted once.
# ------------------------------------------------------------------------------------------------


@dataclass
class _Side:
    """One column of one frame, cleaned once and shared by every test, effect and signal."""

    n_rows: int
    n_missing: int
    n_nonfinite: int = 0
    n_garbage: int = 0
    sorted: np.ndarray | None = None  # finite numbers, ascending
    counts: pd.Series | None = None  # category → count (categorical kinds)

    @property
    def n_usable(self) -> int:
        if self.sorted is not None:
            return int(self.sorted.size)
        assert self.counts is not None
        return int(self.counts.sum())


def _prepare(series: pd.Series, kind: ColumnKind) -> _Side:
    n_rows = len(series)
    if kind == "numeric":
        values, garbage = to_numbers(series)
        # One sort does the cleaning too: numpy sorts -inf first and inf, then NaN, last.
        ordered = np.sort(values)
        lo = int(np.searchsorted(ordered, -np.inf, side="right"))
        hi = int(np.searchsorted(ordered, np.inf, side="left"))
        end = int(np.searchsorted(ordered, np.inf, side="right"))
        n_missing = n_rows - end - garbage
        return _Side(n_rows, n_missing, lo + end - hi, garbage, sorted=ordered[lo:hi])
    present = series.dropna()
    if pd.api.types.is_numeric_dtype(present.dtype) and not pd.api.types.is_bool_dtype(present.dtype):
        present = present.astype("float64")  # 1 and 1.0 are the same category on both sides
    counts = present.value_counts(sort=False)
    counts.index = counts.index.astype("str")
    counts = counts.groupby(level=0, sort=False).sum()
    return _Side(n_rows, n_rows - len(present), counts=counts)


def _runs(sorted_values: np.ndarray) -> pd.Series:
    """Distinct values and their counts from a sorted array (no second sort)."""
    if sorted_values.size == 0:
        return pd.Series([], dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]]))
    counts = np.diff(np.append(starts, sorted_values.size))
    return pd.Series(counts, index=sorted_values[starts])


def _category_counts(ref: _Side, cur: _Side, max_categories: int) -> tuple[np.ndarray, ...]:
    if ref.sorted is not None and cur.sorted is not None:
        ref_counts, cur_counts = _runs(ref.sorted), _runs(cur.sorted)
    else:
        assert ref.counts is not None
        assert cur.counts is not None
        ref_counts, cur_counts = ref.counts, cur.counts
    both = ref_counts.index.union(cur_counts.index)
    r = ref_counts.reindex(both, fill_value=0).to_numpy(np.int64)
    c = cur_counts.reindex(both, fill_value=0).to_numpy(np.int64)
    labels = np.array([_label(v) for v in both], dtype=object)
    if labels.size > max_categories:
        keep = np.argsort(-(r + c), kind="stable")[:max_categories]
        rest = np.ones(labels.size, dtype=bool)
        rest[keep] = False
        labels = np.append(labels[keep], OTHER)
        r = np.append(r[keep], r[rest].sum())
        c = np.append(c[keep], c[rest].sum())
    return labels, r, c


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class _Plan:
    column: str
    kind: ColumnKind
    tests: tuple[str, ...] | None  # None: automatic choice
    explicit: bool  # the user named tests for this column (errors are then raised, not skipped)


class _Column:
    """Reference side prepared once; ``against(current side)`` builds the shared samples."""

    def __init__(self, plan: _Plan, reference: _Side, current: _Side, settings: _Settings) -> None:
        self.plan = plan
        self.ref = reference
        self.cur = current
        self.settings = settings

    def treatment_default(self) -> Treatment:
        if self.plan.kind != "numeric":
            return "categorical"
        if "_treatment" not in self.__dict__:
            ref = self.ref.sorted
            assert ref is not None
            distinct = int(np.count_nonzero(ref[1:] != ref[:-1])) + 1 if ref.size else 0
            low = distinct <= self.settings.defaults.low_cardinality
            self.__dict__["_treatment"] = "categorical" if low else "numeric"
        return self.__dict__["_treatment"]

    def samples(self, treatment: Treatment) -> Samples:
        key = f"_samples_{treatment}"
        if key not in self.__dict__:
            if treatment == "numeric":
                assert self.ref.sorted is not None
                assert self.cur.sorted is not None
                s = Samples(self.ref.sorted, self.cur.sorted, "numeric", presorted=True)
            else:
                counts = _category_counts(self.ref, self.cur, self.settings.defaults.max_categories)
                s = Samples(None, None, "categorical", counts=(counts[0], counts[1], counts[2]))
            self.__dict__[key] = s
        return self.__dict__[key]

    def auto_test(self) -> str:
        treatment = self.treatment_default()
        if treatment == "numeric":
            return "ks"
        s = self.samples("categorical")
        _, r, c = s.counts
        if r.size == 2 and s.n_reference and s.n_current:
            total = r + c
            n = s.n_reference + s.n_current
            expected = np.outer([s.n_reference, s.n_current], total) / n
            if expected.min() < 5:
                return "fisher_exact"
        return "chi2"

    def rows(self) -> list[dict[str, Any]]:
        names = list(self.plan.tests) if self.plan.tests is not None else [self.auto_test()]
        rows = []
        for name in names:
            test = get_test(name)
            default = self.treatment_default()
            treatment: Treatment = default if default in test.accepts else test.accepts[0]
            if treatment not in (default, "numeric") and not self.plan.explicit:
                continue  # a category test on continuous numbers only when asked for this column
            if self.plan.kind != "numeric" and treatment == "numeric":
                if self.plan.explicit:
                    raise InputError(
                        f"Column {self.plan.column!r} is {self.plan.kind}; the {test.label} test needs "
                        "numbers.",
                        hint=f"Tests for categories: {', '.join(_names('categorical'))}.",
                    )
                continue
            rows.append(self._row(name, treatment))
        if not rows:  # none of the requested tests fits this column: use the automatic choice
            rows.append(self._row(self.auto_test(), self.treatment_default()))
        return rows

    def _row(self, name: str, treatment: Treatment) -> dict[str, Any]:
        test = get_test(name)
        column = self.plan.column
        threshold = self.settings.threshold(column, treatment)
        row: dict[str, Any] = {
            "column": column,
            "kind": self.plan.kind,
            "test": name,
            "test_label": test.label,
            "statistic": math.nan,
            "p_value": None,
            "effect_size": math.nan,
            "effect_measure": EFFECT_MEASURES[treatment],
            "effect_threshold": threshold,
            "min_detectable_effect": math.nan,
            "n_reference": self.ref.n_usable,
            "n_current": self.cur.n_usable,
            "_treatment": treatment,
            "_test_kind": test.kind,
        }
        try:
            samples = self.samples(treatment)
            result = test.run(samples)
        except InputError as err:
            if self.plan.explicit and self.plan.tests is not None and len(self.plan.tests) == 1:
                raise InputError(f"Column {column!r}: {err.message}", hint=err.hint) from err
            row["_skip"] = err.message
            return row
        row.update(
            statistic=result.statistic,
            p_value=result.p_value,
            n_reference=result.n_reference,
            n_current=result.n_current,
            effect_size=self.effect(treatment),
            min_detectable_effect=min_detectable_effect(
                treatment,
                result.n_reference,
                result.n_current,
                alpha=self.settings.alpha,
                n_categories=samples.n_categories if treatment == "categorical" else 2,
            ),
        )
        return row

    def effect(self, treatment: Treatment) -> float:
        s = self.samples(treatment)
        if treatment == "numeric":
            return s.wasserstein / s.spread
        ref, cur = s.shares
        return float(0.5 * np.abs(ref - cur).sum())

    def signals(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        d = self.settings.defaults
        column = self.plan.column
        names = self.settings.names
        ref_missing = (self.ref.n_missing + self.ref.n_nonfinite) / max(self.ref.n_rows, 1)
        cur_missing = (self.cur.n_missing + self.cur.n_nonfinite) / max(self.cur.n_rows, 1)
        change = cur_missing - ref_missing
        out.append(
            _signal(
                column,
                "missing_rate",
                ref_missing,
                cur_missing,
                abs(change) >= d.missing_change,
                f"missing (or infinite) values: {ref_missing:.1%} in {names[0]}, {cur_missing:.1%} in "
                f"{names[1]}",
            )
        )
        if self.plan.kind == "numeric":
            ref_mix = self.ref.n_garbage / max(self.ref.n_rows, 1)
            cur_mix = self.cur.n_garbage / max(self.cur.n_rows, 1)
            out.append(
                _signal(
                    column,
                    "type_mix",
                    ref_mix,
                    cur_mix,
                    cur_mix >= d.type_mix_share and cur_mix > ref_mix,
                    f"values that are not numbers: {ref_mix:.1%} in {names[0]}, {cur_mix:.1%} in {names[1]}",
                )
            )
            ref_sorted, cur_sorted = self.ref.sorted, self.cur.sorted
            assert ref_sorted is not None
            assert cur_sorted is not None
            if ref_sorted.size and cur_sorted.size:
                lo, hi = ref_sorted[0], ref_sorted[-1]
                outside = int(np.searchsorted(cur_sorted, lo, side="left")) + int(
                    cur_sorted.size - np.searchsorted(cur_sorted, hi, side="right")
                )
                share = outside / cur_sorted.size
                chance = 2 / (ref_sorted.size + 1)
                out.append(
                    _signal(
                        column,
                        "out_of_range",
                        0.0,
                        share,
                        share >= d.out_of_range_share and share >= 5 * chance,
                        f"{share:.1%} of {names[1]} values fall outside the {names[0]} range "
                        f"[{lo:.4g}, {hi:.4g}] (about {chance:.1%} expected by chance)",
                    )
                )
        else:
            ref_counts, cur_counts = self.ref.counts, self.cur.counts
            assert ref_counts is not None
            assert cur_counts is not None
            new = cur_counts[~cur_counts.index.isin(ref_counts.index)]
            total = int(cur_counts.sum())
            share = int(new.sum()) / total if total else 0.0
            examples = ", ".join(repr(v) for v in new.sort_values(ascending=False).index[:3])
            out.append(
                _signal(
                    column,
                    "unseen_categories",
                    0.0,
                    share,
                    share >= d.unseen_share,
                    f"{share:.1%} of {names[1]} rows have categories never seen in {names[0]}"
                    + (f" ({len(new)} new: {examples})" if len(new) else ""),
                )
            )
        return out


def _signal(column: str, name: str, ref: float, cur: float, flagged: bool, message: str) -> dict[str, Any]:
    return {
        "column": column,
        "signal": name,
        "reference": float(ref),
        "current": float(cur),
        "flagged": bool(flagged),
        "message": message,
    }


def _names(treatment: Treatment) -> list[str]:
    return sorted(name for name, t in TESTS.items() if treatment in t.accepts)


@dataclass(frozen=True)
class _Settings:
    alpha: float
    thresholds: dict[str, float]
    defaults: Defaults
    names: tuple[str, str]

    def threshold(self, column: str, treatment: Treatment) -> float:
        return self.thresholds.get(column, self.thresholds[treatment])


def _settings(alpha: float, thresholds: Mapping[str, float] | None, names: tuple[str, str]) -> _Settings:
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1, got {alpha!r}.")
    merged = {"numeric": DEFAULTS.numeric_threshold, "categorical": DEFAULTS.categorical_threshold}
    for key, value in (thresholds or {}).items():
        if not (isinstance(value, (int, float)) and value >= 0):
            raise InputError(f"Effect threshold for {key!r} must be a number ≥ 0, got {value!r}.")
        merged[key] = float(value)
    return _Settings(alpha, merged, DEFAULTS, names)


def _plans(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None,
    tests: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None,
    kinds: Mapping[str, str] | None,
    exclude: Iterable[str | None],
    names: tuple[str, str],
) -> tuple[list[_Plan], dict[str, ColumnKind]]:
    shared = check_pair(reference, current, reference_name=names[0], current_name=names[1])
    excluded = {c for c in exclude if c is not None}
    if columns is not None:
        missing = [c for c in columns if c not in shared]
        if missing:
            raise InputError(
                f"Column(s) {missing} are not in both {names[0]} and {names[1]}.",
                hint=f"Shared columns: {', '.join(shared[:20])}.",
            )
        chosen = list(columns)
    else:
        chosen = [c for c in shared if c not in excluded]
    inferred = infer_kinds(reference[shared], {k: v for k, v in (kinds or {}).items() if k in shared})
    plans = []
    for column in chosen:
        kind = inferred[column]
        if kind not in TESTABLE_KINDS:
            if columns is not None and column in columns and kinds and column in kinds:
                raise InputError(f"Column {column!r} is set to {kind!r}; {kind} columns are not tested.")
            continue
        if isinstance(tests, Mapping):
            requested = tests.get(column)
            explicit = requested is not None
        else:
            requested, explicit = tests, False
        if isinstance(requested, str):
            requested = [requested]
        names_ = tuple(requested) if requested is not None else None
        if names_ is not None:
            for name in names_:
                get_test(name)  # unknown names fail early, listing the valid ones
        plans.append(_Plan(column, kind, names_, explicit))
    if not plans:
        described = ", ".join(f"{c}: {inferred[c]}" for c in chosen[:10])
        raise InputError(
            "No testable columns: every shared column is an id, a timestamp or excluded "
            f"({described or 'none left'}).",
            hint="Override a column's kind to 'numeric' or 'categorical' to test it.",
        )
    return plans, inferred


def _check_numeric(side: _Side, column: str, label: str) -> None:
    present = side.n_rows - side.n_missing
    if side.n_garbage and side.n_garbage > 0.5 * present:
        raise InputError(
            f"{label}: column {column!r} should hold numbers, but {side.n_garbage:,} of {present:,} "
            "values are not numbers.",
            hint="Expected numbers as in the reference; fix the file or set the column's kind to "
            "'categorical'.",
        )


def _build_column(
    plan: _Plan,
    ref_series: pd.Series,
    cur_series: pd.Series,
    settings: _Settings,
    ref_side: _Side | None = None,
) -> _Column:
    ref = ref_side if ref_side is not None else _prepare(ref_series, plan.kind)
    cur = _prepare(cur_series, plan.kind)
    if plan.kind == "numeric":
        _check_numeric(ref, plan.column, settings.names[0])
        _check_numeric(cur, plan.column, settings.names[1])
    return _Column(plan, ref, cur, settings)


def _evaluate(column: _Column) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return column.rows(), column.signals()


def finalise(rows: list[dict[str, Any]], alpha: float) -> pd.DataFrame:
    """Adjust p-values (Benjamini-Hochberg across all rows) and apply :func:`verdict` to each row.

    Shared by :func:`compare` and :func:`lib.drift.windows.compare_windows`, so a window grid is
    corrected across the whole grid with the same rule.
    """
    frame = pd.DataFrame(rows)
    skip = frame["_skip"] if "_skip" in frame else pd.Series([None] * len(frame))
    tested = skip.isna().to_numpy()
    p = pd.to_numeric(frame["p_value"], errors="coerce").to_numpy(dtype=np.float64)
    has_p = ~np.isnan(p) & tested  # None (distance tests) became NaN in the frame
    adjusted = np.full(len(frame), np.nan)
    if has_p.any():
        adjusted[has_p] = stats.false_discovery_control(p[has_p], method="bh")
    drifted, status, reason = [], [], []
    for i, row in enumerate(frame.to_dict("records")):
        if not tested[i]:
            drifted.append(False)
            status.append("not tested")
            reason.append(f"not tested: {row['_skip']}")
            continue
        d, s, r = verdict(
            p_adjusted=float(adjusted[i]) if has_p[i] else None,
            effect=float(row["effect_size"]),
            threshold=float(row["effect_threshold"]),
            min_detectable=float(row["min_detectable_effect"]),
            alpha=alpha,
            treatment=row["_treatment"],
            n_reference=int(row["n_reference"]),
            n_current=int(row["n_current"]),
        )
        drifted.append(d)
        status.append(s)
        reason.append(r)
    frame["p_value"] = pd.to_numeric(frame["p_value"], errors="coerce").astype("float64")
    frame["p_adjusted"] = adjusted
    frame["drifted"] = drifted
    frame["status"] = status
    frame["reason"] = reason
    extra = [c for c in frame.columns if c not in TABLE_COLUMNS and not c.startswith("_")]
    return frame[extra + list(TABLE_COLUMNS)]


def _sort_by_effect(table: pd.DataFrame) -> pd.DataFrame:
    order = table.assign(_nan=table["effect_size"].isna()).sort_values(
        ["_nan", "drifted", "effect_size"], ascending=[True, False, False], kind="stable"
    )
    return order.drop(columns="_nan").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# The report.
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftReport:
    """Result of :func:`compare`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (column, test), sorted drifted-first then by effect size: columns
        :data:`TABLE_COLUMNS`.
    signals : pandas.DataFrame
        Missing-rate, type-mix, unseen-category and out-of-range signals per column
        (:data:`SIGNAL_COLUMNS`); these are flags of their own, not part of the verdict.
    rule : str
        The verdict rule in plain words, with this report's alpha and thresholds.
    alpha : float
    thresholds : dict
        Effect thresholds by treatment (``"numeric"``, ``"categorical"``) and any per-column ones.
    kinds : dict
        Column → inferred (or overridden) kind, for every shared column.
    reference_name, current_name : str
    n_reference, n_current : int
        Row counts of the two frames.
    multivariate : MultivariateResult or None
        Domain-classifier and PCA results, when requested.
    """

    table: pd.DataFrame
    signals: pd.DataFrame
    rule: str
    alpha: float
    thresholds: dict[str, float]
    kinds: dict[str, str]
    reference_name: str
    current_name: str
    n_reference: int
    n_current: int
    multivariate: Any = None
    roles: dict[str, str | None] = field(default_factory=dict)

    @property
    def drifted_columns(self) -> list[str]:
        """Columns with at least one drifted row, in table order."""
        return list(dict.fromkeys(self.table.loc[self.table["drifted"], "column"]))

    @property
    def summary(self) -> str:
        """One sentence: how many columns drifted, how many could not be told."""
        columns = self.table["column"].nunique()
        unsure = self.table.loc[self.table["status"] == "could not tell", "column"].nunique()
        flagged = self.signals.loc[self.signals["flagged"], "column"].nunique() if len(self.signals) else 0
        text = f"{len(self.drifted_columns)} of {columns} columns drifted"
        if unsure:
            text += f"; {unsure} could not be told at these sample sizes"
        if flagged:
            text += f"; {flagged} with data-quality signals"
        return text + "."

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (NaN → ``None``)."""
        return _clean(
            {
                "reference": self.reference_name,
                "current": self.current_name,
                "n_reference": self.n_reference,
                "n_current": self.n_current,
                "alpha": self.alpha,
                "thresholds": self.thresholds,
                "rule": self.rule,
                "summary": self.summary,
                "kinds": self.kinds,
                "roles": self.roles,
                "columns": self.table.to_dict("records"),
                "signals": self.signals.to_dict("records"),
                "multivariate": None if self.multivariate is None else self.multivariate.to_dict(),
            }
        )

    def to_json(self) -> str:
        """The report as JSON (strict: no NaN literals)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False, ensure_ascii=False)

    def to_csv(self) -> bytes:
        """The table as UTF-8 CSV, with spreadsheet formulas neutralised (``'`` prefix)."""
        return table_to_csv(self.table)

    def to_html(self) -> str:
        """A small self-contained HTML page (inline CSS, no scripts or external assets)."""
        parts = [
            f"<h1>Drift report: {_e(self.current_name)} vs {_e(self.reference_name)}</h1>",
            f"<p class='summary'>{_e(self.summary)}</p>",
            f"<p class='rule'><b>Verdict rule.</b> {_e(self.rule)}</p>",
            f"<p>{self.n_reference:,} reference rows, {self.n_current:,} current rows.</p>",
            "<h2>Columns</h2>",
            _html_table(
                self.table,
                [
                    "column",
                    "kind",
                    "test_label",
                    "statistic",
                    "p_adjusted",
                    "effect_size",
                    "effect_threshold",
                    "min_detectable_effect",
                    "status",
                    "reason",
                ],
                highlight="drifted",
            ),
        ]
        flagged = self.signals.loc[self.signals["flagged"]] if len(self.signals) else self.signals
        parts.append("<h2>Data-quality signals</h2>")
        parts.append(
            _html_table(flagged, ["column", "signal", "message"]) if len(flagged) else "<p>None flagged.</p>"
        )
        if self.multivariate is not None:
            parts.append("<h2>Multivariate drift</h2>")
            parts.append(f"<p>{_e(self.multivariate.reason)}</p>")
            parts.append(_html_table(self.multivariate.importance, ["column", "importance"]))
        return _html_page(f"Drift report: {self.current_name}", "\n".join(parts))


def table_to_csv(table: pd.DataFrame) -> bytes:
    """CSV bytes with every text cell that starts with ``= + - @ tab CR`` prefixed by ``'``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_neutral(str(c)) for c in table.columns])
    for row in table.itertuples(index=False):
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def _neutral(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return _neutral(value)
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(float(value)) if isinstance(value, (float, np.floating)) else int(value)
    return _neutral(str(value))


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def _html_table(frame: pd.DataFrame, columns: Sequence[str], highlight: str | None = None) -> str:
    cols = [c for c in columns if c in frame.columns]
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = []
    for record in frame.to_dict("records"):
        cls = " class='drift'" if highlight and record.get(highlight) else ""
        cells = "".join(f"<td>{_e(_fmt_cell(record[c]))}</td>" for c in cols)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html_page(title: str, body: str) -> str:
    style = (
        "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
        "table{border-collapse:collapse;font-size:0.85rem}"
        "th,td{border:1px solid #ccc;padding:0.25rem 0.5rem;text-align:left;vertical-align:top}"
        "th{background:#f3f3f3}tr.drift td{background:#fde8e8}.rule{max-width:60rem}"
    )
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{style}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    tests: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
    alpha: float = DEFAULTS.alpha,
    thresholds: Mapping[str, float] | None = None,
    kinds: Mapping[str, str] | None = None,
    exclude: Iterable[str | None] = (),
    prediction: str | None = None,
    label: str | None = None,
    timestamp: str | None = None,
    multivariate: bool = False,
    reference_name: str = "reference",
    current_name: str = "current",
    workers: int = 2,
) -> DriftReport:
    """Test every shared column for drift and apply the verdict rule.

    Parameters
    ----------
    reference, current : pandas.DataFrame
        The baseline and the data to check.
    columns : sequence of str, optional
        Columns to test; default: every shared column that is not an id, a timestamp, the
        prediction, the label or in ``exclude``.
    tests : str, sequence of str, or mapping column → name(s), optional
        Test(s) to run. A name or list applies to every column that the test accepts; a mapping
        overrides per column. Default: the automatic choice (module docstring).
    alpha : float
        Level for the Benjamini-Hochberg-adjusted p-values.
    thresholds : mapping, optional
        Effect thresholds: keys ``"numeric"`` / ``"categorical"`` or a column name.
    kinds : mapping column → kind, optional
        Overrides type inference (``"numeric"``, ``"categorical"``, ``"boolean"``,
        ``"datetime"``, ``"id"``).
    exclude : iterable of str
        Columns never tested.
    prediction, label, timestamp : str, optional
        Role columns; excluded from the input-drift table.
    multivariate : bool
        Also run the domain classifier and PCA reconstruction check (:mod:`lib.drift.multivariate`).
    reference_name, current_name : str
        File names, used in messages and the report.
    workers : int
        Threads over columns (numpy and scipy release the GIL while sorting).

    Returns
    -------
    DriftReport

    Raises
    ------
    InputError
        Frames that cannot be compared, unknown test names, tests that do not fit an explicitly
        configured column, or garbage in a numeric column.
    """
    names = (reference_name, current_name)
    settings = _settings(alpha, thresholds, names)
    plans, inferred = _plans(
        reference,
        current,
        columns=columns,
        tests=tests,
        kinds=kinds,
        exclude=[*exclude, prediction, label, timestamp],
        names=names,
    )

    def job(plan: _Plan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return _evaluate(_build_column(plan, reference[plan.column], current[plan.column], settings))

    if workers > 1 and len(plans) > 1:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(job, plans))
    else:
        results = [job(plan) for plan in plans]
    rows = [row for r, _ in results for row in r]
    signals = [signal for _, column_signals in results for signal in column_signals]
    table = finalise(rows, alpha)
    if (table["status"] == "not tested").all():
        raise InputError(
            "No column could be tested.",
            hint=" ".join(f"{c}: {r}" for c, r in zip(table["column"], table["reason"], strict=True))[:500],
        )
    mv = None
    if multivariate:
        from lib.drift.multivariate import domain_classifier  # local: keeps import light

        tested = list(dict.fromkeys(table.loc[table["status"] != "not tested", "column"]))
        mv = domain_classifier(
            reference, current, columns=tested, kinds={c: inferred[c] for c in tested}, alpha=alpha
        )
    return DriftReport(
        table=_sort_by_effect(table),
        signals=pd.DataFrame(signals, columns=list(SIGNAL_COLUMNS)),
        rule=rule_text(alpha, settings.thresholds, n_tests=int(table["p_adjusted"].notna().sum())),
        alpha=alpha,
        thresholds=dict(settings.thresholds),
        kinds={k: str(v) for k, v in inferred.items()},
        reference_name=reference_name,
        current_name=current_name,
        n_reference=len(reference),
        n_current=len(current),
        multivariate=mv,
        roles={"prediction": prediction, "label": label, "timestamp": timestamp},
    )
