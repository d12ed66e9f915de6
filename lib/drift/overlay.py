"""Binned reference-vs-current shares for the per-column charts (never raw rows)."""

from __future__ import annotations

import itertools
from typing import Final

import numpy as np
import pandas as pd

from lib.drift.types import infer_kind, to_numbers
from lib.errors import InputError

OVERLAY_COLUMNS: Final = ("bin", "bin_start", "bin_end", "side", "count", "share", "cumulative_share")
#: Histogram range: pooled quantiles, so one outlier does not squeeze every other bar into one bin.
#: Values beyond them are counted in the first/last bin.
RANGE_QUANTILES: Final = (0.005, 0.995)


def binned_overlay(
    reference: pd.DataFrame | pd.Series,
    current: pd.DataFrame | pd.Series,
    column: str | None = None,
    kind: str | None = None,
    *,
    bins: int = 20,
    max_categories: int = 20,
) -> pd.DataFrame:
    """Tidy shares per bin (numbers) or category, for both sides.

    Parameters
    ----------
    reference, current : DataFrame (with ``column``) or Series
    column : str, optional
        Column to bin when frames are given.
    kind : {"numeric", "categorical", "boolean"}, optional
        Defaults to the inferred kind of the reference column.
    bins : int
        Equal-width bins between the pooled 0.5 % and 99.5 % quantiles (numbers).
    max_categories : int
        Most frequent categories kept; the rest are pooled into ``"(other)"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``bin`` (label), ``bin_start``, ``bin_end`` (numbers; NaN for categories),
        ``side`` (``"reference"`` / ``"current"``), ``count``, ``share`` (of that side's
        non-missing values) and ``cumulative_share`` (a binned ECDF for numbers).
    """
    ref = reference[column] if isinstance(reference, pd.DataFrame) else reference
    cur = current[column] if isinstance(current, pd.DataFrame) else current
    kind = kind or infer_kind(ref)
    if bins < 1:
        raise InputError(f"bins must be at least 1, got {bins}.")
    if kind == "numeric":
        return _numeric(ref, cur, bins)
    return _categorical(ref, cur, max_categories)


def _numeric(ref: pd.Series, cur: pd.Series, bins: int) -> pd.DataFrame:
    r, _ = to_numbers(ref)
    c, _ = to_numbers(cur)
    r, c = r[np.isfinite(r)], c[np.isfinite(c)]
    pooled = np.concatenate([r, c])
    if pooled.size == 0:
        return pd.DataFrame(columns=list(OVERLAY_COLUMNS))
    lo, hi = np.quantile(pooled, RANGE_QUANTILES)
    if lo == hi:
        lo, hi = float(pooled.min()), float(pooled.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    frames = []
    for side, values in (("reference", r), ("current", c)):
        counts, _ = np.histogram(np.clip(values, lo, hi), bins=edges)
        total = max(values.size, 1)
        frames.append(
            pd.DataFrame(
                {
                    "bin": [f"{a:.4g} to {b:.4g}" for a, b in itertools.pairwise(edges)],
                    "bin_start": edges[:-1],
                    "bin_end": edges[1:],
                    "side": side,
                    "count": counts.astype(np.int64),
                    "share": counts / total,
                    "cumulative_share": np.cumsum(counts) / total,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _categorical(ref: pd.Series, cur: pd.Series, max_categories: int) -> pd.DataFrame:
    def counts(series: pd.Series) -> pd.Series:
        present = series.dropna()
        if pd.api.types.is_float_dtype(present.dtype) and (present % 1 == 0).all():
            present = present.astype("int64")
        out = present.astype("str").value_counts()
        return out.groupby(level=0).sum()

    r, c = counts(ref), counts(cur)
    both = (r.add(c, fill_value=0)).sort_values(ascending=False, kind="stable")
    keep = list(both.index[:max_categories])
    frames = []
    for side, values in (("reference", r), ("current", c)):
        kept = values.reindex(keep, fill_value=0)
        other = int(values.drop(index=[k for k in keep if k in values.index]).sum())
        labels = [*keep, "(other)"] if len(both) > max_categories else keep
        numbers = [*kept.tolist(), other] if len(both) > max_categories else kept.tolist()
        total = max(int(values.sum()), 1)
        share = np.asarray(numbers, dtype=float) / total
        frames.append(
            pd.DataFrame(
                {
                    "bin": labels,
                    "bin_start": np.nan,
                    "bin_end": np.nan,
                    "side": side,
                    "count": np.asarray(numbers, dtype=np.int64),
                    "share": share,
                    "cumulative_share": np.cumsum(share),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
