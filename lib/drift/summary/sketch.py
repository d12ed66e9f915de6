"""Mergeable per-column summaries: what drift needs from a column, in a size that does not grow with rows.

A :class:`ColumnSummary` is built from one batch of rows (:func:`summarise_column`) and merged with
others (:meth:`ColumnSummary.merge`). Every field merges *exactly*, so any split of the rows into
batches or partitions, merged in any order or tree, gives the same summary, byte for byte in JSON:

* counts: rows, missing, non-finite, values that are not numbers (``n_garbage``);
* numbers: count, min and max (and how many rows hold each), the exact sums of the values and of
  their squares (each square rounded once to float64, then summed exactly, kept as a fraction), and
  counts on fixed *edges derived from the reference* (:func:`fine_edges`: about
  :data:`N_FINE_BINS` reference-quantile bins plus one edge just below the reference minimum and one
  at its maximum, so out-of-range shares are exact);
* while they are small, the values themselves (at most :data:`EXACT_MAX_VALUES`, so small data
  gives the very same report as :func:`lib.drift.compare`) and the distinct values with their
  counts (at most :data:`DISTINCT_MAX_VALUES`: low-cardinality numbers, tied KS, chi-square);
* categories: counts per category; past :data:`CATEGORY_MAX` distinct categories, those whose hash
  falls above a threshold (halved until they fit) are pooled into ``"(other)"``;
* a hash-thinned sample of distinct values with their counts (reference only, first pass), from
  which the edges are drawn;
* after the refinement passes (:mod:`lib.drift.summary.refine`): the few intervals that can hold the
  largest ECDF gap, this side's count of values at or below each, and its values inside them, from
  which KS D is exact (at most :data:`~lib.drift.summary.refine.REFINE_MAX_VALUES` values).

Caps are merged by the rule "a capped field is kept only when the merged whole fits": whether the
whole fits does not depend on how it was split, so the merge stays associative. The hash-thinned
fields keep the values whose hash is below ``2**64 >> level``, with the smallest ``level`` at which
the merged whole fits: again a property of the whole, not of the split.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from lib.drift.engine import OTHER, prepare_side
from lib.drift.summary.refine import merge_kept
from lib.errors import InputError

#: Values kept verbatim per column and side while the column has at most this many finite values
#: (the engine's exact-KS limit: up to it, summaries give exactly :func:`compare`'s report).
EXACT_MAX_VALUES: Final = 10_000
#: Distinct numbers kept with their counts while a column has at most this many.
DISTINCT_MAX_VALUES: Final = 1_000
#: Categories kept by name; beyond, hash-thinned into ``"(other)"``.
CATEGORY_MAX: Final = 10_000
#: Distinct values in the reference sample the edges are drawn from.
SAMPLE_MAX_VALUES: Final = 131_072
#: Reference-quantile bins between the reference minimum and maximum.
N_FINE_BINS: Final = 4_000

SummaryKind = Literal["numeric", "categorical"]

_MASK64: Final = (1 << 64) - 1


def _hash_floats(values: np.ndarray) -> np.ndarray:
    """splitmix64 of the float64 bit patterns (``-0.0`` is normalised away by the caller)."""
    z = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64).copy()
    with np.errstate(over="ignore"):
        z += np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _hash_text(label: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(label.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big"
    )


def _below(level: int) -> int:
    """Hashes strictly below this survive thinning at ``level``."""
    return (_MASK64 + 1) >> level


def exact_sum(values: np.ndarray) -> Fraction:
    """The exact sum of finite float64 values, as a fraction (no rounding at all).

    Each value is ``±M · 2**E`` with a 53-bit integer ``M`` read from its bits. Runs of values
    sharing sign and exponent (few when the values are sorted, or sorted within two parts as the
    squares of sorted values are) are summed in int64 on 26/27-bit halves of ``M``, exact for up to
    2**36 values per run; the runs are then added as Python integers.
    """
    if values.size == 0:
        return Fraction(0)
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    field = (bits >> 52) & 0x7FF
    mant = bits & ((1 << 52) - 1)
    mant |= np.where(field > 0, 1 << 52, 0)
    negative = bits < 0
    mant = np.where(negative, -mant, mant)
    key = field * 2 + negative
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    hi = np.add.reduceat(mant >> 26, starts)
    lo = np.add.reduceat(mant & ((1 << 26) - 1), starts)
    exps = np.maximum(field[starts], 1) - 1075
    low = int(exps.min())
    total = 0
    for h, low_bits, e in zip(hi.tolist(), lo.tolist(), (exps - low).tolist(), strict=True):
        total += ((h << 26) + low_bits) << e
    return Fraction(total, 1 << -low) if low < 0 else Fraction(total << low)


def _fraction_text(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def _fraction(text: Any) -> Fraction | None:
    return None if text is None else Fraction(str(text))


@dataclass(frozen=True, eq=False)
class NumericPart:
    """What a numeric column keeps (see the module docstring)."""

    n: int = 0
    min: float | None = None
    max: float | None = None
    n_at_min: int = 0
    n_at_max: int = 0
    total: Fraction = Fraction(0)
    total_squares: Fraction | None = Fraction(0)
    values: np.ndarray | None = field(default_factory=lambda: np.empty(0))  # sorted; None past the cap
    distinct: dict[float, int] | None = field(default_factory=dict)  # None past the cap
    edges: np.ndarray | None = None
    bins: np.ndarray | None = None  # len(edges) + 1 counts: x <= e0, e0 < x <= e1, ..., x > e_last
    sample: tuple[np.ndarray, np.ndarray] | None = None  # reference pass 1 only: (values, counts)
    sample_level: int = 0
    # Refinement (exact KS D, :mod:`lib.drift.summary.refine`): the candidate (left, right] intervals,
    # this side's count of values at or below each left end, and its values inside them
    # as distinct values and their counts (None when more than REFINE_MAX_VALUES distinct values).
    refine_intervals: np.ndarray | None = None
    refine_below: np.ndarray | None = None
    refine_values: np.ndarray | None = None
    refine_counts: np.ndarray | None = None

    @property
    def refine_pairs(self) -> np.ndarray | None:
        """Refined values and their counts as one ``(2, k)`` array (None when not kept)."""
        if self.refine_values is None or self.refine_counts is None:
            return None
        return np.stack([self.refine_values, self.refine_counts.astype(np.float64)])

    @property
    def mean(self) -> float:
        return float(self.total / self.n) if self.n else math.nan

    @property
    def variance(self) -> float:
        """Population variance (``np.var``'s), from the exact sums."""
        if not self.n or self.total_squares is None:
            return math.nan
        return max(float(self.total_squares / self.n - (self.total / self.n) ** 2), 0.0)

    def merge(self, other: NumericPart) -> NumericPart:
        lo, hi = _pick(self.min, other.min, min), _pick(self.max, other.max, max)
        n = self.n + other.n
        values = None
        if self.values is not None and other.values is not None and n <= EXACT_MAX_VALUES:
            values = np.sort(np.concatenate([self.values, other.values]), kind="stable")
        distinct = None
        if self.distinct is not None and other.distinct is not None:
            merged = dict(self.distinct)
            for v, c in other.distinct.items():
                merged[v] = merged.get(v, 0) + c
            distinct = merged if len(merged) <= DISTINCT_MAX_VALUES else None
        bins, edges = None, None
        if self.bins is not None or other.bins is not None:
            if self.edges is None or other.edges is None or not np.array_equal(self.edges, other.edges):
                raise InputError("Cannot merge summaries made on different bin edges.")
            assert self.bins is not None
            assert other.bins is not None
            edges, bins = self.edges, self.bins + other.bins
        sample, level = None, max(self.sample_level, other.sample_level)
        if self.sample is not None and other.sample is not None:
            keys, inverse = np.unique(np.concatenate([self.sample[0], other.sample[0]]), return_inverse=True)
            counts = np.bincount(inverse, weights=np.concatenate([self.sample[1], other.sample[1]]))
            sample, level = thin_values(keys, counts.astype(np.int64), level)
        intervals, below, refined, refined_counts = _merge_refined(self, other)
        squares = (
            None
            if self.total_squares is None or other.total_squares is None
            else self.total_squares + other.total_squares
        )
        return NumericPart(
            n=n,
            min=lo,
            max=hi,
            n_at_min=_at(self.min, self.n_at_min, lo) + _at(other.min, other.n_at_min, lo),
            n_at_max=_at(self.max, self.n_at_max, hi) + _at(other.max, other.n_at_max, hi),
            total=self.total + other.total,
            total_squares=squares,
            values=values,
            distinct=distinct,
            edges=edges,
            bins=bins,
            sample=sample,
            sample_level=level,
            refine_intervals=intervals,
            refine_below=below,
            refine_values=refined,
            refine_counts=refined_counts,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "min": self.min,
            "max": self.max,
            "n_at_min": self.n_at_min,
            "n_at_max": self.n_at_max,
            "sum": _fraction_text(self.total),
            "sum_squares": _fraction_text(self.total_squares),
            "values": None if self.values is None else self.values.tolist(),
            "distinct": None if self.distinct is None else sorted([v, c] for v, c in self.distinct.items()),
            "edges": None if self.edges is None else self.edges.tolist(),
            "bins": None if self.bins is None else self.bins.tolist(),
            "sample": None if self.sample is None else [self.sample[0].tolist(), self.sample[1].tolist()],
            "sample_level": self.sample_level,
            "refine_intervals": None if self.refine_intervals is None else self.refine_intervals.tolist(),
            "refine_below": None if self.refine_below is None else self.refine_below.tolist(),
            "refine_values": None if self.refine_values is None else self.refine_values.tolist(),
            "refine_counts": None if self.refine_counts is None else self.refine_counts.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericPart:
        def pairs(key: str) -> dict[float, int] | None:
            raw = data.get(key)
            return None if raw is None else {float(v): int(c) for v, c in raw}

        def array(key: str, dtype: type) -> np.ndarray | None:
            raw = data.get(key)
            return None if raw is None else np.asarray(raw, dtype=dtype)

        total = _fraction(data.get("sum"))
        return cls(
            n=int(data["n"]),
            min=None if data.get("min") is None else float(data["min"]),
            max=None if data.get("max") is None else float(data["max"]),
            n_at_min=int(data.get("n_at_min", 0)),
            n_at_max=int(data.get("n_at_max", 0)),
            total=total if total is not None else Fraction(0),
            total_squares=_fraction(data.get("sum_squares")),
            values=array("values", np.float64),
            distinct=pairs("distinct"),
            edges=array("edges", np.float64),
            bins=array("bins", np.int64),
            sample=(
                None
                if data.get("sample") is None
                else (np.asarray(data["sample"][0], np.float64), np.asarray(data["sample"][1], np.int64))
            ),
            sample_level=int(data.get("sample_level", 0)),
            refine_intervals=(
                None
                if data.get("refine_intervals") is None
                else np.asarray(data["refine_intervals"], dtype=np.float64).reshape(-1, 2)
            ),
            refine_below=array("refine_below", np.int64),
            refine_values=array("refine_values", np.float64),
            refine_counts=array("refine_counts", np.int64),
        )


def _merge_refined(
    a: NumericPart, b: NumericPart
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Refinements merge when both parts were refined on the same intervals (else the merged summary
    is not refined): counts below add up, value/count pairs are kept while the merged whole has at
    most REFINE_MAX_VALUES distinct values. Both are properties of the whole, not of the split: the
    merge stays associative."""
    if (
        a.refine_intervals is None
        or b.refine_intervals is None
        or a.refine_below is None
        or b.refine_below is None
        or not np.array_equal(a.refine_intervals, b.refine_intervals)
    ):
        return None, None, None, None
    below = a.refine_below + b.refine_below
    merged = merge_kept([a.refine_pairs, b.refine_pairs])
    if merged is None:
        return a.refine_intervals, below, None, None
    return a.refine_intervals, below, merged[0], merged[1].astype(np.int64)


def _pick(a: float | None, b: float | None, fn: Any) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return float(fn(a, b))


def _at(value: float | None, count: int, extreme: float | None) -> int:
    return count if value is not None and value == extreme else 0


def thin_values(
    keys: np.ndarray, counts: np.ndarray, level: int
) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    """Distinct values (sorted) whose hash is below ``2**64 >> level``, at the smallest level ≥ ``level``
    that keeps at most :data:`SAMPLE_MAX_VALUES` of them."""
    hashes = _hash_floats(keys)
    while True:
        keep = hashes < np.uint64(_below(level)) if level else np.ones(keys.size, dtype=bool)
        if int(keep.sum()) <= SAMPLE_MAX_VALUES:
            return (keys[keep], counts[keep]), level
        keys, counts, hashes, level = keys[keep], counts[keep], hashes[keep], level + 1


def _text_hashes(keys: Iterable[str]) -> dict[str, int]:
    return {k: _hash_text(k) for k in keys}


def _merge_thinned(
    a: Mapping[Any, int], b: Mapping[Any, int], level: int, cap: int, hashes: Any
) -> tuple[dict[Any, int], int]:
    """Union of two hash-thinned count maps at the smallest level ≥ ``level`` where it fits ``cap``."""
    merged: dict[Any, int] = {}
    for part in (a, b):
        for k, c in part.items():
            merged[k] = merged.get(k, 0) + c
    return _thin(merged, level, cap, hashes)


def _thin(counts: dict[Any, int], level: int, cap: int, hashes: Any) -> tuple[dict[Any, int], int]:
    h = hashes(counts.keys())
    while True:
        limit = _below(level)
        kept = {k: c for k, c in counts.items() if h[k] < limit}
        if len(kept) <= cap:
            return kept, level
        counts, level = kept, level + 1


@dataclass(frozen=True)
class CategoricalPart:
    """Counts per category (text labels as the engine makes them); the rest in ``other``."""

    counts: dict[str, int] = field(default_factory=dict)
    other: int = 0
    level: int = 0

    def merge(self, other: CategoricalPart) -> CategoricalPart:
        level = max(self.level, other.level)
        total = sum(self.counts.values()) + self.other + sum(other.counts.values()) + other.other
        counts, level = _merge_thinned(self.counts, other.counts, level, CATEGORY_MAX, _text_hashes)
        return CategoricalPart(counts, total - sum(counts.values()), level)

    def series(self) -> pd.Series:
        """Counts as the engine's ``PreparedSide.counts`` (``"(other)"`` last when non-zero)."""
        counts = dict(sorted(self.counts.items()))
        if self.other:
            counts[OTHER] = counts.get(OTHER, 0) + self.other
        return pd.Series(counts, dtype=np.int64)

    def to_dict(self) -> dict[str, Any]:
        return {"counts": dict(sorted(self.counts.items())), "other": self.other, "level": self.level}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalPart:
        return cls(
            {str(k): int(v) for k, v in data["counts"].items()}, int(data["other"]), int(data["level"])
        )


@dataclass(frozen=True, eq=False)
class ColumnSummary:
    """The mergeable summary of one column on one side (reference or current).

    Attributes
    ----------
    kind : {"numeric", "categorical"}
        How the engine treats the column (booleans are categorical).
    n_rows, n_missing, n_nonfinite, n_garbage : int
        Rows; missing values; infinite values (numbers); present values that are not numbers.
    numeric : NumericPart or None
        Count, min/max, exact moments, fine-bin counts, small exact values and distinct counts.
    categorical : CategoricalPart or None
        Counts per category, the rest pooled in ``"(other)"``.

    Examples
    --------
    >>> a = summarise_column(pd.Series([1.0, 2.0, None]), "numeric")
    >>> b = summarise_column(pd.Series([2.0, 5.0]), "numeric")
    >>> merged = a.merge(b)
    >>> merged.n_rows, merged.n_missing, merged.numeric.max, merged.numeric.mean
    (5, 1, 5.0, 2.5)
    >>> ColumnSummary.from_dict(merged.to_dict()) == merged
    True
    """

    kind: SummaryKind
    n_rows: int = 0
    n_missing: int = 0
    n_nonfinite: int = 0
    n_garbage: int = 0
    numeric: NumericPart | None = None
    categorical: CategoricalPart | None = None

    def merge(self, other: ColumnSummary) -> ColumnSummary:
        """The summary of both batches' rows together (exact; associative and commutative)."""
        if self.kind != other.kind:
            raise InputError(f"Cannot merge a {self.kind} summary with a {other.kind} one.")
        return ColumnSummary(
            kind=self.kind,
            n_rows=self.n_rows + other.n_rows,
            n_missing=self.n_missing + other.n_missing,
            n_nonfinite=self.n_nonfinite + other.n_nonfinite,
            n_garbage=self.n_garbage + other.n_garbage,
            numeric=None
            if self.numeric is None or other.numeric is None
            else self.numeric.merge(other.numeric),
            categorical=(
                None
                if self.categorical is None or other.categorical is None
                else self.categorical.merge(other.categorical)
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (exact: floats round-trip, sums are fractions as text)."""
        return {
            "kind": self.kind,
            "n_rows": self.n_rows,
            "n_missing": self.n_missing,
            "n_nonfinite": self.n_nonfinite,
            "n_garbage": self.n_garbage,
            "numeric": None if self.numeric is None else self.numeric.to_dict(),
            "categorical": None if self.categorical is None else self.categorical.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSummary:
        """Inverse of :meth:`to_dict`."""
        kind = data["kind"]
        if kind not in ("numeric", "categorical"):
            raise InputError(f"Unknown summary kind {kind!r}.")
        return cls(
            kind=kind,
            n_rows=int(data["n_rows"]),
            n_missing=int(data["n_missing"]),
            n_nonfinite=int(data["n_nonfinite"]),
            n_garbage=int(data["n_garbage"]),
            numeric=None if data.get("numeric") is None else NumericPart.from_dict(data["numeric"]),
            categorical=None
            if data.get("categorical") is None
            else CategoricalPart.from_dict(data["categorical"]),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColumnSummary) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self.to_dict()))


def summarise_column(
    series: pd.Series,
    kind: str,
    *,
    edges: np.ndarray | None = None,
    sample: bool = False,
) -> ColumnSummary:
    """Summarise one batch of one column, cleaned exactly as :func:`lib.drift.compare` cleans it.

    Parameters
    ----------
    series : pandas.Series
        The batch's values.
    kind : str
        The column's drift kind; ``"numeric"`` gives a numeric summary, anything else (categorical,
        boolean) a categorical one.
    edges : numpy.ndarray, optional
        Fine bin edges from :func:`fine_edges` (numeric columns): count values between them.
    sample : bool
        Keep the hash-thinned sample the edges are drawn from (the reference's first pass).
    """
    side = prepare_side(series, "numeric" if kind == "numeric" else "categorical")
    base = ColumnSummary(
        kind="numeric" if kind == "numeric" else "categorical",
        n_rows=side.n_rows,
        n_missing=side.n_missing,
        n_nonfinite=side.n_nonfinite,
        n_garbage=side.n_garbage,
    )
    if kind != "numeric":
        assert side.counts is not None
        counts = {str(k): int(v) for k, v in side.counts.items()}
        kept, level = _thin(counts, 0, CATEGORY_MAX, _text_hashes)
        return replace(
            base, categorical=CategoricalPart(kept, sum(counts.values()) - sum(kept.values()), level)
        )
    assert side.sorted is not None
    values = side.sorted + 0.0  # -0.0 → 0.0: the same bytes whichever zero a batch saw first
    return replace(base, numeric=numeric_part(values, edges=edges, sample=sample))


def numeric_part(values: np.ndarray, *, edges: np.ndarray | None = None, sample: bool = False) -> NumericPart:
    """The :class:`NumericPart` of sorted finite float64 values."""
    n = int(values.size)
    if n:
        starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
        runs = np.diff(np.append(starts, n))
        distinct_values = values[starts]
    else:
        runs = np.empty(0, dtype=np.int64)
        distinct_values = np.empty(0)
    with np.errstate(over="ignore", under="ignore"):
        squares = values * values
    sample_map, level = None, 0
    if sample:
        sample_map, level = thin_values(distinct_values, runs.astype(np.int64), 0)
    bins = None
    if edges is not None:
        upto = np.searchsorted(values, edges, side="right")
        bins = np.diff(np.concatenate([[0], upto, [n]])).astype(np.int64)
    return NumericPart(
        n=n,
        min=float(values[0]) if n else None,
        max=float(values[-1]) if n else None,
        n_at_min=int(runs[0]) if n else 0,
        n_at_max=int(runs[-1]) if n else 0,
        # The first pass only feeds the edges: its sums are left at 0 (they are summed in pass 2).
        total=Fraction(0) if sample else exact_sum(values),
        total_squares=Fraction(0) if sample else exact_sum(squares) if np.isfinite(squares).all() else None,
        values=values.copy() if n <= EXACT_MAX_VALUES else None,
        distinct=(
            dict(zip(distinct_values.tolist(), runs.tolist(), strict=True))
            if distinct_values.size <= DISTINCT_MAX_VALUES
            else None
        ),
        edges=edges,
        bins=bins,
        sample=sample_map,
        sample_level=level,
    )


def fine_edges(reference: NumericPart, n_bins: int = N_FINE_BINS) -> np.ndarray:
    """Fixed bin edges for a numeric column, derived from the reference's first-pass summary.

    The edges are: the float just below the reference minimum (so ``bins[0]`` counts values below
    the reference range), about ``n_bins - 1`` weighted quantiles of the reference sample (or every
    distinct value, when there are few), and the reference maximum (so ``bins[-1]`` counts values
    above the range). Deterministic: the same reference summary always gives the same edges.
    """
    if reference.n == 0 or reference.min is None or reference.max is None:
        return np.empty(0)
    lo, hi = reference.min, reference.max
    inner: np.ndarray
    if reference.distinct is not None:
        inner = np.asarray(sorted(reference.distinct), dtype=np.float64)
    elif reference.sample is not None and reference.sample[0].size:
        keys, weights = reference.sample
        cum = np.cumsum(weights) / weights.sum()
        probs = np.arange(1, n_bins) / n_bins
        inner = keys[np.minimum(np.searchsorted(cum, probs, side="left"), keys.size - 1)]
    else:
        inner = np.empty(0)
    inner = inner[(inner >= lo) & (inner < hi)]
    return np.unique(np.concatenate([[np.nextafter(lo, -np.inf)], inner, [hi]]))
