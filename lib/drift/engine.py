"""The engine: prepare each column once, run its tests, finalise the table (used by compare and windows)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy import stats

from lib.drift.registry import TESTS, Samples, Treatment, get_test
from lib.drift.rule import DEFAULTS, Defaults, min_detectable_effect, verdict
from lib.drift.types import TESTABLE_KINDS, ColumnKind, infer_kinds, to_numbers
from lib.errors import InputError
from lib.sources.tables import check_pair

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


def sort_by_effect(table: pd.DataFrame) -> pd.DataFrame:
    order = table.assign(_nan=table["effect_size"].isna()).sort_values(
        ["_nan", "drifted", "effect_size"], ascending=[True, False, False], kind="stable"
    )
    return order.drop(columns="_nan").reset_index(drop=True)
