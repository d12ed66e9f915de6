"""The engine: prepare each column once, run its tests, finalise the table (used by compare and windows)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np
import pandas as pd
from scipy import stats

from lib.drift.registry import TESTS, Samples, Treatment, get_test
from lib.drift.resample import MAX_PERMUTATION_ROWS
from lib.drift.rule import DEFAULTS, Defaults, corrected_effect, min_detectable_effect, verdict
from lib.drift.types import TESTABLE_KINDS, ColumnKind, infer_kinds, to_numbers
from lib.errors import InputError
from lib.sources.tables import check_pair

OTHER: Final = "(other)"
#: Integer values holding at least this share of reference rows count towards "low cardinality".
FREQUENT_VALUE_SHARE: Final = 0.01
#: ... and those frequent values must hold at least this share of the rows (a count, not a measure).
FREQUENT_COVERAGE: Final = 0.95
#: Tests that permute values on a subsample of at most MAX_PERMUTATION_ROWS per side.
_SUBSAMPLED_TESTS: Final = ("wasserstein", "energy")


EFFECT_MEASURES: Final[dict[Treatment, str]] = {
    "numeric": "wasserstein_normal_scores",
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
    "p_method",
    "effect_size",
    "effect_low",
    "effect_high",
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


@dataclass
class PreparedSide:
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


def prepare_side(series: pd.Series, kind: ColumnKind) -> PreparedSide:
    n_rows = len(series)
    if kind == "numeric":
        values, garbage = to_numbers(series)
        # One sort does the cleaning too: numpy sorts -inf first and inf, then NaN, last.
        ordered = np.sort(values)
        lo = int(np.searchsorted(ordered, -np.inf, side="right"))
        hi = int(np.searchsorted(ordered, np.inf, side="left"))
        end = int(np.searchsorted(ordered, np.inf, side="right"))
        n_missing = n_rows - end - garbage
        return PreparedSide(n_rows, n_missing, lo + end - hi, garbage, sorted=ordered[lo:hi])
    if isinstance(series.dtype, pd.StringDtype):
        # Text is already text and value_counts drops missing values: one counting pass, no copy.
        counts = series.value_counts(sort=False)
        if counts.index.is_unique:
            return PreparedSide(n_rows, n_rows - int(counts.sum()), counts=counts)
    present = series.dropna()
    if pd.api.types.is_numeric_dtype(present.dtype) and not pd.api.types.is_bool_dtype(present.dtype):
        present = present.astype("float64")  # 1 and 1.0 are the same category on both sides
    counts = present.value_counts(sort=False)
    counts.index = counts.index.astype("str")
    counts = counts.groupby(level=0, sort=False).sum()
    return PreparedSide(n_rows, n_rows - len(present), counts=counts)


def _runs(sorted_values: np.ndarray) -> pd.Series:
    """Distinct values and their counts from a sorted array (no second sort)."""
    if sorted_values.size == 0:
        return pd.Series([], dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]]))
    counts = np.diff(np.append(starts, sorted_values.size))
    return pd.Series(counts, index=sorted_values[starts])


def _category_counts(ref: PreparedSide, cur: PreparedSide, max_categories: int) -> tuple[np.ndarray, ...]:
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
class TestPlan:
    column: str
    kind: ColumnKind
    tests: tuple[str, ...] | None  # None: automatic choice
    explicit: bool  # the user named tests for this column (errors are then raised, not skipped)


class PreparedColumn:
    """Reference side prepared once; ``against(current side)`` builds the shared samples."""

    def __init__(
        self, plan: TestPlan, reference: PreparedSide, current: PreparedSide, settings: RuleSettings
    ) -> None:
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
            self.__dict__["_treatment"] = low_cardinality_treatment(
                ref, self.settings.defaults.low_cardinality
            )
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
            "effect_low": math.nan,
            "effect_high": math.nan,
            "p_method": "",
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
        effect, low, high = self.effect(treatment)
        cap = MAX_PERMUTATION_ROWS if name in _SUBSAMPLED_TESTS else None
        row.update(
            statistic=result.statistic,
            p_value=result.p_value,
            p_method=result.method,
            n_reference=result.n_reference,
            n_current=result.n_current,
            effect_size=effect,
            effect_low=low,
            effect_high=high,
            _mde_test=name,
            _mde_n=(
                min(result.n_reference, cap or result.n_reference),
                min(result.n_current, cap or result.n_current),
            ),
            _n_categories=samples.n_categories if treatment == "categorical" else 2,
        )
        return row

    def effect(self, treatment: Treatment) -> tuple[float, float, float]:
        """``(effect, low, high)``: normal-score shift or total variation, corrected for chance."""
        key = f"_effect_{treatment}"
        if key not in self.__dict__:
            s = self.samples(treatment)
            if treatment == "numeric":
                raw, pooled = s.wasserstein_scores, None
            else:
                ref, cur = s.shares
                raw = float(0.5 * np.abs(ref - cur).sum())
                _, r, c = s.counts
                pooled = (r + c) / max(int(r.sum() + c.sum()), 1)
            self.__dict__[key] = corrected_effect(raw, treatment, s.n_reference, s.n_current, pooled)
        return self.__dict__[key]

    def signals(self) -> list[dict[str, Any]]:
        column = self.plan.column
        if self.plan.kind == "numeric":
            ref_sorted, cur_sorted = self.ref.sorted, self.cur.sorted
            assert ref_sorted is not None
            assert cur_sorted is not None
            return numeric_signals(
                column, self.ref, self.cur, SortedValues(ref_sorted), SortedValues(cur_sorted), self.settings
            )
        d = self.settings.defaults
        names = self.settings.names
        out = [missing_rate_signal(column, self.ref, self.cur, self.settings)]
        ref_counts, cur_counts = self.ref.counts, self.cur.counts
        assert ref_counts is not None
        assert cur_counts is not None
        new = cur_counts[~cur_counts.index.isin(ref_counts.index)]
        total = int(cur_counts.sum())
        n_new = int(new.sum())
        share = n_new / total if total else 0.0
        n_ref = int(ref_counts.sum())
        # Good-Turing: the share of future rows in categories not seen yet is about the share
        # of reference rows whose category appears exactly once.
        singles, doubles = int((ref_counts == 1).sum()), int((ref_counts == 2).sum())
        expected = singles / n_ref if n_ref else 0.0
        # Noise of the observed share (binomial) and of the Good-Turing estimate ((f1 + 2 f2) / n²).
        noise = math.sqrt(
            max(expected, 0.5 / max(n_ref, 1)) / max(total, 1) + (singles + 2 * doubles) / max(n_ref, 1) ** 2
        )
        excess_p = float(stats.norm.sf((share - expected) / noise)) if noise > 0 else 1.0
        flagged = share - expected >= d.unseen_share and excess_p < d.unseen_alpha
        examples = ", ".join(repr(v) for v in new.sort_values(ascending=False).index[:3])
        out.append(
            _signal(
                column,
                "unseen_categories",
                expected,
                share,
                flagged,
                f"{share:.1%} of {names[1]} rows have categories never seen in {names[0]}"
                + (f" ({len(new)} new: {examples})" if len(new) else "")
                + f"; about {expected:.1%} expected from {names[0]}'s rare categories (Good-Turing)",
            )
        )
        return out


def low_cardinality_treatment(ref_sorted: np.ndarray, low_cardinality: int) -> Treatment:
    """Numbers tested as categories (chi-square) or as numbers (KS), decided stably.

    Integer-valued columns count only the values holding at least :data:`FREQUENT_VALUE_SHARE` of
    the reference rows (when those hold :data:`FREQUENT_COVERAGE` of the rows), so a rare tail
    value (a Poisson count's 9 or 10) turning up in one reference sample and not in another does
    not flip the test; other columns count every value.
    """
    if ref_sorted.size == 0:
        return "numeric"
    # Evenly spaced probes of the sorted values decide most columns without two full passes: more
    # distinct probes than low_cardinality means more distinct values, and a fractional probe means
    # the column is not integer-valued (the same answer as below, at a fraction of the cost).
    probes = ref_sorted[np.linspace(0, ref_sorted.size - 1, 4 * low_cardinality + 4).astype(np.int64)]
    if np.count_nonzero(probes[1:] != probes[:-1]) >= low_cardinality and not np.all(
        probes == np.round(probes)
    ):
        return "numeric"
    starts = np.flatnonzero(np.concatenate([[True], ref_sorted[1:] != ref_sorted[:-1]]))
    if starts.size <= low_cardinality:
        return "categorical"
    if not np.all(ref_sorted == np.round(ref_sorted)):
        return "numeric"
    counts = np.diff(np.append(starts, ref_sorted.size))
    frequent = counts >= FREQUENT_VALUE_SHARE * ref_sorted.size
    covered = int(counts[frequent].sum()) / ref_sorted.size
    few = int(np.count_nonzero(frequent)) <= low_cardinality and covered >= FREQUENT_COVERAGE
    return "categorical" if few else "numeric"


class OrderedValues(Protocol):
    """One side's finite values as the numeric signals read them: from a sorted array
    (:class:`SortedValues`) or from a summary (``lib.drift.summary.evaluate``)."""

    n: int

    def kth(self, k: int) -> float:
        """The k-th smallest value (0-based)."""
        ...

    def below(self, x: float) -> int:
        """Count of values ``< x``."""
        ...

    def above(self, x: float) -> int:
        """Count of values ``> x``."""
        ...

    def share_of(self, value: float) -> float:
        """Share of the values equal to ``value``."""
        ...

    def extremes(self) -> tuple[tuple[float, int], tuple[float, int]]:
        """``((minimum, count at it), (maximum, count at it))``."""
        ...


class SortedValues:
    """:class:`OrderedValues` of a sorted float64 array."""

    def __init__(self, sorted_values: np.ndarray) -> None:
        self.values = sorted_values
        self.n = int(sorted_values.size)

    def kth(self, k: int) -> float:
        return float(self.values[k])

    def below(self, x: float) -> int:
        return int(np.searchsorted(self.values, x, side="left"))

    def above(self, x: float) -> int:
        return self.n - int(np.searchsorted(self.values, x, side="right"))

    def _count(self, value: float) -> int:
        return int(np.searchsorted(self.values, value, side="right")) - int(
            np.searchsorted(self.values, value, side="left")
        )

    def share_of(self, value: float) -> float:
        return self._count(value) / self.n if self.n else 0.0

    def extremes(self) -> tuple[tuple[float, int], tuple[float, int]]:
        lo, hi = float(self.values[0]), float(self.values[-1])
        return (lo, self._count(lo)), (hi, self._count(hi))


def sentinel(sorted_values: np.ndarray, min_share: float) -> tuple[float, float] | None:
    """:func:`find_sentinel` on a sorted array."""
    return find_sentinel(SortedValues(sorted_values), min_share)


def find_sentinel(values: OrderedValues, min_share: float) -> tuple[float, float] | None:
    """``(value, share)`` of an extreme value far outside the bulk holding ≥ ``min_share`` of rows.

    Placeholders (-999, 9999, -1 in a positive column) sit at an end of the sorted values; one
    counts when it lies more than 3 interquartile ranges beyond the quartiles.
    """
    n = values.n
    if n < 20:
        return None
    q1, q3 = values.kth(int(0.25 * (n - 1))), values.kth(int(0.75 * (n - 1)))
    iqr = q3 - q1
    if not iqr > 0:
        return None
    best: tuple[float, float] | None = None
    for value, count in values.extremes():
        share = count / n
        far = value < q1 - 3 * iqr or value > q3 + 3 * iqr
        if far and share >= min_share and (best is None or share > best[1]):
            best = (float(value), share)
    return best


def missing_rate_signal(
    column: str, ref: PreparedSide, cur: PreparedSide, settings: RuleSettings
) -> dict[str, Any]:
    """Missing (or infinite) values: their share on each side, flagged past ``missing_change``."""
    names = settings.names
    ref_missing = (ref.n_missing + ref.n_nonfinite) / max(ref.n_rows, 1)
    cur_missing = (cur.n_missing + cur.n_nonfinite) / max(cur.n_rows, 1)
    return _signal(
        column,
        "missing_rate",
        ref_missing,
        cur_missing,
        abs(cur_missing - ref_missing) >= settings.defaults.missing_change,
        f"missing (or infinite) values: {ref_missing:.1%} in {names[0]}, {cur_missing:.1%} in {names[1]}",
    )


def numeric_signals(
    column: str,
    ref: PreparedSide,
    cur: PreparedSide,
    ref_values: OrderedValues,
    cur_values: OrderedValues,
    settings: RuleSettings,
) -> list[dict[str, Any]]:
    """The data-quality signals of a numeric column: missing rate, type mix, out of range, sentinel.

    One rule for both paths: :class:`PreparedColumn` passes :class:`SortedValues`, the summaries
    (:mod:`lib.drift.summary.evaluate`) pass counts read from fine bins, so their words and
    thresholds cannot drift apart.
    """
    d = settings.defaults
    names = settings.names
    out = [missing_rate_signal(column, ref, cur, settings)]
    ref_mix = ref.n_garbage / max(ref.n_rows, 1)
    cur_mix = cur.n_garbage / max(cur.n_rows, 1)
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
    if not (ref_values.n and cur_values.n):
        return out
    (lo, _), (hi, _) = ref_values.extremes()
    share = (cur_values.below(lo) + cur_values.above(hi)) / cur_values.n
    chance = 2 / (ref_values.n + 1)
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
    found = find_sentinel(cur_values, d.sentinel_share) or find_sentinel(ref_values, d.sentinel_share)
    if found is not None:
        value = found[0]
        ref_share, cur_share = ref_values.share_of(value), cur_values.share_of(value)
        out.append(
            _signal(
                column,
                "sentinel",
                ref_share,
                cur_share,
                cur_share >= d.sentinel_share / 2,  # found on a side at full share
                f"the value {value:.6g} holds {ref_share:.1%} of {names[0]} and {cur_share:.1%} "
                f"of {names[1]} values, far outside the bulk: a placeholder for missing? "
                "The tests keep it; the effect size (normal scores) is not swayed by it.",
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
class RuleSettings:
    alpha: float
    thresholds: dict[str, float]
    defaults: Defaults
    names: tuple[str, str]

    def threshold(self, column: str, treatment: Treatment) -> float:
        return self.thresholds.get(column, self.thresholds[treatment])


def rule_settings(
    alpha: float, thresholds: Mapping[str, float] | None, names: tuple[str, str]
) -> RuleSettings:
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1, got {alpha!r}.")
    merged = {"numeric": DEFAULTS.numeric_threshold, "categorical": DEFAULTS.categorical_threshold}
    for key, value in (thresholds or {}).items():
        if not (isinstance(value, (int, float)) and value >= 0):
            raise InputError(f"Effect threshold for {key!r} must be a number ≥ 0, got {value!r}.")
        merged[key] = float(value)
    return RuleSettings(alpha, merged, DEFAULTS, names)


def plan_tests(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None,
    tests: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None,
    kinds: Mapping[str, str] | None,
    exclude: Iterable[str | None],
    names: tuple[str, str],
) -> tuple[list[TestPlan], dict[str, ColumnKind]]:
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
        plans.append(TestPlan(column, kind, names_, explicit))
    if not plans:
        described = ", ".join(f"{c}: {inferred[c]}" for c in chosen[:10])
        raise InputError(
            "No testable columns: every shared column is an id, a timestamp or excluded "
            f"({described or 'none left'}).",
            hint="Override a column's kind to 'numeric' or 'categorical' to test it.",
        )
    return plans, inferred


def check_numeric(side: PreparedSide, column: str, label: str) -> None:
    present = side.n_rows - side.n_missing
    if side.n_garbage and side.n_garbage > 0.5 * present:
        raise InputError(
            f"{label}: column {column!r} should hold numbers, but {side.n_garbage:,} of {present:,} "
            "values are not numbers.",
            hint="Expected numbers as in the reference; fix the file or set the column's kind to "
            "'categorical'.",
        )


def build_column(
    plan: TestPlan,
    ref_series: pd.Series,
    cur_series: pd.Series,
    settings: RuleSettings,
    ref_side: PreparedSide | None = None,
) -> PreparedColumn:
    ref = ref_side if ref_side is not None else prepare_side(ref_series, plan.kind)
    cur = prepare_side(cur_series, plan.kind)
    if plan.kind == "numeric":
        check_numeric(ref, plan.column, settings.names[0])
        check_numeric(cur, plan.column, settings.names[1])
    return PreparedColumn(plan, ref, cur, settings)


def evaluate_column(column: PreparedColumn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return column.rows(), column.signals()


def finalise(rows: list[dict[str, Any]], alpha: float) -> pd.DataFrame:
    """Adjust p-values (Benjamini-Hochberg across all rows) and apply :func:`verdict` to each row.

    Shared by :func:`compare` and :func:`lib.drift.windows.compare_windows`, so a window grid is
    corrected across the whole grid with the same rule.
    """
    frame = pd.DataFrame(rows)
    skip = frame["_skip"] if "_skip" in frame else pd.Series([None] * len(frame))
    small = frame["_small"] if "_small" in frame else pd.Series([None] * len(frame))
    tested = (skip.isna() & small.isna()).to_numpy()
    p = pd.to_numeric(frame["p_value"], errors="coerce").to_numpy(dtype=np.float64)
    has_p = ~np.isnan(p) & tested  # None (distance tests) became NaN in the frame
    adjusted = np.full(len(frame), np.nan)
    if has_p.any():
        adjusted[has_p] = stats.false_discovery_control(p[has_p], method="bh")
    n_tests = max(int(has_p.sum()), 1)
    mde = np.full(len(frame), np.nan)
    # Columns of the same size share their detectable effect: one scipy quantile per distinct
    # (treatment, sizes, categories, test), not per row (10,000 columns of a wide table are one).
    mde_by_key: dict[tuple[Any, ...], float] = {}
    drifted, status, reason = [], [], []
    for i, row in enumerate(frame.to_dict("records")):
        if not tested[i]:
            drifted.append(False)
            if isinstance(row.get("_small"), str):
                status.append("too small to judge")
                reason.append(str(row["_small"]))
            else:
                status.append("not tested")
                reason.append(f"not tested: {row['_skip']}")
            continue
        n_ref, n_cur = row["_mde_n"]
        key = (row["_treatment"], int(n_ref), int(n_cur), int(row["_n_categories"]), str(row["_mde_test"]))
        if key not in mde_by_key:
            mde_by_key[key] = min_detectable_effect(
                key[0], key[1], key[2], alpha=alpha, n_categories=key[3], n_tests=n_tests, test=key[4]
            )
        mde[i] = mde_by_key[key]
        d, s, r = verdict(
            p_adjusted=float(adjusted[i]) if has_p[i] else None,
            effect=float(row["effect_size"]),
            threshold=float(row["effect_threshold"]),
            min_detectable=float(mde[i]),
            alpha=alpha,
            treatment=row["_treatment"],
            n_reference=int(row["n_reference"]),
            n_current=int(row["n_current"]),
            effect_low=float(row["effect_low"]),
            effect_high=float(row["effect_high"]),
            method=str(row["p_method"]),
            n_tests=n_tests,
        )
        drifted.append(d)
        status.append(s)
        reason.append(r)
    frame["p_value"] = pd.to_numeric(frame["p_value"], errors="coerce").astype("float64")
    frame["p_adjusted"] = adjusted
    frame["min_detectable_effect"] = mde
    frame["drifted"] = drifted
    frame["status"] = status
    frame["reason"] = reason
    extra = [c for c in frame.columns if c not in TABLE_COLUMNS and not c.startswith("_")]
    return frame[extra + list(TABLE_COLUMNS)]


def sort_by_effect(table: pd.DataFrame) -> pd.DataFrame:
    order = table.assign(_nan=table["effect_size"].isna()).sort_values(
        ["_nan", "drifted", "effect_size"], ascending=[True, False, False], kind="stable"
    )
    return order.drop(columns="_nan").reset_index(drop=True)
