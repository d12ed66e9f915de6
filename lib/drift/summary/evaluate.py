"""Run compare's tests, effects, signals and verdict rule on summaries: one kind of report.

The engine's public pieces do the work (``PreparedSide``, ``PreparedColumn``, ``TestPlan``,
``finalise``, ``sort_by_effect``, ``rule_text``); this module only supplies, for numeric columns of
large data, :class:`BinnedSamples` (the registry's :class:`~lib.drift.registry.Samples` read from
counts instead of raw values) and the order statistics the engine's numeric signals
(:func:`~lib.drift.engine.numeric_signals`) read from a summary. How exact each piece is:

* both sides with at most :data:`~lib.drift.summary.sketch.EXACT_MAX_VALUES` values: the values are
  in the summary, so the report is :func:`lib.drift.compare`'s, exactly;
* at most :data:`~lib.drift.summary.sketch.DISTINCT_MAX_VALUES` distinct values on each side:
  KS, chi-square, PSI/JS/Hellinger, the normal-score effect and the signals are exact;
* otherwise KS D is exact when the summaries went through the refinement passes
  (:mod:`lib.drift.summary.refine`: both sides' values in the few intervals that can hold the
  largest gap), so D and its p-value are :func:`lib.drift.compare`'s, bit for bit. Without them
  (summaries made separately, an old file, or more than
  :data:`~lib.drift.summary.refine.REFINE_MAX_VALUES` distinct values in the intervals) D is read at the
  fine edges: a lower bound of the exact D, by at most the largest share of one side in one fine bin
  (about 1/4,000 of the reference), and the row's ``p_method`` says so. PSI/JS/Hellinger use
  the fine edges nearest to the reference deciles, and the normal-score effect is integrated bin by
  bin. Tests that need the raw values (Anderson-Darling, Cramér-von Mises, Mann-Whitney,
  Wasserstein, energy) are reported as "not tested" with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from lib.drift.engine import (
    FREQUENT_COVERAGE,
    FREQUENT_VALUE_SHARE,
    SIGNAL_COLUMNS,
    PreparedColumn,
    PreparedSide,
    TestPlan,
    finalise,
    numeric_signals,
    rule_settings,
    sort_by_effect,
)
from lib.drift.registry import N_BINS, TIED_MAX_DISTINCT, Samples, Treatment, cached_property, dot, get_test
from lib.drift.report import DriftReport
from lib.drift.rule import DEFAULTS, rule_text
from lib.drift.summary.refine import REFINE_MAX_VALUES, exact_ks, ks_bounds
from lib.drift.summary.sketch import ColumnSummary, NumericPart
from lib.drift.types import TESTABLE_KINDS
from lib.errors import InputError


class _Ordered:
    """Order statistics and counts of one side, from its values, its distinct counts or its bins
    (the engine's :class:`~lib.drift.engine.OrderedValues`, for its numeric signals)."""

    def __init__(self, part: NumericPart) -> None:
        self.part = part
        self.n = part.n
        self.exact = part.values is not None or part.distinct is not None
        self.keys: np.ndarray
        self.counts: np.ndarray
        if part.values is not None:
            self.keys, self.counts = np.unique(part.values, return_counts=True)
        elif part.distinct is not None:
            self.keys = np.asarray(sorted(part.distinct), dtype=np.float64)
            self.counts = np.asarray([part.distinct[k] for k in self.keys.tolist()], dtype=np.int64)
        else:
            self.keys, self.counts = np.empty(0), np.empty(0, dtype=np.int64)
        self.cum = np.cumsum(self.counts)

    def upto(self, x: np.ndarray) -> np.ndarray:
        """Count of values ``<= x`` (exact sides only)."""
        idx = np.searchsorted(self.keys, x, side="right")
        return np.where(idx > 0, self.cum[np.maximum(idx - 1, 0)], 0)

    def below(self, x: float) -> int:
        """Count of values ``< x``."""
        if self.exact:
            idx = int(np.searchsorted(self.keys, x, side="left"))
            return int(self.cum[idx - 1]) if idx else 0
        edges, bins = self.part.edges, self.part.bins
        assert edges is not None
        assert bins is not None
        # Only asked at the reference minimum, whose bin (values below it) is bins[0].
        return (
            int(bins[0])
            if x == np.nextafter(edges[0], np.inf)
            else int(bins[: np.searchsorted(edges, x)].sum())
        )

    def above(self, x: float) -> int:
        """Count of values ``> x``."""
        if self.exact:
            return self.n - int(self.upto(np.asarray([x]))[0])
        edges, bins = self.part.edges, self.part.bins
        assert edges is not None
        assert bins is not None
        return int(bins[np.searchsorted(edges, x, side="left") + 1 :].sum())

    def share_of(self, value: float) -> float:
        if self.n == 0:
            return 0.0
        if self.exact:
            i = int(np.searchsorted(self.keys, value))
            hit = i < self.keys.size and self.keys[i] == value
            return int(self.counts[i]) / self.n if hit else 0.0
        if value == self.part.min:
            return self.part.n_at_min / self.n
        if value == self.part.max:
            return self.part.n_at_max / self.n
        return 0.0  # inside the range of a side kept only as bins: not known, taken as absent

    def extremes(self) -> tuple[tuple[float, int], tuple[float, int]]:
        assert self.part.min is not None
        assert self.part.max is not None
        return (self.part.min, self.part.n_at_min), (self.part.max, self.part.n_at_max)

    def kth(self, k: int) -> float:
        """The k-th smallest value (0-based); from bins, the upper edge of the bin holding it."""
        if self.exact:
            return float(self.keys[int(np.searchsorted(self.cum, k + 1, side="left"))])
        edges, bins = self.part.edges, self.part.bins
        assert edges is not None
        assert bins is not None
        i = int(np.searchsorted(np.cumsum(bins), k + 1, side="left"))
        if i >= edges.size:
            assert self.part.max is not None
            return self.part.max
        if i == 0:
            assert self.part.min is not None
            return self.part.min
        return float(edges[i])


class BinnedSamples(Samples):
    """:class:`~lib.drift.registry.Samples` of a numeric column read from two summaries.

    Raw values are not there: a test that asks for them (``reference_sorted``) raises
    :class:`InputError`, which the engine reports as "not tested: ..." for that row.
    """

    def __init__(self, reference: NumericPart, current: NumericPart) -> None:
        self.treatment: Treatment = "numeric"
        self._reference = None
        self._current = None
        self._presorted = True
        self.ref = _Ordered(reference)
        self.cur = _Ordered(current)
        self.n_reference = reference.n
        self.n_current = current.n

    @cached_property
    def reference_sorted(self) -> np.ndarray:
        raise InputError(
            "this test needs every raw value; a dataset summary keeps counts on fine bins.",
            hint="Use KS, PSI, Jensen-Shannon, Hellinger or chi-square on summaries.",
        )

    @cached_property
    def current_sorted(self) -> np.ndarray:
        return self.reference_sorted

    @cached_property
    def is_constant(self) -> bool:
        r, c = self.ref.part, self.cur.part
        return bool(r.min == r.max == c.min == c.max)

    @cached_property
    def grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Pooled distinct values with the reference and current counts at each (exact sides)."""
        if not (self.ref.exact and self.cur.exact):
            return None
        keys = np.union1d(self.ref.keys, self.cur.keys)
        ref_upto, cur_upto = self.ref.upto(keys), self.cur.upto(keys)
        return keys, np.diff(ref_upto, prepend=0), np.diff(cur_upto, prepend=0)

    @cached_property
    def cumulative(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points and the two ECDFs there: every pooled value (exact) or every fine edge."""
        grid = self.grid
        if grid is not None:
            keys, r, c = grid
            return keys, np.cumsum(r) / self.n_reference, np.cumsum(c) / self.n_current
        edges = self.ref.part.edges
        rb, cb = self.ref.part.bins, self.cur.part.bins
        cur_edges = self.cur.part.edges
        if (
            edges is None
            or rb is None
            or cb is None
            or cur_edges is None
            or not np.array_equal(edges, cur_edges)
        ):
            raise InputError("the two summaries were not binned on the same reference edges.")
        return edges, np.cumsum(rb)[:-1] / self.n_reference, np.cumsum(cb)[:-1] / self.n_current

    @cached_property
    def tied_counts(self) -> tuple[np.ndarray, np.ndarray] | None:
        grid = self.grid
        if grid is None:
            return None
        keys, r, c = grid
        if not np.any(r + c > 1) or keys.size > TIED_MAX_DISTINCT:
            return None
        return r, c

    @cached_property
    def _ks(self) -> tuple[float, str | None]:
        """KS D, and why it is only the binned lower bound (None when it is exact)."""
        if self.grid is not None:
            _, fr, fc = self.cumulative
            return (float(np.max(np.abs(fr - fc))) if fr.size else 0.0), None
        self.cumulative  # noqa: B018 (checks that both sides were binned on the same edges)
        ref, cur = self.ref.part, self.cur.part
        assert ref.bins is not None
        assert cur.bins is not None
        assert ref.edges is not None
        bounds = ks_bounds(ref.bins, cur.bins)
        why = None
        if ref.refine_intervals is None or cur.refine_intervals is None:
            why = "the summaries were not refined together (made separately, or an older file)"
        elif ref.refine_values is None or cur.refine_values is None:
            why = (
                f"its candidate bins hold more than {REFINE_MAX_VALUES:,} distinct values, the refinement cap"
            )
        elif not np.array_equal(ref.refine_intervals, cur.refine_intervals):
            why = "the two sides were refined on different intervals"
        else:
            assert ref.refine_below is not None
            assert cur.refine_below is not None
            assert ref.refine_counts is not None
            assert cur.refine_counts is not None
            exact = exact_ks(
                bounds.d_lo,
                ref.n,
                cur.n,
                ref.refine_intervals,
                (ref.refine_below, cur.refine_below),
                (ref.refine_values, ref.refine_counts),
                (cur.refine_values, cur.refine_counts),
            )
            if exact is not None:
                return exact, None
            why = "the refinement does not match these summaries"
        return bounds.d_lo, (
            f"D read at fine bin edges: a lower bound, the exact D is at most {bounds.d_hi:.4g} ({why})"
        )

    @cached_property
    def ks_statistic(self) -> float:
        return self._ks[0]

    @property
    def ks_note(self) -> str | None:
        """Why D is only the binned lower bound, or None when it is exact."""
        return self._ks[1]

    @cached_property
    def spread(self) -> float:
        for part in (self.ref.part, self.cur.part):
            std = math.sqrt(part.variance) if part.n else math.nan
            if std > 0 and math.isfinite(std):
                return std
        return 1.0

    @cached_property
    def wasserstein_scores(self) -> float:
        """The engine's normal-score Wasserstein: exact on pooled distinct values, else bin by bin."""
        n = self.n_reference
        grid = self.grid
        if grid is not None:
            keys, r, c = grid
            if keys.size < 2:
                return 0.0
            ref_through = np.cumsum(r)
            mid = (ref_through - r + ref_through) / (2.0 * n)
            scores = special.ndtri(np.clip(mid, 0.5 / n, 1 - 0.5 / n))
            gaps = ref_through / n - np.cumsum(c) / self.n_current
            return dot(np.abs(gaps[:-1]), np.diff(scores))
        _, fr, fc = self.cumulative
        scores = special.ndtri(np.clip(fr, 0.5 / n, 1 - 0.5 / n))
        gaps = np.abs(fr - fc)
        return dot(0.5 * (gaps[:-1] + gaps[1:]), np.diff(scores))

    @cached_property
    def counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Counts in the reference-decile bins (exact edges from distinct values, else nearest fine edges)."""
        probs = np.arange(1, N_BINS) / N_BINS
        if self.grid is not None and self.ref.exact:
            ref = self.ref
            pos = probs * (ref.n - 1)
            lo = np.floor(pos).astype(np.int64)
            hi = np.minimum(lo + 1, ref.n - 1)
            at_lo = np.asarray([ref.kth(int(k)) for k in lo])
            at_hi = np.asarray([ref.kth(int(k)) for k in hi])
            edges = np.unique(at_lo + (at_hi - at_lo) * (pos - lo))
            ref_idx, cur_idx = self.ref.upto(edges), self.cur.upto(edges)
        else:
            points, fr, _ = self.cumulative
            pick = np.unique(np.abs(fr[None, :] - probs[:, None]).argmin(axis=1))
            rb, cb = self.ref.part.bins, self.cur.part.bins
            assert rb is not None
            assert cb is not None
            ref_idx, cur_idx = np.cumsum(rb)[pick], np.cumsum(cb)[pick]
            edges = points[pick]
        ref_counts = np.diff(np.concatenate([[0], ref_idx, [self.n_reference]])).astype(np.int64)
        cur_counts = np.diff(np.concatenate([[0], cur_idx, [self.n_current]])).astype(np.int64)
        labels = np.array([f"bin {i}" for i in range(edges.size + 1)], dtype=object)
        return labels, ref_counts, cur_counts


@dataclass
class SummarySide(PreparedSide):
    """A :class:`~lib.drift.engine.PreparedSide` whose numbers live in a summary, not an array."""

    part: NumericPart | None = None

    @property
    def n_usable(self) -> int:
        if self.part is not None:
            return self.part.n
        return super().n_usable


def side_from_summary(summary: ColumnSummary) -> PreparedSide:
    """The engine's prepared side for one summarised column (raw values when the summary has them)."""
    base: dict[str, Any] = {
        "n_rows": summary.n_rows,
        "n_missing": summary.n_missing,
        "n_nonfinite": summary.n_nonfinite,
        "n_garbage": summary.n_garbage,
    }
    if summary.categorical is not None:
        return PreparedSide(**base, counts=summary.categorical.series())
    part = summary.numeric
    assert part is not None
    counts = None
    if part.distinct is not None:
        counts = pd.Series(dict(sorted(part.distinct.items())), dtype=np.int64)
    return SummarySide(**base, sorted=part.values, counts=counts, part=part)


class SummaryColumn(PreparedColumn):
    """The engine's prepared column, with numeric samples and signals read from summaries."""

    def treatment_default(self) -> Treatment:
        if self.plan.kind != "numeric":
            return "categorical"
        ref = self.ref
        if ref.sorted is not None:
            return super().treatment_default()
        if ref.counts is None:
            return "numeric"  # more than DISTINCT_MAX_VALUES distinct values
        counts = ref.counts.to_numpy(np.int64)
        keys = ref.counts.index.to_numpy(np.float64)
        low = self.settings.defaults.low_cardinality
        total = int(counts.sum())
        # lib.drift.engine.low_cardinality_treatment, on (value, count) pairs.
        if total == 0:
            return "numeric"
        if keys.size <= low:
            return "categorical"
        if not np.all(keys == np.round(keys)):
            return "numeric"
        frequent = counts >= FREQUENT_VALUE_SHARE * total
        covered = int(counts[frequent].sum()) / total
        return (
            "categorical"
            if int(np.count_nonzero(frequent)) <= low and covered >= FREQUENT_COVERAGE
            else "numeric"
        )

    def samples(self, treatment: Treatment) -> Samples:
        key = f"_samples_{treatment}"
        if key not in self.__dict__:
            if treatment == "numeric":
                ref, cur = self.ref, self.cur
                assert isinstance(ref, SummarySide)
                assert isinstance(cur, SummarySide)
                assert ref.part is not None
                assert cur.part is not None
                self.__dict__[key] = BinnedSamples(ref.part, cur.part)
                return self.__dict__[key]
            for side in (self.ref, self.cur):
                if side.sorted is None and side.counts is None:
                    raise InputError(
                        "the column has too many distinct values for category counts in a summary."
                    )
            return super().samples(treatment)
        return self.__dict__[key]

    def _row(self, name: str, treatment: Treatment) -> dict[str, Any]:
        row = super()._row(name, treatment)
        if name == "ks" and treatment == "numeric" and "_skip" not in row:
            samples = self.samples(treatment)
            if isinstance(samples, BinnedSamples) and not samples.is_constant and samples.ks_note:
                row["p_method"] = f"{row['p_method']}; {samples.ks_note}"
        return row

    def signals(self) -> list[dict[str, Any]]:
        if self.plan.kind != "numeric":
            return super().signals()
        ref, cur = self.ref, self.cur
        assert isinstance(ref, SummarySide)
        assert isinstance(cur, SummarySide)
        assert ref.part is not None
        assert cur.part is not None
        return numeric_signals(
            self.plan.column, ref, cur, _Ordered(ref.part), _Ordered(cur.part), self.settings
        )


def plan_summary_tests(
    reference_kinds: Mapping[str, str],
    current_columns: Iterable[str],
    *,
    columns: Sequence[str] | None,
    tests: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None,
    exclude: Iterable[str | None],
    names: tuple[str, str],
) -> list[TestPlan]:
    """:func:`lib.drift.engine.plan_tests` for summaries (kinds were fixed when summarising)."""
    current = set(current_columns)
    shared = [c for c in reference_kinds if c in current]
    if not shared:
        raise InputError(f"{names[0]} and {names[1]} share no columns.")
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
    plans = []
    for column in chosen:
        kind = reference_kinds[column]
        if kind not in TESTABLE_KINDS:
            continue
        if isinstance(tests, Mapping):
            requested = tests.get(column)
            explicit = requested is not None
        else:
            requested, explicit = tests, False
        if isinstance(requested, str):
            requested = [requested]
        chosen_tests = tuple(requested) if requested is not None else None
        for name in chosen_tests or ():
            get_test(name)
        plans.append(TestPlan(column, kind, chosen_tests, explicit))  # type: ignore[arg-type]
    if not plans:
        raise InputError("No testable columns in these summaries (ids, timestamps or excluded only).")
    return plans


def report_from_summaries(
    reference: Mapping[str, ColumnSummary],
    current: Mapping[str, ColumnSummary],
    *,
    kinds: Mapping[str, str],
    n_reference: int,
    n_current: int,
    columns: Sequence[str] | None = None,
    tests: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
    alpha: float = DEFAULTS.alpha,
    thresholds: Mapping[str, float] | None = None,
    exclude: Iterable[str | None] = (),
    reference_name: str = "reference",
    current_name: str = "current",
) -> DriftReport:
    """The drift report of two sets of column summaries: :func:`lib.drift.compare`'s rule and report.

    Parameters
    ----------
    reference, current : mapping column → ColumnSummary
        Merged summaries; numeric columns must be binned on the same reference edges.
    kinds : mapping column → kind
        Every reference column's drift kind (``numeric``, ``categorical``, ``boolean``, ``id``...).
    n_reference, n_current : int
        Row counts of the two datasets.
    columns, tests, alpha, thresholds, exclude, reference_name, current_name
        As for :func:`lib.drift.compare`.

    Returns
    -------
    DriftReport
    """
    names = (reference_name, current_name)
    settings = rule_settings(alpha, thresholds, names)
    plans = plan_summary_tests(
        kinds,
        current.keys(),
        columns=columns,
        tests=tests,
        exclude=exclude,
        names=names,
    )
    rows: list[dict[str, Any]] = []
    signals: list[dict[str, Any]] = []
    for plan in plans:
        if plan.column not in reference or plan.column not in current:
            continue
        ref_side = side_from_summary(reference[plan.column])
        cur_side = side_from_summary(current[plan.column])
        if ref_side.sorted is not None and cur_side.sorted is not None:
            column: PreparedColumn = PreparedColumn(plan, ref_side, cur_side, settings)
        else:
            column = SummaryColumn(plan, ref_side, cur_side, settings)
        rows.extend(column.rows())
        signals.extend(column.signals())
    if not rows:
        raise InputError("No column could be tested from these summaries.")
    table = finalise(rows, alpha)
    if (table["status"] == "not tested").all():
        raise InputError(
            "No column could be tested.",
            hint=" ".join(f"{c}: {r}" for c, r in zip(table["column"], table["reason"], strict=True))[:500],
        )
    return DriftReport(
        table=sort_by_effect(table),
        signals=pd.DataFrame(signals, columns=list(SIGNAL_COLUMNS)),
        rule=rule_text(alpha, settings.thresholds, n_tests=int(table["p_adjusted"].notna().sum())),
        alpha=alpha,
        thresholds=dict(settings.thresholds),
        kinds={k: str(v) for k, v in kinds.items()},
        reference_name=reference_name,
        current_name=current_name,
        n_reference=n_reference,
        n_current=n_current,
        multivariate=None,
        roles={"prediction": None, "label": None, "timestamp": None},
    )
