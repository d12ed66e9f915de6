"""The exact KS D from summaries: fine-bin bounds, a zoom into the few bins that matter, raw values there.

From counts on a grid of edges, D read at the edges (``d_lo``) is a lower bound of the exact D.
Inside bin ``b`` the gap ``F_r - F_c`` starts at its value on the bin's left edge ``g`` and moves by
``+1/n_r`` per reference value and ``-1/n_c`` per current value, so it never leaves
``[g - c_b/n_c, g + r_b/n_r]``: :func:`ks_bounds` keeps as *candidates* only the bins whose bound
reaches ``d_lo``; the largest gap lies in one of them (its own right end included).

The refinement runs on the fine bins' candidates, in at most two more passes over the data:

1. when the candidate fine bins hold more than :data:`VALUES_DIRECT` values on a side (large data: a
   Brownian-like ECDF gap stays near its maximum over many bins), a *zoom* pass counts the values of
   the candidate bins on equal-width sub-bins (:func:`zoom_edges`; counts merge by addition), and the
   bounds are recomputed on that finer grid, which leaves a few sub-bins;
2. a *values* pass collects both sides' raw values in the final candidate intervals, as distinct
   values with their counts (:func:`pairs_in`; merged by union and addition, exact in any split; tied
   data such as prices in cents keeps one entry per value).

Each side then keeps the intervals, its count of values at or below each interval's left end, and
its values inside: :func:`exact_ks` gets the gap at every pooled value there with the float
operations of :attr:`lib.drift.registry.Samples.ks_statistic`, so D is the engine's bit for bit, and
so is its KS p-value. Memory stays bounded: past :data:`REFINE_MAX_VALUES` distinct values on a side
in the final intervals, the column keeps the binned D (and its report says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

#: Distinct values kept per column and side for the exact D (past it, D stays the binned lower bound).
REFINE_MAX_VALUES: Final = 250_000
#: Candidate fine bins holding at most this many values on each side are read directly (no zoom).
VALUES_DIRECT: Final = 20_000
#: Sub-bins per column in the zoom pass (spread over the candidate fine bins, at most 256 each).
ZOOM_MAX_BINS: Final = 262_144
_ZOOM_PER_BIN: Final = 256
#: Float slack on the candidate rule: bins whose bound is within this of ``d_lo`` are candidates too
#: (the gaps are rounded float64 quotients, a few 1e-16 off their exact values).
_SLACK: Final = 1e-9


@dataclass(frozen=True)
class KsBounds:
    """What counts on a grid say about KS D.

    Attributes
    ----------
    d_lo : float
        D read at the edges (the engine's float gaps): a lower bound of the exact D.
    d_hi : float
        An upper bound of the exact D (the largest in-bin bound, at least ``d_lo``).
    candidates : numpy.ndarray
        Indices of the non-empty bins whose bound reaches ``d_lo``: only they can hold a larger gap.
    """

    d_lo: float
    d_hi: float
    candidates: np.ndarray


def ks_bounds(ref_bins: np.ndarray, cur_bins: np.ndarray) -> KsBounds:
    """Bounds on D and the candidate bins, from both sides' counts on the same edges.

    ``ref_bins``/``cur_bins`` have ``len(edges) + 1`` counts (``x <= e0``, ``e0 < x <= e1``, ...,
    ``x > e_last``), as :class:`~lib.drift.summary.sketch.NumericPart` keeps them.
    """
    nr, nc = int(ref_bins.sum()), int(cur_bins.sum())
    if nr == 0 or nc == 0:
        return KsBounds(0.0, 0.0, np.empty(0, dtype=np.int64))
    through_r, through_c = np.cumsum(ref_bins), np.cumsum(cur_bins)
    gaps = through_r[:-1] / nr - through_c[:-1] / nc  # as BinnedSamples.cumulative / the engine
    d_lo = float(np.max(np.abs(gaps))) if gaps.size else 0.0
    left = np.concatenate([[0.0], gaps])
    bound = np.maximum(np.abs(left + ref_bins / nr), np.abs(left - cur_bins / nc))
    candidates = np.flatnonzero((bound >= d_lo - _SLACK) & (ref_bins + cur_bins > 0)).astype(np.int64)
    return KsBounds(d_lo, max(d_lo, float(bound.max())), candidates)


def bin_of(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value on ``edges`` (``e_{k-1} < x <= e_k`` is bin ``k``)."""
    return np.searchsorted(edges, values, side="left")


def _in_bins(values: np.ndarray, edges: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Mask of the values whose bin (on ``edges``) is one of the sorted ``bins``."""
    if not bins.size or not values.size:
        return np.zeros(values.size, dtype=bool)
    where = bin_of(values, edges)
    pos = np.minimum(np.searchsorted(bins, where), bins.size - 1)
    return bins[pos] == where


def bin_intervals(edges: np.ndarray, bins: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``(k, 2)`` array of the bins' ``(left, right]`` ends; the open outer bins are closed at the
    data's range (``lo`` just below the smallest value, ``hi`` the largest): finite, for JSON."""
    padded = np.concatenate([[lo], edges, [hi]])
    return np.stack([padded[bins], padded[bins + 1]], axis=1) if bins.size else np.empty((0, 2))


def zoom_edges(edges: np.ndarray, bins: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The fine edges plus equal-width sub-edges inside each candidate bin (sorted, unique)."""
    per_bin = int(max(2, min(_ZOOM_PER_BIN, ZOOM_MAX_BINS // max(int(bins.size), 1))))
    inner = []
    for a, b in bin_intervals(edges, bins, lo, hi):
        with np.errstate(over="ignore", invalid="ignore"):
            points = np.linspace(a, b, per_bin + 1)[1:-1]
        inner.append(points[np.isfinite(points) & (points > a) & (points < b)])
    return np.unique(np.concatenate([edges, *inner])) if inner else edges


def zoom_counts(values: np.ndarray, edges: np.ndarray, bins: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Counts on the zoomed ``grid`` of the values in the candidate fine ``bins`` (the rest: zeros)."""
    inside = values[_in_bins(values, edges, bins)]
    return np.bincount(bin_of(inside, grid), minlength=grid.size + 1).astype(np.int64)


def zoomed_bins(
    fine_bins: np.ndarray, edges: np.ndarray, bins: np.ndarray, grid: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """One side's counts on the zoomed grid: the zoom pass's inside the candidate fine bins, the
    fine counts elsewhere (a fine bin that was not split is one bin of the grid)."""
    out = counts.copy()
    keep = np.ones(fine_bins.size, dtype=bool)
    keep[bins] = False
    right = np.concatenate([edges, [np.inf]])[keep]
    out[np.where(np.isinf(right), grid.size, np.searchsorted(grid, right, side="left"))] += fine_bins[keep]
    return out


def values_in(values: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """The sorted values that fall in the ``(left, right]`` intervals (sorted and disjoint)."""
    if not intervals.size or not values.size:
        return values[:0].copy()
    k = np.minimum(np.searchsorted(intervals[:, 1], values, side="left"), intervals.shape[0] - 1)
    return values[(values > intervals[k, 0]) & (values <= intervals[k, 1])].copy()


def pairs_in(values: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """The distinct sorted values in the intervals and their counts, as a ``(2, k)`` float64 array
    (counts are exact as floats below 2**53): tied data keeps one entry per value, not per row."""
    inside = values_in(values, intervals)
    keys, counts = np.unique(inside, return_counts=True)
    return np.stack([keys, counts.astype(np.float64)])


def merge_pairs(parts: list[np.ndarray]) -> np.ndarray:
    """Value/count pairs of several batches: the union of the values, counts added (exact)."""
    if not parts:
        return np.empty((2, 0))
    stacked = np.concatenate(parts, axis=1)
    keys, inverse = np.unique(stacked[0], return_inverse=True)
    return np.stack([keys, np.bincount(inverse, weights=stacked[1], minlength=keys.size)])


def below_counts(grid_bins: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Count of values at or below each candidate bin's left end."""
    return np.concatenate([[0], np.cumsum(grid_bins)])[bins].astype(np.int64)


def _side_counts(
    keys: np.ndarray,
    counts: np.ndarray,
    intervals: np.ndarray,
    below: np.ndarray,
    pooled: np.ndarray,
    k: np.ndarray,
) -> np.ndarray:
    """Count of one side's values ``<= v`` at each pooled value ``v`` (all inside the intervals)."""
    through = np.concatenate([[0], np.cumsum(counts)])
    start = through[np.searchsorted(keys, intervals[:, 0], side="right")]
    return below[k] + through[np.searchsorted(keys, pooled, side="right")] - start[k]


def exact_ks(
    d_lo: float,
    n_ref: int,
    n_cur: int,
    intervals: np.ndarray,
    below: tuple[np.ndarray, np.ndarray],
    ref_pairs: tuple[np.ndarray, np.ndarray],
    cur_pairs: tuple[np.ndarray, np.ndarray],
) -> float | None:
    """The exact KS D: the largest gap at the edges (``d_lo``) or at a pooled value in the intervals.

    ``below``: each side's count of values at or below each interval's left end; ``ref_pairs`` /
    ``cur_pairs``: each side's distinct values in the intervals and their counts. ``None`` when the
    parts do not fit together (values outside the intervals, counts beyond the sides' sizes): the
    caller then keeps the binned D.
    """
    m = intervals.shape[0] if intervals.ndim == 2 else 0
    if below[0].size != m or below[1].size != m:
        return None
    ordered = np.all(intervals[:, 0] <= intervals[:, 1]) and np.all(intervals[1:, 0] >= intervals[:-1, 1])
    if m and not ordered:
        return None
    for keys, counts in (ref_pairs, cur_pairs):
        if keys.size != counts.size or (keys.size and not np.array_equal(values_in(keys, intervals), keys)):
            return None  # a value in no interval: refined against other data
    if not ref_pairs[0].size and not cur_pairs[0].size:
        return d_lo
    pooled = np.union1d(ref_pairs[0], cur_pairs[0])
    k = np.searchsorted(intervals[:, 1], pooled, side="left")
    ref_count = _side_counts(*ref_pairs, intervals, below[0], pooled, k).astype(np.int64)
    cur_count = _side_counts(*cur_pairs, intervals, below[1], pooled, k).astype(np.int64)
    if ref_count.max() > n_ref or cur_count.max() > n_cur:
        return None
    # The engine's float operations (Samples.ecdf_gaps): int counts / n, then the difference.
    gaps = ref_count / n_ref
    gaps -= cur_count / n_cur
    return max(d_lo, float(np.max(np.abs(gaps))))


def merge_kept(parts: list[np.ndarray | None]) -> np.ndarray | None:
    """:func:`merge_pairs`, or None when a part was dropped or the union has more than
    :data:`REFINE_MAX_VALUES` values (a property of the whole, so the merge stays associative)."""
    if any(p is None for p in parts):
        return None
    merged = merge_pairs([p for p in parts if p is not None])
    return merged if merged.shape[1] <= REFINE_MAX_VALUES else None
