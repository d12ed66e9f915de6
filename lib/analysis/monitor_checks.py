"""Model Monitor's checks on captured data, a reference drawn from a baseline, and the page's artifacts."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy import stats

from lib.drift.report import compare
from lib.drift.types import guess_label, guess_prediction, guess_timestamp, infer_kinds
from lib.sources.capture import CaptureResult, drift_frame, read_capture_report
from lib.sources.files import Source, source_bytes
from lib.sources.monitor_files import (
    VIOLATION_COLUMNS,
    Baseline,
    Constraints,
    FeatureConstraint,
    FeatureStatistics,
    _execution_names,
    _threshold,
    read_constraints,
    read_statistics,
    read_violations,
)

#: Columns a capture frame adds that are not model inputs (never flagged as extra columns).
IGNORED_COLUMNS: Final = ("inference_time", "event_id", "prediction")


#: Stands in for the values of a string feature whose statistics carry no distribution.
UNKNOWN_VALUE: Final = "(value not in statistics.json)"


#: Most rows a reference drawn from a baseline gets (the drift tests' cost grows with it).
MAX_REFERENCE_ROWS: Final = 10_000


def baseline_reference(baseline: Baseline, n: int | None = None, seed: int = 0) -> pd.DataFrame:
    """A synthetic reference sample drawn from the baseline's statistics.

    ``n`` defaults to the baseline dataset's own row count (``item_count``), at most
    :data:`MAX_REFERENCE_ROWS`: drawing more rows than the baseline saw would make the drift tests
    treat the baseline as stronger evidence than it is (false drift on data like the baseline's).

    Numeric features, best source first:

    1. The KLL sketch items (``distribution.kll.sketch.data``) when their weights (``2**level``
       per item on compactor level ``level``) add up to the feature's ``num_present`` (within
       5 %): they are a weighted sample of the data itself, so values are drawn from them with
       those weights (discrete values stay discrete; mean and quantiles follow the data).
    2. The KLL buckets: a bucket is drawn with probability proportional to its count, then a value
       inside it, ``lower + (upper - lower) * u**a`` with ``u`` uniform and one exponent ``a``
       per feature chosen so the sample mean meets the recorded ``mean`` (as far as the buckets
       allow; ``a = 1`` is uniform). Bucket shares, hence Model Monitor's distance, are unchanged.
    3. Without buckets: a normal with the recorded mean and std, clipped to [min, max].

    Integral features are rounded. Categorical features: values drawn by their counts; a string
    feature without a distribution keeps its completeness, its present values being
    :data:`UNKNOWN_VALUE` (listed in ``frame.attrs["unknown_values"]``). Missing values appear
    at the baseline's missing rate. Features are drawn independently (the statistics file holds
    no joint information), so use it for per-column drift only.
    """
    if n is None:
        count = baseline.item_count
        n = int(min(count, MAX_REFERENCE_ROWS)) if math.isfinite(count) and count >= 1 else MAX_REFERENCE_ROWS
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    unknown: list[str] = []
    for f in baseline.features:
        # Exactly the baseline's missing rate (rounded), at random positions.
        n_missing = round(n * (1 - f.completeness)) if math.isfinite(f.completeness) else 0
        missing = np.zeros(n, dtype=bool)
        missing[rng.choice(n, n_missing, replace=False)] = True
        if f.kind == "numeric":
            values = _draw_numeric(f, n, rng)
            if f.inferred_type == "Integral":
                values = np.round(values)
            columns[f.name] = np.where(missing, np.nan, values)
        else:
            counts = np.array([c for _, c in f.categorical_buckets], dtype="float64")
            if len(counts) and counts.sum() > 0:
                drawn = rng.choice(
                    np.array([v for v, _ in f.categorical_buckets], dtype=object), n, p=counts / counts.sum()
                )
                columns[f.name] = pd.Series(drawn, dtype="str").where(~missing, np.nan)
            else:
                unknown.append(f.name)
                columns[f.name] = pd.Series([UNKNOWN_VALUE] * n, dtype="str").where(~missing, np.nan)
    frame = pd.DataFrame(columns)
    if unknown:
        frame.attrs["unknown_values"] = unknown
    return frame


def sketch_sample(f: FeatureStatistics) -> tuple[np.ndarray, np.ndarray]:
    """``(items, weights)`` of the feature's KLL sketch: level ``i`` items weigh ``2**i``."""
    items = [v for level in f.kll_sketch for v in level]
    weights = [2.0**i for i, level in enumerate(f.kll_sketch) for _ in level]
    x = np.asarray(items, dtype="float64")
    w = np.asarray(weights, dtype="float64")
    keep = np.isfinite(x)
    return x[keep], w[keep]


def _sketch_covers_data(f: FeatureStatistics, weights: np.ndarray) -> bool:
    if not len(weights):
        return False
    total = float(weights.sum())
    if not math.isfinite(f.num_present) or f.num_present <= 0:
        return False
    return abs(total - f.num_present) <= 0.05 * f.num_present


def _draw_numeric(f: FeatureStatistics, n: int, rng: np.random.Generator) -> np.ndarray:
    items, weights = sketch_sample(f)
    if _sketch_covers_data(f, weights):
        return items[rng.choice(len(items), n, p=weights / weights.sum())]
    buckets = np.array(f.numeric_buckets, dtype="float64").reshape(-1, 3)
    if len(buckets) and np.nansum(buckets[:, 2]) > 0:
        counts = np.nan_to_num(buckets[:, 2])
        idx = rng.choice(len(buckets), n, p=counts / counts.sum())
        inside = _InBucket(buckets, idx, rng.random(n), integral=f.inferred_type == "Integral")
        return inside.values(_mean_matching_power(inside, f.mean))
    if math.isfinite(f.mean) and math.isfinite(f.std):
        return np.clip(
            rng.normal(f.mean, f.std, n),
            f.min if math.isfinite(f.min) else -np.inf,
            f.max if math.isfinite(f.max) else np.inf,
        )
    return np.full(n, np.nan)


class _InBucket:
    """Values inside drawn buckets: ``lower + width * u**a``, kept below the upper edge of inner
    buckets (``[lower, upper)``; the last is ``[lower, upper]``). Integral features take the
    integers inside the bucket (``ceil(lower) .. ``), so rounding never moves a value across an
    edge; a bucket without an integer inside falls back to rounding."""

    def __init__(self, buckets: np.ndarray, idx: np.ndarray, u: np.ndarray, *, integral: bool) -> None:
        self.low = buckets[idx, 0]
        self.width = buckets[idx, 1] - buckets[idx, 0]
        self.u = u
        self.inner = idx < len(buckets) - 1
        self.integral = integral
        if integral:
            first = np.ceil(self.low)
            last = np.where(self.inner, np.ceil(buckets[idx, 1]) - 1, np.floor(buckets[idx, 1]))
            self.first, self.n_int = first, np.maximum(last - first + 1, 0)

    def values(self, power: float) -> np.ndarray:
        """The drawn values for exponent ``power``."""
        v = self.u**power
        if self.integral:
            k = np.minimum(np.floor(v * self.n_int), np.maximum(self.n_int - 1, 0))
            return np.where(self.n_int > 0, self.first + k, np.round(self.low + self.width * v))
        x = self.low + self.width * v
        return np.where(self.inner, np.minimum(x, np.nextafter(self.low + self.width, -np.inf)), x)


def _mean_matching_power(inside: _InBucket, target: float) -> float:
    """Exponent ``a`` so that the drawn values' mean is ``target`` (bisection on log a, ``a`` in
    [1/5, 5], so values never pile up on the bucket edges; 1 when the target is unknown)."""
    if not math.isfinite(target) or not np.all(np.isfinite(inside.width)):
        return 1.0

    def mean(log_a: float) -> float:
        return float(np.mean(inside.values(math.exp(log_a))))

    lo, hi = math.log(1 / 5), math.log(5)  # mean(lo) is the largest, mean(hi) the smallest
    if target >= mean(lo):
        return math.exp(lo)
    if target <= mean(hi):
        return math.exp(hi)
    for _ in range(30):
        mid = (lo + hi) / 2
        if mean(mid) > target:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2)


def baseline_distributions(baseline: Baseline, current: pd.DataFrame | None = None) -> pd.DataFrame:
    """Baseline bucket shares per feature, with the current data's shares in the same buckets.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``feature, kind, bucket`` (label), ``lower, upper`` (numeric) or ``value``
        (categorical), ``baseline_count, baseline_share, current_count, current_share``. Current
        values outside the baseline range get extra buckets ``"below range"``/``"above range"``;
        unseen categories get their own rows with baseline share 0.
    """
    rows: list[dict[str, Any]] = []
    for f in baseline.features:
        cur = _present(current[f.name]) if current is not None and f.name in current.columns else None
        if f.kind == "numeric" and f.numeric_buckets:
            b = np.array(f.numeric_buckets, dtype="float64")
            total = np.nansum(b[:, 2])
            x = (
                pd.to_numeric(cur, errors="coerce").dropna().to_numpy(dtype="float64")
                if cur is not None
                else None
            )
            m = len(x) if x is not None else 0
            for i, (lo, hi, c) in enumerate(b):
                if x is not None:
                    inside = (x >= lo) & ((x < hi) if i < len(b) - 1 else (x <= hi))
                    cc: float = float(inside.sum())
                else:
                    cc = math.nan
                rows.append(_bucket_row(f, f"{lo:g}–{hi:g}", lo, hi, None, c, total, cc, m))
            if x is not None:
                for label, count in (
                    ("below range", (x < b[0, 0]).sum()),
                    ("above range", (x > b[-1, 1]).sum()),
                ):
                    if count:
                        rows.append(
                            _bucket_row(f, label, math.nan, math.nan, None, 0.0, total, float(count), m)
                        )
        elif f.categorical_buckets:
            total = sum(c for _, c in f.categorical_buckets)
            counts = cur.astype("str").value_counts() if cur is not None else None
            m = int(counts.sum()) if counts is not None else 0
            for value, c in f.categorical_buckets:
                cc = float(counts.get(value, 0)) if counts is not None else math.nan
                rows.append(_bucket_row(f, value, math.nan, math.nan, value, c, total, cc, m))
            if counts is not None:
                known = {v for v, _ in f.categorical_buckets}
                for extra, count in counts.items():
                    if extra not in known:
                        rows.append(
                            _bucket_row(
                                f, str(extra), math.nan, math.nan, str(extra), 0.0, total, float(count), m
                            )
                        )
    cols = ["feature", "kind", "bucket", "lower", "upper", "value", "baseline_count", "baseline_share",
            "current_count", "current_share"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _bucket_row(
    f: FeatureStatistics, label: str, lo: float, hi: float, value: str | None, count: float, total: float,
    current_count: float, current_total: int,
) -> dict[str, Any]:  # fmt: skip
    return {
        "feature": f.name,
        "kind": f.kind,
        "bucket": label,
        "lower": lo,
        "upper": hi,
        "value": value,
        "baseline_count": count,
        "baseline_share": count / total if total else math.nan,
        "current_count": current_count,
        "current_share": current_count / current_total if current_total else math.nan,
    }


def _present(col: pd.Series) -> pd.Series:
    return col.loc[col.notna()]


@dataclass(frozen=True)
class Violation:
    """One entry of ``constraint_violations.json``."""

    feature_name: str
    constraint_check_type: str
    description: str


@dataclass(frozen=True)
class Violations:
    """Result of ``check_constraints``.

    Attributes
    ----------
    violations
        The failed checks, as ``constraint_violations.json`` lists them.
    table
        Every check that ran (and the ones skipped, with the reason), violations first: columns
        ``feature_name, constraint_check_type, status`` (``violation``/``ok``/``skipped``),
        ``observed, threshold, description, note``; ``note`` carries the small-sample caveat of a
        distance check (see :func:`chance_distance`), empty elsewhere.
    """

    violations: tuple[Violation, ...]
    table: pd.DataFrame

    def to_dict(self) -> dict[str, list[dict[str, str]]]:
        """``{"violations": [{"feature_name", "constraint_check_type", "description"}, ...]}``."""
        return {
            "violations": [
                {"feature_name": v.feature_name, "constraint_check_type": v.constraint_check_type,
                 "description": v.description}
                for v in self.violations
            ]
        }  # fmt: skip

    def to_json(self, indent: int | None = 2) -> str:
        """The ``constraint_violations.json`` text."""
        return json.dumps(self.to_dict(), indent=indent)

    def __len__(self) -> int:
        return len(self.violations)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _value_types(col: pd.Series) -> pd.Series:
    """Per present value: "Integral", "Fractional" or "String" (how Model Monitor infers types)."""
    present = col.loc[col.notna()]
    if pd.api.types.is_bool_dtype(present.dtype):
        return pd.Series("String", index=present.index)
    if pd.api.types.is_numeric_dtype(present.dtype):
        x = present.to_numpy(dtype="float64")
        return pd.Series(
            np.where(np.isfinite(x) & (x == np.round(x)), "Integral", "Fractional"), index=present.index
        )
    text = present.astype("str").str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    integral = text.str.fullmatch(r"[+-]?\d+")
    kinds = np.where(integral, "Integral", np.where(numbers.notna(), "Fractional", "String"))
    return pd.Series(kinds, index=present.index)


def _type_match(kinds: pd.Series, expected: str) -> float:
    if kinds.empty:
        return 1.0
    ok = kinds.isin(("Integral", "Fractional")) if expected == "Fractional" else kinds == expected
    return float(ok.mean())


def numeric_distance(baseline: FeatureStatistics, values: Iterable[float]) -> float:
    """Max |F_baseline − F_current| at the KLL bucket edges (and below the baseline minimum).

    Buckets hold ``[lower, upper)``, the last one ``[lower, upper]`` (as in the real files: a
    value equal to an edge counts in the bucket above it), so the current CDF at an inner edge
    counts the values strictly below it.
    """
    b = np.array(baseline.numeric_buckets, dtype="float64").reshape(-1, 3)
    x = np.asarray(pd.to_numeric(pd.Series(list(values)), errors="coerce"), dtype="float64")
    x = x[np.isfinite(x)]
    if len(b) == 0 or len(x) == 0 or np.nansum(b[:, 2]) <= 0:
        return math.nan
    counts = np.nan_to_num(b[:, 2])
    f_base = np.cumsum(counts) / counts.sum()
    x.sort()
    f_cur = np.searchsorted(x, b[:, 1], side="left") / len(x)
    f_cur[-1] = np.searchsorted(x, b[-1, 1], side="right") / len(x)
    below = np.searchsorted(x, b[0, 0], side="left") / len(x)
    return float(max(np.max(np.abs(f_base - f_cur)), below))


def categorical_distance(baseline: FeatureStatistics, values: Iterable[object]) -> float:
    """L∞ distance between baseline and current category shares (unseen categories count)."""
    cur = pd.Series(list(values), dtype="object").dropna().astype("str")
    total = sum(c for _, c in baseline.categorical_buckets)
    if cur.empty or total <= 0:
        return math.nan
    p_base = {v: c / total for v, c in baseline.categorical_buckets}
    p_cur = {str(k): float(v) for k, v in cur.value_counts(normalize=True).items()}  # keys are str already
    return float(max(abs(p_base.get(k, 0.0) - p_cur.get(k, 0.0)) for k in set(p_base) | set(p_cur)))


def _chi_square_p(baseline: FeatureStatistics, values: Iterable[object]) -> float:
    cur = pd.Series(list(values), dtype="object").dropna().astype("str")
    total = sum(c for _, c in baseline.categorical_buckets)
    if cur.empty or total <= 0:
        return math.nan
    cats = [v for v, _ in baseline.categorical_buckets]
    counts = cur.value_counts()
    observed = np.array([counts.get(v, 0) for v in cats] + [int((~cur.isin(cats)).sum())], dtype="float64")
    # Unseen categories get a small expected share (0.5 of a baseline row) so the test is defined.
    expected_share = np.array([c for _, c in baseline.categorical_buckets] + [0.5], dtype="float64")
    expected = expected_share / expected_share.sum() * observed.sum()
    return float(stats.chisquare(observed, expected).pvalue)


def _override(fc: FeatureConstraint, key: str, default: float) -> float:
    return _threshold(fc.overrides.get(key), default) if fc.overrides else default


def check_constraints(
    current: pd.DataFrame,
    constraints: Constraints,
    baseline: Baseline | None = None,
    *,
    ignore_columns: Sequence[str] = IGNORED_COLUMNS,
) -> Violations:
    """Run Model Monitor's data-quality checks on current data.

    Parameters
    ----------
    current
        Current data, one column per feature (e.g. ``lib.sources.capture.read_capture`` with the baseline's
        feature names, or a CSV).
    constraints
        From ``read_constraints``.
    baseline
        From ``read_statistics``; needed for ``baseline_drift_check`` (skipped without it).
    ignore_columns
        Columns that are never "extra" (default: capture metadata and ``prediction*``).

    Returns
    -------
    Violations
        ``.to_json()`` is shaped like ``constraint_violations.json``; ``.table`` lists every check.
        The module docstring gives the exact rule of each check.
    """
    checks: list[dict[str, Any]] = []
    violations: list[Violation] = []

    def add(
        feature: str,
        check: str,
        violated: bool | None,
        observed: float,
        threshold: float,
        text: str,
        note: str = "",
    ) -> None:
        status = "skipped" if violated is None else "violation" if violated else "ok"
        if status == "ok":
            text = f"Passed: observed {observed:.4g}, threshold {threshold:.4g}."
        checks.append({"feature_name": feature, "constraint_check_type": check, "status": status,
                       "observed": observed, "threshold": threshold, "description": text,
                       "note": note})  # fmt: skip
        if violated:
            violations.append(Violation(feature, check, text))

    ignored = set(ignore_columns)
    names = constraints.feature_names
    cols = [str(c) for c in current.columns if str(c) not in ignored and not str(c).startswith("prediction_")]
    n_cur, n_base = len(cols), len(names)
    for name in names:
        if name not in current.columns:
            add(name, "missing_column_check", True, math.nan, math.nan,
                "There are missing columns in current dataset. "
                f"Number of columns in current dataset: {n_cur}, "
                f"Number of columns in baseline constraints: {n_base}")  # fmt: skip
    for extra in cols:
        if extra not in names:
            add(extra, "extra_column_check", True, math.nan, math.nan,
                f"There are extra columns in current dataset. Number of columns in current dataset: {n_cur}, "
                f"Number of columns in baseline constraints: {n_base}")  # fmt: skip

    n_rows = len(current)
    for fc in constraints.features:
        if fc.name not in current.columns:
            continue
        col = current[fc.name]
        present = col.loc[col.notna()]
        if not constraints.evaluate_constraints:
            add(fc.name, "data_type_check", None, math.nan, math.nan, "evaluate_constraints is Disabled")
        else:
            if math.isfinite(fc.completeness) and n_rows:
                observed = float(len(present)) / n_rows
                expected = fc.completeness
                add(fc.name, "completeness_check", observed < expected - 1e-12, observed, expected,
                    "Data completeness requirement is not met. "
                    f"Expected completeness: {_pct(expected)}. "
                    f"Observed: Only {_pct(observed)} of data is complete.")  # fmt: skip
            if fc.inferred_type in ("Integral", "Fractional", "String") and len(present):
                thr = _override(fc, "datatype_check_threshold", constraints.datatype_check_threshold)
                match = _type_match(_value_types(col), fc.inferred_type)
                add(fc.name, "data_type_check", match < thr - 1e-12, match, thr,
                    f"Data type match requirement is not met. Expected data type: {fc.inferred_type}, "
                    f"Expected match: {_pct(thr)}. "
                    f"Observed: Only {_pct(match)} of data is {fc.inferred_type}.")  # fmt: skip
            if fc.domains is not None and len(present):
                thr = _override(fc, "domain_content_threshold", constraints.domain_content_threshold)
                inside = float(present.astype("str").isin(fc.domains).mean())
                add(fc.name, "categorical_values_check", inside < thr - 1e-12, inside, thr,
                    f"Data domain requirement is not met. Expected match: {_pct(thr)}. "
                    f"Observed: Only {_pct(inside)} of data is within the baseline domain "
                    f"({', '.join(fc.domains)}).")  # fmt: skip
        _drift_check(fc, present, constraints, baseline, add)

    table = pd.DataFrame(
        checks,
        columns=["feature_name", "constraint_check_type", "status", "observed", "threshold", "description",
                 "note"],
    )  # fmt: skip
    order = {"violation": 0, "ok": 1, "skipped": 2}
    table = table.sort_values("status", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return Violations(tuple(violations), table)


def _drift_check(
    fc: FeatureConstraint, present: pd.Series, constraints: Constraints, baseline: Baseline | None, add: Any
) -> None:
    check = "baseline_drift_check"
    if not constraints.perform_comparison:
        add(fc.name, check, None, math.nan, math.nan, "distribution comparison is Disabled")
        return
    if baseline is None:
        add(fc.name, check, None, math.nan, math.nan, "no baseline statistics.json given")
        return
    stat = next((f for f in baseline.features if f.name == fc.name), None)
    if stat is None:
        add(fc.name, check, None, math.nan, math.nan, "feature not in the baseline statistics")
        return
    if present.empty:
        add(fc.name, check, None, math.nan, math.nan, "no current values")
        return
    if stat.kind == "numeric":
        thr = _override(fc, "comparison_threshold", constraints.comparison_threshold)
        d = numeric_distance(stat, present)
        if math.isnan(d):
            add(fc.name, check, None, d, thr, "no numeric values or no baseline buckets to compare")
            return
        add(fc.name, check, d > thr, d, thr,
            f"Numerical distance: {round(d, 4):g} exceeds numerical threshold: {thr:g}",
            small_sample_note(stat, len(present), thr))  # fmt: skip
        return
    thr = _override(fc, "categorical_comparison_threshold", constraints.categorical_comparison_threshold)
    if constraints.categorical_drift_method.lower() == "chisquared":
        p = _chi_square_p(stat, present)
        add(fc.name, check, None if math.isnan(p) else p < thr, p, thr,
            f"Categorical drift: chi-squared p-value {p:.4g} "
            f"is below categorical threshold: {thr:g}")  # fmt: skip
        return
    d = categorical_distance(stat, present)
    add(fc.name, check, None if math.isnan(d) else d > thr, d, thr,
        f"Categorical distance: {round(d, 4):g} exceeds categorical threshold: {thr:g}",
        small_sample_note(stat, len(present), thr))  # fmt: skip


#: Two-sided 95 % Kolmogorov-Smirnov constant ``sqrt(-ln(0.025) / 2)``.
_KS95: Final = math.sqrt(-math.log(0.025) / 2)


def chance_distance(baseline: FeatureStatistics, n: int) -> float:
    """Distance (as Model Monitor measures it) that ``n`` current rows reach by chance 5 % of the time.

    The baseline is itself a sample (``num_present`` rows), so both sides are noisy:

    * numbers: the largest CDF gap, bounded by the two-sample Kolmogorov-Smirnov 95 % point
      ``sqrt(-ln(0.025) / 2) · sqrt(1/n + 1/N)`` (checked only at bucket edges, it is a little
      smaller);
    * categories: the largest share gap, ``z · max sqrt(p(1-p)) · sqrt(1/n + 1/N)`` with
      ``z = Φ⁻¹(1 - 0.025 / k)`` over ``k`` categories (Bonferroni).

    ``nan`` without current rows.
    """
    if n < 1:
        return math.nan
    big_n = (
        baseline.num_present if math.isfinite(baseline.num_present) and baseline.num_present > 0 else math.inf
    )
    scale = math.sqrt(1 / n + 1 / big_n)
    if baseline.kind == "numeric":
        return _KS95 * scale
    counts = np.array([c for _, c in baseline.categorical_buckets], dtype="float64")
    if counts.size == 0 or counts.sum() <= 0:
        return math.nan
    p = counts / counts.sum()
    z = float(stats.norm.ppf(1 - 0.025 / max(counts.size, 1)))
    return float(z * np.max(np.sqrt(p * (1 - p))) * scale)


def small_sample_note(baseline: FeatureStatistics, n: int, threshold: float) -> str:
    """The sample-size caveat of a distance check: what chance alone gives at ``n`` current rows.

    Model Monitor compares the distance with a fixed threshold whatever the number of rows; the
    Input drift page's tests account for it. When chance alone can exceed the threshold, the check
    cannot tell drift from noise, which the note says (as the drift page's "could not tell" does).
    """
    chance = chance_distance(baseline, n)
    if not math.isfinite(chance):
        return ""
    rows = f"{n:,} current record{'s' if n != 1 else ''}"
    if chance > threshold:
        return (
            f"Small sample: with {rows}, two samples of one distribution differ by up to "
            f"{chance:.2f} on this distance (95 %), above the {threshold:g} threshold, so this check "
            "cannot tell drift from noise. Model Monitor's threshold has no sample-size notion; the "
            "Input drift page's tests account for it."
        )
    return (
        f"With {rows}, chance alone gives distances up to {chance:.2f} (95 %), below the "
        f"{threshold:g} threshold."
    )


@dataclass(frozen=True)
class ViolationsHistory:
    """The violations of several monitoring executions, oldest first.

    Attributes
    ----------
    table
        One row per violation: ``execution, feature_name, constraint_check_type, description``
        (then any other keys the files carry), in execution order.
    executions
        Every execution, in order, those without violations included.
    computed
        ``False``: read from ``constraint_violations.json`` files; ``True``: computed here by
        :meth:`MonitorArtifacts.check_history` (one execution per hour of the capture).
    """

    table: pd.DataFrame
    executions: tuple[str, ...]
    computed: bool = False

    def __len__(self) -> int:
        return len(self.table)

    def counts(self) -> pd.DataFrame:
        """Violations per execution and feature: ``execution, feature_name, violations, checks``
        (``checks``: the check types, comma-separated), one row for every execution and every
        feature that has a violation in any of them (zero where it has none), in execution order."""
        cols = ["execution", "feature_name", "violations", "checks"]
        if self.table.empty or not self.executions:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c == "violations" else "str") for c in cols})
        rows = self.table.assign(feature_name=self.table["feature_name"].fillna("(none)").astype("str"))
        features = list(dict.fromkeys(rows["feature_name"]))
        grid = pd.MultiIndex.from_product(
            [list(self.executions), features], names=["execution", "feature_name"]
        )
        grouped = rows.groupby(["execution", "feature_name"], sort=False)
        checks = grouped["constraint_check_type"].agg(
            lambda s: ", ".join(dict.fromkeys(str(v) for v in s if pd.notna(v)))
        )
        out = pd.DataFrame(
            {
                "violations": grouped.size().reindex(grid, fill_value=0),
                "checks": checks.reindex(grid).fillna(""),
            }
        ).reset_index()
        out["violations"] = out["violations"].astype("int64")
        return out[cols]

    def totals(self) -> pd.DataFrame:
        """Violations per execution: ``execution, violations, features`` (distinct features)."""
        counts = self.table.groupby("execution", sort=False) if len(self.table) else None
        return pd.DataFrame(
            {
                "execution": list(self.executions),
                "violations": [
                    int(counts.size().get(e, 0)) if counts is not None else 0 for e in self.executions
                ],
                "features": [
                    int(counts["feature_name"].nunique().get(e, 0)) if counts is not None else 0
                    for e in self.executions
                ],
            }
        )


def read_violations_history(files: Sequence[Source]) -> ViolationsHistory:
    """``constraint_violations.json`` files, one per execution, oldest first, as a history.

    Executions are named as :func:`lib.sources.monitor_files.read_violations` names them (file
    name, the differing path part, or ``#<n> <name>``); a run without violations is kept with
    zero rows.

    Raises
    ------
    InputError
        If a file is not a constraint_violations.json (naming it and what it is instead).
    """
    items = list(files)
    tables = [read_violations(item) for item in items]  # each checked on its own
    names = _execution_names(items, [source_bytes(item)[1] for item in items])
    parts = [t.assign(execution=name) for t, name in zip(tables, names, strict=True) if len(t)]
    table = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({c: pd.Series(dtype="str") for c in ("execution", *VIOLATION_COLUMNS)})
    )
    table = table[["execution", *[c for c in table.columns if c != "execution"]]]
    return ViolationsHistory(table, tuple(names))


@dataclass(frozen=True)
class MonitorArtifacts:
    """What the Model Monitor page shows: data capture, baseline statistics and constraints, and
    the violations of past monitoring executions.

    Any part may be missing (``None``). ``capture_label`` names the capture files.
    """

    capture: CaptureResult | None = None
    baseline: Baseline | None = None
    constraints: Constraints | None = None
    capture_label: str = ""
    is_demo: bool = False
    violations: ViolationsHistory | None = None

    def history(self) -> ViolationsHistory | None:
        """The uploaded violations history, else :meth:`check_history`."""
        return self.violations if self.violations is not None else self.check_history()

    def check_history(self, freq: str = "h") -> ViolationsHistory | None:
        """``check`` on each ``freq`` period (UTC) of the capture, as an hourly monitoring schedule
        runs it; executions are named by the period start. None without capture or constraints, or
        without capture times."""
        if self.capture is None or self.constraints is None:
            return None
        frame = self.capture.frame
        times = frame["inference_time"] if "inference_time" in frame.columns else None
        if times is None or times.isna().all():
            return None
        # ISO-like labels of the period starts: sorting them sorts the periods.
        periods = pd.to_datetime(times, utc=True).dt.floor(freq).dt.strftime("%Y-%m-%d %H:%M UTC")
        names: list[str] = []
        tables = []
        for start, rows_of_period in frame.groupby(periods, sort=True):
            part = MonitorArtifacts(
                CaptureResult(rows_of_period.reset_index(drop=True), 0, 0, ()),
                self.baseline,
                self.constraints,
            ).check()
            assert part is not None
            name = str(start)
            names.append(name)
            rows = pd.DataFrame(
                [(name, v.feature_name, v.constraint_check_type, v.description) for v in part.violations],
                columns=["execution", *VIOLATION_COLUMNS],
            )
            tables.append(rows)
        table = (
            pd.concat(tables, ignore_index=True)
            if tables
            else pd.DataFrame(columns=["execution", *VIOLATION_COLUMNS])
        )
        return ViolationsHistory(table, tuple(names), computed=True)

    def check(self) -> Violations | None:
        """``check_constraints`` on the captured data (None without capture or constraints)."""
        if self.capture is None or self.constraints is None:
            return None
        frame = self.capture.frame
        label = frame.attrs.get("label_column")
        if isinstance(label, str) and label not in frame.columns and "prediction" in frame.columns:
            # Model Monitor checks the prediction against the baseline's label column.
            frame = frame.assign(**{label: frame["prediction"]})
        return check_constraints(frame, self.constraints, self.baseline)


def load_artifacts(
    capture: Sequence[Source] = (),
    statistics: Source | None = None,
    constraints: Source | None = None,
    *,
    capture_label: str = "",
    violations: Sequence[Source] = (),
) -> MonitorArtifacts:
    """Read whichever Model Monitor artifacts are given.

    ``violations``: ``constraint_violations.json`` files of past executions, oldest first (see
    :func:`read_violations_history`).

    Positional capture inputs (CSV rows, lists) are named with the baseline's feature names when a
    ``statistics.json`` is given (else the constraints' feature names, else ``f0``, ``f1`` …),
    following Model Monitor's convention that the baseline's first column is the label when the
    capture rows hold one value fewer (see ``read_capture_report``).

    Raises
    ------
    InputError
        From the reader of the first file that cannot be used (naming it).
    """
    baseline = read_statistics(statistics) if statistics is not None else None
    cons = read_constraints(constraints) if constraints is not None else None
    names = (
        baseline.feature_names if baseline is not None else cons.feature_names if cons is not None else None
    )
    result = read_capture_report(list(capture), feature_names=names) if len(capture) else None
    history = read_violations_history(violations) if len(violations) else None
    return MonitorArtifacts(result, baseline, cons, capture_label, violations=history)


#: Columns of :func:`drift_agreement`.
AGREEMENT_COLUMNS: Final = (
    "feature_name",
    "model_monitor",
    "distance",
    "threshold",
    "n_current",
    "chance_distance",
    "drift_status",
    "drift_reason",
    "agree",
    "why",
)


def drift_agreement(artifacts: MonitorArtifacts, violations: Violations | None = None) -> pd.DataFrame:
    """Model Monitor's baseline distance checks beside the Input drift page's verdicts on the same data.

    The drift page is given what the Model Monitor page hands it: the capture (:func:`drift_frame`)
    as current data and :func:`baseline_reference` as reference, with its default rule and roles
    (every shared column but the guessed prediction, label and timestamp, as the page starts). Where the two
    differ, ``why`` says which design difference explains it: Model Monitor compares a distance with
    a fixed threshold whatever the number of records (:func:`chance_distance` gives what chance alone
    reaches), while the drift test needs a significant change (Benjamini-Hochberg-adjusted p) whose
    effect (normal-score shift, or total variation) reaches its own threshold. One row per feature
    with a baseline distance check that ran; empty without capture, baseline or constraints.
    """
    empty = pd.DataFrame(columns=list(AGREEMENT_COLUMNS))
    if artifacts.capture is None or artifacts.baseline is None or artifacts.constraints is None:
        return empty
    violations = violations if violations is not None else artifacts.check()
    if violations is None:
        return empty
    table = violations.table
    ran = table.loc[
        (table["constraint_check_type"] == "baseline_drift_check") & (table["status"] != "skipped")
    ]
    if ran.empty:
        return empty
    current = drift_frame(artifacts.capture.frame)
    reference = baseline_reference(artifacts.baseline)
    kinds = infer_kinds(reference[[c for c in reference.columns if c in current.columns]])
    verdicts = compare(
        reference,
        current,
        workers=1,
        prediction=guess_prediction(reference, kinds),
        label=guess_label(reference, kinds),
        timestamp=guess_timestamp(reference, kinds),
    ).table.drop_duplicates("column")
    by_feature = verdicts.set_index("column")
    stats_by_name = {f.name: f for f in artifacts.baseline.features}
    rows = []
    for check in ran.itertuples(index=False):
        name = str(check.feature_name)
        n = int(current[name].notna().sum()) if name in current.columns else 0
        chance = chance_distance(stats_by_name[name], n) if name in stats_by_name else math.nan
        status = str(by_feature.loc[name, "status"]) if name in by_feature.index else "not tested"
        reason = str(by_feature.loc[name, "reason"]) if name in by_feature.index else ""
        flagged = check.status == "violation"
        drifted = status == "drift"
        distance, threshold = float(check.observed), float(check.threshold)  # type: ignore[arg-type]
        method = "p-value" if "p-value" in str(check.description) else "distance"
        if flagged == drifted:
            agree = status != "could not tell" or not flagged
            why = "Both flag drift." if drifted else "Neither flags drift."
            if status == "could not tell":
                why = (
                    "Model Monitor passes it; the drift test could not tell at this size (a change of "
                    "its threshold size could go unseen)."
                )
        elif flagged and method == "distance" and math.isfinite(chance) and chance > threshold:
            agree = False
            why = (
                f"Differ by design: with {n:,} records chance alone gives distances up to {chance:.2f} "
                f"(95 %), so {distance:.3g} > {threshold:g} is within noise; Model Monitor's threshold "
                f"has no sample-size notion, the drift test does (it says: {status})."
            )
        elif flagged:
            agree = False
            why = (
                f"Differ by design: the {method} {distance:.3g} crosses Model Monitor's {threshold:g}, "
                f"but the drift test finds {status} (it needs a significant change AND an effect of at "
                "least its own threshold, on a different scale: normal-score shift or total variation)."
            )
        else:
            agree = False
            why = (
                f"Differ by design: the drift test finds a significant change reaching its effect "
                f"threshold, while Model Monitor's {method} {distance:.3g} stays within {threshold:g} "
                "(it measures the largest gap at the baseline's bucket edges only)."
            )
        rows.append(
            {
                "feature_name": name,
                "model_monitor": "violation" if flagged else "ok",
                "distance": distance,
                "threshold": threshold,
                "n_current": n,
                "chance_distance": chance,
                "drift_status": status,
                "drift_reason": reason,
                "agree": bool(agree),
                "why": why,
            }
        )
    return pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))
