"""The exact KS D from summaries: fine-bin bounds, then the raw values of the few bins that matter.

From the fine-bin counts of both sides, D read at the edges (``d_lo``) is a lower bound of the exact
D. Inside fine bin ``b`` the gap ``F_r - F_c`` starts at its value on the bin's left edge ``g`` and
moves by ``+1/n_r`` per reference value and ``-1/n_c`` per current value, so it never leaves
``[g - c_b/n_c, g + r_b/n_r]``: :func:`ks_bounds` keeps as *candidates* only the bins whose bound
reaches ``d_lo`` (usually a handful). A refinement pass (:func:`refine_values`) collects both sides'
raw values in the candidate bins only; merged by concatenation and sort (exact, any split), they give
the gap at every pooled value inside those bins (:func:`exact_ks`), so the maximum is the exact D,
computed with the very float operations :attr:`lib.drift.registry.Samples.ks_statistic` uses: the
same bits, hence the same KS p-value.

Memory stays bounded: a column whose candidate bins hold more than :data:`REFINE_MAX_VALUES` values
on a side is not refined, and its report says that D is the binned lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

#: Raw values kept per column and side for the exact D (past it, D stays the binned lower bound).
REFINE_MAX_VALUES: Final = 250_000
#: Float slack on the candidate rule: bins whose bound is within this of ``d_lo`` are candidates too
#: (the gaps are rounded float64 quotients, a few 1e-16 off their exact values).
_SLACK: Final = 1e-9


@dataclass(frozen=True)
class KsBounds:
    """What the fine-bin counts say about KS D.

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
    """Fine-bin index of each value (``e_{k-1} < x <= e_k`` is bin ``k``)."""
    return np.searchsorted(edges, values, side="left")


def refine_values(values: np.ndarray, edges: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The values (sorted, finite, cleaned as the summaries clean them) that fall in candidate bins."""
    if not candidates.size or not values.size:
        return values[:0].copy()
    bins = bin_of(values, edges)
    pos = np.minimum(np.searchsorted(candidates, bins), candidates.size - 1)
    return values[candidates[pos] == bins].copy()


def merge_values(parts: list[np.ndarray]) -> np.ndarray:
    """Refined values of several batches: concatenation and sort (exact in any split and order)."""
    if not parts:
        return np.empty(0)
    return np.sort(np.concatenate(parts), kind="stable")


def _positions(
    values: np.ndarray, edges: np.ndarray, candidates: np.ndarray, counts: np.ndarray
) -> np.ndarray | None:
    """Each value's index in ``candidates``, or None when the values are not the bins' (wrong counts)."""
    bins = bin_of(values, edges)
    k = np.searchsorted(candidates, bins)
    if values.size and (k.max() >= candidates.size or np.any(candidates[k] != bins)):
        return None
    if not np.array_equal(np.bincount(k, minlength=candidates.size), counts):
        return None
    return k


def exact_ks(
    edges: np.ndarray,
    ref_bins: np.ndarray,
    cur_bins: np.ndarray,
    candidates: np.ndarray,
    ref_values: np.ndarray,
    cur_values: np.ndarray,
) -> float | None:
    """The exact KS D from fine-bin counts and both sides' sorted values in the candidate bins.

    ``candidates`` must hold at least the bins :func:`ks_bounds` names for these counts; ``None``
    when it does not, or when the values do not fill the candidate bins exactly (refined against
    other data): the caller then keeps the binned D.
    """
    bounds = ks_bounds(ref_bins, cur_bins)
    if not np.isin(bounds.candidates, candidates).all():
        return None
    nr, nc = int(ref_bins.sum()), int(cur_bins.sum())
    k_ref = _positions(ref_values, edges, candidates, ref_bins[candidates])
    k_cur = _positions(cur_values, edges, candidates, cur_bins[candidates])
    if k_ref is None or k_cur is None:
        return None
    if not ref_values.size and not cur_values.size:
        return bounds.d_lo
    # Counts before each candidate bin: on the whole side (from the bins), and among the refined values.
    before_r = np.concatenate([[0], np.cumsum(ref_bins)])[candidates]
    before_c = np.concatenate([[0], np.cumsum(cur_bins)])[candidates]
    kept_r = np.concatenate([[0], np.cumsum(ref_bins[candidates])])
    kept_c = np.concatenate([[0], np.cumsum(cur_bins[candidates])])
    pooled = np.union1d(ref_values, cur_values)
    k = np.searchsorted(candidates, bin_of(pooled, edges))
    ref_count = before_r[k] + np.searchsorted(ref_values, pooled, side="right") - kept_r[k]
    cur_count = before_c[k] + np.searchsorted(cur_values, pooled, side="right") - kept_c[k]
    # The engine's float operations (Samples.ecdf_gaps): int counts / n, then the difference.
    gaps = ref_count / nr
    gaps -= cur_count / nc
    return max(bounds.d_lo, float(np.max(np.abs(gaps))))
