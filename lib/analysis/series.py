"""Drift of one series over time: window comparison and change points (vectorised PELT)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

from lib.errors import InputError
from lib.schema import to_utc

# Penalty = _PENALTY_PER_LOG_N * log(n) + _PENALTY_OFFSET, in units of the noise variance.
# Calibrated by simulation (see ``change_points``): BIC would be 2·log(n); the offset pays for the
# noisy scale estimate of short series.
_PENALTY_PER_LOG_N: Final = 2.0


_PENALTY_OFFSET: Final = 6.0


_MAD_TO_SD: Final = 1.4826

#: Largest lag-1 autocorrelation the corrections use: beyond it a series of hourly values holds too little
#: independent information to say anything, and the estimate itself is unreliable.
MAX_AUTOCORRELATION: Final = 0.9
# Candidate lag-1 autocorrelations, tried from 0 upwards (see ``_ar1_segmentation``).
_AR1_GRID: Final = tuple(round(0.1 * i, 1) for i in range(10))
# The estimate's spread at n = 72 is about ±0.1; half a standard error on top keeps an underestimate
# from letting AR(1) noise through (measured: false alarms at rho = 0.8 fell from 9.5 % to about 3 %).
_AR1_MARGIN: Final = 0.5


@dataclass(frozen=True)
class WindowComparison:
    """Recent window against a baseline window (Mann-Whitney U, two-sided).

    Attributes
    ----------
    n_baseline, n_recent
        Number of (non-missing) values in each window.
    median_baseline, median_recent
        Medians of the windows.
    ratio
        ``median_recent / median_baseline`` (the effect; NaN when the baseline median is 0).
    statistic, p_value
        Mann-Whitney U of the recent window and its two-sided p-value (NaN if a window has < 2 values).
    alpha
        Level at which ``significant`` is decided.
    significant
        ``p_value < alpha``.
    explanation
        The result in one or two plain sentences.
    autocorrelation
        Lag-1 autocorrelation allowed for (0: values treated as independent).
    n_eff_baseline, n_eff_recent
        Effective (independent-equivalent) window sizes, ``n (1 - rho) / (1 + rho)``.
    """

    n_baseline: int
    n_recent: int
    median_baseline: float
    median_recent: float
    ratio: float
    statistic: float
    p_value: float
    alpha: float
    significant: bool
    explanation: str
    autocorrelation: float = 0.0
    n_eff_baseline: float = math.nan
    n_eff_recent: float = math.nan


def compare_windows(
    values: Sequence[float] | np.ndarray | pd.Series,
    *,
    recent: int | None = None,
    baseline: int | None = None,
    alpha: float = 0.05,
    unit: str = "s",
    what: str = "runs",
    autocorrelation: float = 0.0,
) -> WindowComparison:
    """Compare the last ``recent`` values with the ``baseline`` values just before them.

    Parameters
    ----------
    values
        The series in time order (e.g. training seconds per run); NaNs are dropped first.
    recent
        Size of the recent window (default: a third of the values, at least 2).
    baseline
        Size of the baseline window, taken immediately before the recent one (default: all
        earlier values).
    alpha
        Significance level for ``significant``.
    unit, what
        Words for the explanation (``"s"``/``"runs"``, or ``"ms"``/``"hours"`` for latency).
    autocorrelation
        Lag-1 autocorrelation ``rho`` of the series (e.g. ``lag1_autocorrelation``; clipped to
        ``[0, MAX_AUTOCORRELATION]``). Neighbouring hourly latencies are not independent: with
        ``rho > 0`` the Mann-Whitney z-score (normal approximation) is shrunk by
        ``sqrt((1 - rho) / (1 + rho))``, i.e. each window counts as ``n (1 - rho) / (1 + rho)``
        independent values (the AR(1) long-run variance). 0 keeps the plain test.

    Returns
    -------
    WindowComparison
        With ``p_value`` NaN and an explanation saying so when a window has fewer than 2 values.

    Raises
    ------
    InputError
        If ``recent``/``baseline`` are not positive.
    """
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype="float64")
    x = x[np.isfinite(x)]
    n = len(x)
    if recent is not None and recent < 1:
        raise InputError(f"The recent window must hold at least 1 value; got {recent}.")
    if baseline is not None and baseline < 1:
        raise InputError(f"The baseline window must hold at least 1 value; got {baseline}.")
    k = recent if recent is not None else max(2, n // 3)
    k = min(k, n)
    rec = x[n - k :]
    before = x[: n - k]
    base = before if baseline is None else before[max(0, len(before) - baseline) :]
    med_b = float(np.median(base)) if len(base) else math.nan
    med_r = float(np.median(rec)) if len(rec) else math.nan
    ratio = med_r / med_b if len(base) and len(rec) and med_b != 0 else math.nan
    rho = (
        min(max(float(autocorrelation), 0.0), MAX_AUTOCORRELATION) if math.isfinite(autocorrelation) else 0.0
    )
    shrink = (1.0 - rho) / (1.0 + rho)
    if len(base) < 2 or len(rec) < 2:
        return WindowComparison(
            len(base), len(rec), med_b, med_r, ratio, math.nan, math.nan, alpha, False,
            f"Not enough {what} to compare: {len(base)} in the baseline window and {len(rec)} in the "
            f"recent window (at least 2 each are needed).", rho, len(base) * shrink, len(rec) * shrink,
        )  # fmt: skip
    if rho > 0:
        res = stats.mannwhitneyu(rec, base, alternative="two-sided", method="asymptotic")
        z = float(stats.norm.isf(float(res.pvalue) / 2.0)) * math.sqrt(shrink)
        p = min(1.0, float(2.0 * stats.norm.sf(z)))
    else:
        res = stats.mannwhitneyu(rec, base, alternative="two-sided")
        p = float(res.pvalue)
    significant = p < alpha
    if math.isnan(ratio):
        effect = "the baseline median is 0, so no ratio"
    elif ratio >= 1:
        effect = f"×{ratio:.2f}, {100 * (ratio - 1):.0f}% higher"
    else:
        effect = f"×{ratio:.2f}, {100 * (1 - ratio):.0f}% lower"
    test = f"Mann-Whitney p = {p:.3g}"
    if rho > 0:
        test += (
            f", allowing for lag-1 autocorrelation {rho:.1f}: the {len(base)} and {len(rec)} {what} count "
            f"as about {len(base) * shrink:.0f} and {len(rec) * shrink:.0f} independent ones"
        )
    verdict = (
        f"a real shift at the {alpha:g} level ({test})."
        if significant
        else f"not distinguishable from chance ({test})."
    )
    text = (
        f"The last {len(rec)} {what} have a median of {_fmt(med_r)} {unit} against {_fmt(med_b)} {unit} "
        f"in the {len(base)} {what} before ({effect}): {verdict}"
    )
    return WindowComparison(
        len(base), len(rec), med_b, med_r, ratio, float(res.statistic), p, alpha, significant, text,
        rho, len(base) * shrink, len(rec) * shrink,
    )  # fmt: skip


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "n/a"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"


def robust_scale(values: np.ndarray) -> float:
    """Noise standard deviation from the MAD of first differences (insensitive to level shifts)."""
    d = np.diff(np.asarray(values, dtype="float64"))
    if len(d) == 0:
        return 0.0
    mad = float(np.median(np.abs(d - np.median(d)))) * _MAD_TO_SD / math.sqrt(2.0)
    if mad > 0:
        return mad
    # Many ties (e.g. whole seconds): fall back to the plain standard deviation of differences.
    return float(np.std(d)) / math.sqrt(2.0)


def default_penalty(n: int) -> float:
    """The calibrated penalty per change point, ``2·log(n) + 6`` in noise-variance units."""
    return _PENALTY_PER_LOG_N * math.log(max(n, 2)) + _PENALTY_OFFSET


def _hampel(x: np.ndarray, half: int, scale: float, k: float = 3.0) -> np.ndarray:
    """Replace points more than ``k`` scales from their centred rolling median by that median."""
    if half < 1 or len(x) < 2 * half + 1:
        return x
    padded = np.concatenate([np.full(half, np.nan), x, np.full(half, np.nan)])
    med = np.nanmedian(sliding_window_view(padded, 2 * half + 1), axis=1)
    return np.where(np.abs(x - med) > k * scale, med, x)


def _pelt(z: np.ndarray, penalty: float, min_size: int) -> list[int]:
    """Exact penalised least-squares segmentation (PELT, Killick et al. 2012) with a minimum length."""
    n = len(z)
    s1 = np.concatenate([[0.0], np.cumsum(z)])
    s2 = np.concatenate([[0.0], np.cumsum(z * z)])
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    last = np.zeros(n + 1, dtype=np.int64)
    active: list[int] = [0]
    # A start dominated at time t can only be dropped from t + min_size on, when t itself becomes
    # an admissible start (otherwise pruning breaks the minimum segment length).
    pending: dict[int, set[int]] = {}
    for t in range(min_size, n + 1):
        if t - min_size >= min_size:
            active.append(t - min_size)
        drop = pending.pop(t, None)
        if drop:
            active = [s for s in active if s not in drop]
        cand = np.asarray(active, dtype=np.int64)
        seg = s2[t] - s2[cand] - (s1[t] - s1[cand]) ** 2 / (t - cand)
        total = best[cand] + seg
        i = int(np.argmin(total))
        best[t] = total[i] + penalty
        last[t] = cand[i]
        dominated = cand[total > best[t]]
        if len(dominated):
            pending.setdefault(t + min_size, set()).update(dominated.tolist())
    cps: list[int] = []
    t = n
    while t > 0:
        s = int(last[t])
        if s > 0:
            cps.append(s)
        t = s
    return sorted(cps)


def _segment_ar1(y: np.ndarray, cps: Sequence[int]) -> float:
    """Lag-1 autocorrelation of the residuals around each segment's median, pooled over segments.

    Kendall's small-sample bias (``-(1 + 3 rho) / n``) is added back; clipped to
    ``[0, MAX_AUTOCORRELATION]``.
    """
    bounds = [0, *cps, len(y)]
    num = den = 0.0
    for a, b in itertools.pairwise(bounds):
        r = y[a:b] - np.median(y[a:b])
        # einsum, not np.dot: BLAS threads would spin on the other core after each call
        num += float(np.einsum("i,i->", r[1:], r[:-1]))
        den += float(np.einsum("i,i->", r, r))
    rho = num / den if den > 0 else 0.0
    rho += (1.0 + 3.0 * rho) / max(len(y), 1)
    return min(max(rho, 0.0), MAX_AUTOCORRELATION)


def _ar1_segmentation(y: np.ndarray, scale: float, penalty: float, min_size: int) -> tuple[list[int], float]:
    """Change points and lag-1 autocorrelation that agree with each other.

    For ``rho`` = 0, 0.1, ..., 0.9 in turn, segment with the noise scaled by the AR(1) long-run standard
    deviation ``scale * sqrt(1 + rho) / (1 - rho)`` (``scale`` is ``robust_scale``, which is
    ``sd * sqrt(1 - rho)`` under AR(1)), then measure the residual autocorrelation within the segments
    found. The first ``rho`` at least as large as that measurement plus half its standard error
    (``sqrt((1 - rho^2) / n) / 2``) is kept: a too small ``rho`` over-segments yet leaves correlated
    residuals; a level shift, once found, no longer inflates them.
    """
    cps: list[int] = []
    centred = y - np.median(y)
    for rho in _AR1_GRID:
        cps = _pelt(centred / (scale * math.sqrt(1.0 + rho) / (1.0 - rho)), penalty, min_size)
        if _segment_ar1(y, cps) + _AR1_MARGIN * math.sqrt((1.0 - rho * rho) / len(y)) <= rho + 1e-9:
            return cps, rho
    return cps, MAX_AUTOCORRELATION


def lag1_autocorrelation(values: Sequence[float] | np.ndarray | pd.Series, *, min_size: int = 3) -> float:
    """Lag-1 autocorrelation of a series' noise, not fooled by its level shifts.

    The estimate that ``change_points(..., autocorrelation=True)`` uses: the smallest ``rho`` on the grid
    0, 0.1, ..., 0.9 for which the residuals around the change points found (allowing for ``rho``) are
    no more autocorrelated than ``rho`` (bias-corrected lag-1 autocorrelation around segment medians,
    plus half its standard error).
    Isolated outliers are replaced first (Hampel filter). 0 for series shorter than ``2 * min_size``
    or constant ones.
    """
    return _change_points(values, min_size=max(min_size, 1), autocorrelation=True)[1]


def change_points(
    values: Sequence[float] | np.ndarray | pd.Series,
    *,
    penalty: float | None = None,
    min_size: int = 3,
    autocorrelation: bool | float = False,
) -> list[int]:
    """Positions where a new regime of the mean starts (index of each new segment's first value).

    The series is modelled as piecewise constant plus noise. The noise scale is estimated robustly
    (MAD of first differences, so level shifts barely inflate it), isolated outliers — runs of fewer
    than ``min_size`` extreme points — are replaced by the local median (Hampel filter, 3 scales),
    and the optimal segmentation under a per-change penalty is found exactly (PELT). Segments have
    at least ``min_size`` values. Positions refer to ``values`` as given; NaNs are skipped.

    Calibration (``benchmarks/bench_timing.py``, seeded, standard Gaussian noise, default penalty
    ``2·log(n) + 6``): share of stationary series with at least one change point ≈ 5 % at n = 20-25,
    4 % at 35, 3.5 % at 50, 1 % at 100, < 1 % at 200 and 500, ≈ 1-2 % for n uniform in 20-200 (the
    tests assert ≤ 8 % on 300 such series and ≤ 10 % at n = 20). Detection: a mean shift at position
    30 of 60 is found within ±3 in ≈ 96 % of series for 2 sd (86 % for 1.5 sd, 46 % for 1 sd). A
    single outlier (even 10 sd) is reported as a change point in < 2 % of series. Cost: about 0.1 s
    for 1,000 values and 1-4 s for 10,000 (quadratic when nothing changes).
    A steady trend is cut into steps. For durations or latencies with a skewed spread, pass
    ``np.log(values)`` so changes are judged on a ratio scale.

    Autocorrelated noise (hourly latency percentiles) wanders in runs that the model above takes for
    regimes: on AR(1) noise with lag-1 autocorrelation 0.3-0.8 the plain rule reports change points in
    27-100 % of stationary series. ``autocorrelation=True`` estimates the lag-1 autocorrelation
    jointly with the change points (``lag1_autocorrelation``) and measures the noise by the AR(1)
    long-run standard deviation, ``sqrt((1 + rho) / (1 - rho))`` times the marginal one, which is the
    same as multiplying the penalty by ``(1 + rho) / (1 - rho)``; a number fixes ``rho`` instead. Rates
    measured by ``benchmarks/bench_flags.py`` (400 series per cell, n = 72 and 168 hourly values): false
    alarms 0-4.2 % for rho = 0, 0.3, 0.5, 0.8; a 2-sd step (marginal sd) at the middle is found within ±3
    in 96 % of series at rho = 0, 68.5 % / 88.5 % (n = 72 / 168) at 0.3, 46 % / 79 % at 0.5 and only
    about 20 % at 0.8, where 72 values carry the information of about 8 independent ones.

    Parameters
    ----------
    values
        The series in time order.
    penalty
        Cost of one change point in noise-variance units (default ``default_penalty(n)``); larger
        means fewer change points.
    min_size
        Minimum number of values in a segment (≥ 1).
    autocorrelation
        ``False``: independent noise (the calibration above). ``True``: estimate the lag-1
        autocorrelation and allow for it. A number in ``[0, MAX_AUTOCORRELATION]``: allow for that one.

    Returns
    -------
    list[int]
        Sorted positions; empty for a (nearly) stationary or too short series.

    Examples
    --------
    >>> change_points([10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 20.1, 19.9, 20.2, 20.0, 19.8, 20.1])
    [6]
    """
    return _change_points(values, penalty=penalty, min_size=min_size, autocorrelation=autocorrelation)[0]


def _change_points(
    values: Sequence[float] | np.ndarray | pd.Series,
    *,
    penalty: float | None = None,
    min_size: int = 3,
    autocorrelation: bool | float = False,
) -> tuple[list[int], float]:
    """``change_points`` and the lag-1 autocorrelation it allowed for."""
    if min_size < 1:
        raise InputError(f"min_size must be at least 1; got {min_size}.")
    raw = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype="float64")
    keep = np.flatnonzero(np.isfinite(raw))
    x = raw[keep]
    n = len(x)
    if n < 2 * min_size:
        return [], 0.0
    scale = robust_scale(x)
    if scale <= 0 or not math.isfinite(scale):
        return [], 0.0  # constant series
    y = _hampel(x, min_size - 1, scale)
    pen = default_penalty(n) if penalty is None else float(penalty)
    if autocorrelation is True:
        cps, rho = _ar1_segmentation(y, scale, pen, min_size)
    else:
        rho = min(max(float(autocorrelation), 0.0), MAX_AUTOCORRELATION)
        cps = _pelt((y - np.median(y)) / (scale * math.sqrt(1.0 + rho) / (1.0 - rho)), pen, min_size)
    return [int(keep[p]) for p in cps], rho


def explain_change_points(
    values: Sequence[float] | np.ndarray | pd.Series,
    cps: Iterable[int],
    labels: Sequence[object] | None = None,
    *,
    unit: str = "s",
) -> list[str]:
    """One sentence per change point: where it starts and the median before and after it.

    Parameters
    ----------
    values
        The series given to ``change_points``.
    cps
        Its result.
    labels
        Names of the positions (e.g. job names or timestamps); default ``#<position>``.
    unit
        Unit written after the values.
    """
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype="float64")
    points = sorted(int(c) for c in cps)
    bounds = [0, *points, len(x)]
    out = []
    for i, cp in enumerate(points):
        before = x[bounds[i] : cp]
        after = x[cp : bounds[i + 2]]
        mb = float(np.nanmedian(before)) if np.isfinite(before).any() else math.nan
        ma = float(np.nanmedian(after)) if np.isfinite(after).any() else math.nan
        label = str(labels[cp]) if labels is not None and cp < len(labels) else f"#{cp}"
        if math.isfinite(mb) and mb != 0 and math.isfinite(ma):
            change = ma / mb - 1
            direction = "up" if change >= 0 else "down"
            effect = f"{direction} {abs(100 * change):.0f}%"
        else:
            effect = "change not computable"
        out.append(
            f"From {label} on, the typical value is {_fmt(ma)} {unit} against {_fmt(mb)} {unit} before "
            f"({effect}; medians of the {np.isfinite(after).sum()} values after and "
            f"{np.isfinite(before).sum()} before)."
        )
    return out


@dataclass(frozen=True)
class SeriesDrift:
    """Window comparison and change points of one series (run durations or a latency percentile).

    Attributes
    ----------
    series
        One row per point in time order: ``label`` (job or time bucket), ``time``, ``position``
        (0-based), ``value``, ``window`` (``"baseline"``, ``"recent"`` or ``"earlier"`` for points
        before the baseline window), ``segment`` (0-based regime between change points) and
        ``segment_median``.
    comparison
        Recent window against the baseline window (``compare_windows``).
    change_points
        Positions (into ``series``) where a new regime starts.
    explanations
        One sentence per change point.
    summary
        The whole result in plain words.
    unit
        Unit of ``value``.
    autocorrelation
        Lag-1 autocorrelation allowed for in both tests (0 when the points are treated as independent).
    """

    series: pd.DataFrame
    comparison: WindowComparison
    change_points: tuple[int, ...]
    explanations: tuple[str, ...]
    summary: str
    unit: str
    autocorrelation: float = 0.0


def series_drift(
    values: Sequence[float] | np.ndarray | pd.Series,
    *,
    labels: Sequence[object] | None = None,
    times: Sequence[object] | pd.Series | None = None,
    recent: int | None = None,
    baseline: int | None = None,
    alpha: float = 0.05,
    unit: str = "s",
    what: str = "runs",
    log_scale: bool = True,
    autocorrelation: bool = False,
) -> SeriesDrift:
    """Compare the recent window with a baseline window and find change points along a series.

    Parameters
    ----------
    values
        The series in time order; missing values are dropped (with their labels and times).
    labels, times
        Names and times of the points (default: positions).
    recent, baseline, alpha, unit, what
        As in ``compare_windows``.
    log_scale
        Look for change points on ``log(values)`` (durations and latencies change by ratios and
        have a right-skewed spread); falls back to the raw values when some are ≤ 0.
    autocorrelation
        Allow for autocorrelated noise (hourly latency percentiles): the lag-1 autocorrelation is
        estimated with the change points (``lag1_autocorrelation``) and used by both the change points
        and the window comparison. ``False`` treats the points as independent (runs).

    Returns
    -------
    SeriesDrift
    """
    raw = pd.to_numeric(pd.Series(list(values) if not isinstance(values, pd.Series) else values.to_numpy()),
                        errors="coerce").astype("float64")  # fmt: skip
    n_all = len(raw)
    label_s = pd.Series(
        list(labels) if labels is not None else [f"#{i}" for i in range(n_all)], dtype="object"
    )
    time_s = (
        pd.Series(list(times) if not isinstance(times, pd.Series) else times.to_numpy(), dtype="object")
        if times is not None
        else pd.Series([pd.NaT] * n_all, dtype="object")
    )
    if len(label_s) != n_all or len(time_s) != n_all:
        raise InputError("labels and times must have one entry per value.")
    keep = np.isfinite(raw.to_numpy())
    x = raw.to_numpy()[keep]
    label_kept = label_s[keep].astype("str").reset_index(drop=True)
    time_kept = time_s[keep].reset_index(drop=True)
    n = len(x)
    signal = np.log(x) if log_scale and n and bool((x > 0).all()) else x
    cps, rho = _change_points(signal, autocorrelation=autocorrelation)
    comparison = compare_windows(
        x, recent=recent, baseline=baseline, alpha=alpha, unit=unit, what=what, autocorrelation=rho
    )
    k, b = comparison.n_recent, comparison.n_baseline
    window = np.array(["earlier"] * n, dtype=object)
    window[n - k - b : n - k] = "baseline"
    window[n - k :] = "recent"
    bounds = [0, *cps, n]
    segment = np.zeros(n, dtype="int64")
    seg_median = np.full(n, np.nan)
    for i in range(len(bounds) - 1):
        segment[bounds[i] : bounds[i + 1]] = i
        if bounds[i + 1] > bounds[i]:
            seg_median[bounds[i] : bounds[i + 1]] = float(np.median(x[bounds[i] : bounds[i + 1]]))
    try:
        time_col = to_utc(time_kept)
    except (TypeError, ValueError):
        time_col = pd.Series(pd.NaT, index=time_kept.index, dtype="datetime64[ns, UTC]")
    series = pd.DataFrame(
        {
            "label": label_kept,
            "time": time_col,
            "position": np.arange(n, dtype="int64"),
            "value": x,
            "window": pd.Series(window, dtype="str"),
            "segment": segment,
            "segment_median": seg_median,
        }
    )
    explanations = tuple(explain_change_points(x, cps, list(label_kept), unit=unit))
    if n < 2 * 3:
        cp_text = f"Too few {what} ({n}) to look for change points (at least 6 are needed)."
    elif not cps:
        cp_text = f"No change point: the {n} {what} look like one regime."
        if rho > 0:
            cp_text = cp_text[:-1] + f" (allowing for lag-1 autocorrelation {rho:.1f})."
    else:
        cp_text = (
            f"{len(cps)} change point{'s' if len(cps) != 1 else ''} along the {n} {what}, starting at "
            + ", ".join(str(label_kept[c]) for c in cps)
            + "."
        )
    summary = f"{comparison.explanation} {cp_text}"
    return SeriesDrift(series, comparison, tuple(cps), explanations, summary, unit, rho)
