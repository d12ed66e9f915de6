"""Resampling p-values without a floor: permutations of counts or values, with a tail fit.

Binned statistics (PSI, Jensen-Shannon, Hellinger, sparse chi-square, KS on heavily tied values)
are permuted exactly: given the pooled count per bin, the current side's counts under "same
distribution" follow a multivariate hypergeometric law, so ``B`` draws of it are ``B`` random
relabellings of the rows at any sample size. Continuous distances (Wasserstein, energy) permute
row labels, on at most :data:`MAX_PERMUTATION_ROWS` rows per side.

A permutation p-value ``(1 + #{null ≥ observed}) / (B + 1)`` cannot go below ``1 / (B + 1)``: after
Benjamini-Hochberg across 60 tests such a floor alone hides any drift. Where no resample reaches
the observed value the p-value is instead the upper tail of a gamma distribution matched to the
resampled statistics' mean and variance, capped at ``1 / (B + 1)`` (continuous, no floor).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np
from scipy import stats

#: Resamples per permutation p-value.
N_RESAMPLES: Final = 999
#: Rows per side used by the value-permutation tests (Wasserstein, energy); larger samples are subsampled.
MAX_PERMUTATION_ROWS: Final = 2000
#: Fixed seed: the same data always gives the same p-value.
SEED: Final = 20240611

CountStatistic = Callable[[np.ndarray, np.ndarray], np.ndarray]


def tail_p(observed: float, null: np.ndarray) -> float:
    """Permutation p-value, continued below ``1/(B+1)`` by a moment-matched gamma tail."""
    b = null.size
    tol = 1e-12 * max(1.0, abs(observed))
    hits = int(np.count_nonzero(null >= observed - tol))
    if hits:
        return (1 + hits) / (b + 1)
    mean, var = float(null.mean()), float(null.var())
    floor = 1 / (b + 1)
    if not (mean > 0 and var > 0):
        return floor
    shape, scale = mean * mean / var, var / mean
    return float(min(floor, stats.gamma.sf(observed, shape, scale=scale)))


def count_permutation(
    ref_counts: np.ndarray,
    cur_counts: np.ndarray,
    statistic: CountStatistic,
    *,
    n_resamples: int = N_RESAMPLES,
) -> float:
    """p-value of ``statistic(ref_counts, cur_counts)`` under random relabelling of the rows.

    ``statistic`` takes 2-D arrays (one resample per row) and returns one value per row.
    """
    ref_counts = np.asarray(ref_counts, dtype=np.int64)
    cur_counts = np.asarray(cur_counts, dtype=np.int64)
    pooled = ref_counts + cur_counts
    keep = pooled > 0
    pooled, ref_counts, cur_counts = pooled[keep], ref_counts[keep], cur_counts[keep]
    observed = float(statistic(ref_counts[None, :], cur_counts[None, :])[0])
    rng = np.random.default_rng(SEED)
    cur_null = rng.multivariate_hypergeometric(pooled, int(cur_counts.sum()), size=n_resamples)
    null = statistic(pooled[None, :] - cur_null, cur_null)
    return tail_p(observed, null)


def value_permutation(
    reference: np.ndarray,
    current: np.ndarray,
    statistic: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    n_resamples: int = N_RESAMPLES,
    max_rows: int = MAX_PERMUTATION_ROWS,
) -> tuple[float, int, int]:
    """p-value of a 1-D two-sample statistic by permuting row labels (subsampled above ``max_rows``).

    ``statistic(merged, masks)`` receives the pooled sorted values and an ``(R, N)`` boolean matrix
    marking reference rows (row 0 is the observed labelling) and returns one value per row.
    Returns ``(p, rows used from reference, rows used from current)``.
    """
    rng = np.random.default_rng(SEED)
    if reference.size > max_rows:
        reference = rng.choice(reference, max_rows, replace=False)
    if current.size > max_rows:
        current = rng.choice(current, max_rows, replace=False)
    pooled = np.concatenate([reference, current])
    order = np.argsort(pooled, kind="stable")
    merged = pooled[order]
    labels = order < reference.size
    perms = np.argsort(rng.random((n_resamples, merged.size)), axis=1)
    masks = np.vstack([labels[None, :], labels[perms]])
    values = statistic(merged, masks)
    return tail_p(float(values[0]), values[1:]), int(reference.size), int(current.size)


def ecdf_gaps(masks: np.ndarray) -> np.ndarray:
    """``F_reference - F_current`` after each pooled sorted value, per labelling (rows of ``masks``)."""
    n_ref = masks[0].sum()
    n_cur = masks.shape[1] - n_ref
    ref_cum = np.cumsum(masks, axis=1, dtype=np.float64)
    cur_cum = np.arange(1, masks.shape[1] + 1, dtype=np.float64)[None, :] - ref_cum
    return ref_cum / n_ref - cur_cum / n_cur


def shares(counts: np.ndarray) -> np.ndarray:
    """Row-wise shares of a 2-D count array."""
    total = counts.sum(axis=1, keepdims=True)
    return counts / np.maximum(total, 1)


def chi2_statistic(ref_counts: np.ndarray, cur_counts: np.ndarray) -> np.ndarray:
    """Pearson chi-square of the 2 × k table, row-wise (no continuity correction)."""
    n_ref = ref_counts.sum(axis=1, keepdims=True).astype(np.float64)
    n_cur = cur_counts.sum(axis=1, keepdims=True).astype(np.float64)
    pooled = (ref_counts + cur_counts).astype(np.float64)
    n = n_ref + n_cur
    exp_ref = pooled * n_ref / n
    exp_cur = pooled * n_cur / n
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (ref_counts - exp_ref) ** 2 / exp_ref + (cur_counts - exp_cur) ** 2 / exp_cur
    return np.nansum(np.where(pooled > 0, terms, 0.0), axis=1)


def ks_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> np.ndarray:
    """KS D from counts per ordered distinct value, row-wise."""
    gaps = np.cumsum(shares(ref_counts), axis=1) - np.cumsum(shares(cur_counts), axis=1)
    return np.max(np.abs(gaps), axis=1)


def describe(
    n_resamples: int, used: tuple[int, int] | None = None, total: tuple[int, int] | None = None
) -> str:
    """Plain words for a permutation p-value, e.g. ``"permutation, 999 resamples"``."""
    text = f"permutation, {n_resamples:,} resamples"
    if used is not None and total is not None and used != total:
        text += f" of {used[0]:,} + {used[1]:,} subsampled rows"
    return text


def finite_or(value: float, default: float) -> float:
    return value if math.isfinite(value) else default
