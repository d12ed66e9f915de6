"""How long runs take and how fast endpoints answer, and whether that has changed.

* Per run: training/billable seconds, phase durations, seconds per epoch (``run_timings``).
* Window comparison: the recent runs against the runs before them, Mann-Whitney U on the raw
  durations and the ratio of medians as the effect (``compare_windows``).
* Change points along a series of runs or latency periods (``change_points``): optimal
  segmentation (PELT) of a piecewise-constant mean with a robust noise scale and a calibrated
  BIC-like penalty.
* Endpoint latency (``ModelLatency``/``OverheadLatency``, microseconds, namespace ``AWS/SageMaker``,
  dimensions ``EndpointName``/``VariantName``) from CloudWatch CLI JSON or CSV exports
  (``read_latency_export``), percentiles over time (``latency_percentiles``) and a demo series.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

from lib.analysis import pricing
from lib.analysis.pricing import job_seconds
from lib.errors import InputError
from lib.schema import to_utc
from lib.sources.aws import session as aws
from lib.sources.capture import Source, source_bytes, source_list

PHASE_PREFIX: Final = "phase."
LATENCY_NAMESPACE: Final = "AWS/SageMaker"
LATENCY_DIMENSIONS: Final = ("EndpointName", "VariantName")
LATENCY_METRICS: Final = ("ModelLatency", "OverheadLatency")
LATENCY_COLUMNS: Final = ("timestamp", "endpoint", "variant", "metric", "stat", "value_us")
PERCENTILES: Final = ("p50", "p90", "p99")
#: Where ``demo_latency`` puts its step change (ModelLatency +35 % from here on).
DEMO_LATENCY_CHANGE: Final = pd.Timestamp("2024-05-07 14:00", tz="UTC")

# Penalty = _PENALTY_PER_LOG_N * log(n) + _PENALTY_OFFSET, in units of the noise variance.
# Calibrated by simulation (see ``change_points``): BIC would be 2·log(n); the offset pays for the
# noisy scale estimate of short series.
_PENALTY_PER_LOG_N: Final = 2.0
_PENALTY_OFFSET: Final = 6.0
_MAD_TO_SD: Final = 1.4826


# --------------------------------------------------------------------------- per-run timings


def run_timings(jobs: pd.DataFrame, metrics: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per run: training and billable seconds, phases and seconds per epoch.

    Parameters
    ----------
    jobs
        Jobs frame (``lib.schema.JOB_COLUMNS``), optionally with ``phase.<Status>_s`` columns
        (from ``SecondaryStatusTransitions``) and ``hp.epochs``.
    metrics
        Canonical metrics frame; rows with an ``epoch`` and a ``timestamp`` give seconds per epoch
        as (time of last epoch − time of first epoch) / (epochs between them).

    Returns
    -------
    pandas.DataFrame
        Columns ``job, status, start, instance_type, instance_count, spot, training_s, billable_s``,
        the ``phase.*_s`` columns, ``n_epochs, seconds_per_epoch, epoch_source`` (``"metrics"``,
        ``"hyperparameter"`` = Training phase / ``hp.epochs``, or empty), sorted by start time.
    """
    if "job" not in jobs.columns:
        raise InputError("The jobs table has no 'job' column.", hint="Load training jobs first.")
    training, billable = job_seconds(jobs)

    def col(name: str) -> pd.Series:
        return jobs[name] if name in jobs.columns else pd.Series(pd.NA, index=jobs.index)

    out = pd.DataFrame(
        {
            "job": jobs["job"].astype("str"),
            "status": col("status").astype("string"),
            "start": to_utc(col("start")),
            "instance_type": col("instance_type").astype("string"),
            "instance_count": pd.to_numeric(col("instance_count"), errors="coerce").astype("Int64"),
            "spot": col("spot").astype("boolean"),
            "training_s": training,
            "billable_s": billable,
        }
    )
    for name in phase_columns(jobs):
        out[name] = pd.to_numeric(jobs[name], errors="coerce").astype("float64")

    per_epoch = _epochs_from_metrics(metrics) if metrics is not None else pd.DataFrame()
    n_epochs = pd.Series(np.nan, index=out.index, dtype="float64")
    spe = pd.Series(np.nan, index=out.index, dtype="float64")
    source = pd.Series("", index=out.index, dtype="str")
    if len(per_epoch):
        idx = out["job"].map(dict(zip(per_epoch["job"], range(len(per_epoch)), strict=True)))
        found = idx.notna()
        pos = idx[found].astype(int).to_numpy()
        n_epochs[found] = per_epoch["n_epochs"].to_numpy()[pos]
        spe[found] = per_epoch["seconds_per_epoch"].to_numpy()[pos]
        source[found] = "metrics"
    hp_epochs = next((c for c in ("hp.epochs", "hp.num_epochs", "hp.epoch") if c in jobs.columns), None)
    train_phase = f"{PHASE_PREFIX}Training_s"
    if hp_epochs is not None and train_phase in out.columns:
        epochs_hp = pd.to_numeric(jobs[hp_epochs], errors="coerce").astype("float64")
        fallback = spe.isna() & (epochs_hp > 0) & out[train_phase].notna()
        spe[fallback] = out.loc[fallback, train_phase] / epochs_hp[fallback]
        n_epochs[fallback] = epochs_hp[fallback]
        source[fallback] = "hyperparameter"
    out["n_epochs"] = n_epochs
    out["seconds_per_epoch"] = spe
    out["epoch_source"] = source
    return out.sort_values(["start", "job"], kind="stable", na_position="last").reset_index(drop=True)


def _epochs_from_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    needed = {"job", "timestamp", "epoch"}
    if not needed <= set(metrics.columns):
        return pd.DataFrame()
    rows = metrics.loc[metrics["epoch"].notna() & metrics["timestamp"].notna(), ["job", "timestamp", "epoch"]]
    if rows.empty:
        return pd.DataFrame()
    rows = rows.assign(timestamp=to_utc(rows["timestamp"]), epoch=rows["epoch"].astype("float64"))
    # First report of each epoch (any metric), then the span rate: robust to CloudWatch's 1-minute
    # buckets, which make epoch-to-epoch differences jump between 0 and 60 s.
    first = rows.groupby(["job", "epoch"], sort=True)["timestamp"].min().reset_index()
    out = []
    for job, grp in first.groupby("job", sort=True):
        if len(grp) < 2:
            continue
        e0, e1 = grp["epoch"].iloc[0], grp["epoch"].iloc[-1]
        span = (grp["timestamp"].iloc[-1] - grp["timestamp"].iloc[0]).total_seconds()
        if e1 > e0 and span > 0:
            out.append({"job": str(job), "n_epochs": float(len(grp)), "seconds_per_epoch": span / (e1 - e0)})
    return pd.DataFrame(out, columns=["job", "n_epochs", "seconds_per_epoch"])


# --------------------------------------------------------------------------- window comparison


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


def compare_windows(
    values: Sequence[float] | np.ndarray | pd.Series,
    *,
    recent: int | None = None,
    baseline: int | None = None,
    alpha: float = 0.05,
    unit: str = "s",
    what: str = "runs",
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
    if len(base) < 2 or len(rec) < 2:
        return WindowComparison(
            len(base), len(rec), med_b, med_r, ratio, math.nan, math.nan, alpha, False,
            f"Not enough {what} to compare: {len(base)} in the baseline window and {len(rec)} in the "
            f"recent window (at least 2 each are needed).",
        )  # fmt: skip
    res = stats.mannwhitneyu(rec, base, alternative="two-sided")
    p = float(res.pvalue)
    significant = p < alpha
    if math.isnan(ratio):
        effect = "the baseline median is 0, so no ratio"
    elif ratio >= 1:
        effect = f"×{ratio:.2f}, {100 * (ratio - 1):.0f}% higher"
    else:
        effect = f"×{ratio:.2f}, {100 * (1 - ratio):.0f}% lower"
    verdict = (
        f"a real shift at the {alpha:g} level (Mann-Whitney p = {p:.3g})."
        if significant
        else f"not distinguishable from chance (Mann-Whitney p = {p:.3g})."
    )
    text = (
        f"The last {len(rec)} {what} have a median of {_fmt(med_r)} {unit} against {_fmt(med_b)} {unit} "
        f"in the {len(base)} {what} before ({effect}): {verdict}"
    )
    return WindowComparison(
        len(base), len(rec), med_b, med_r, ratio, float(res.statistic), p, alpha, significant, text
    )


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "n/a"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"


# --------------------------------------------------------------------------- change points


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


def change_points(
    values: Sequence[float] | np.ndarray | pd.Series,
    *,
    penalty: float | None = None,
    min_size: int = 3,
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

    Parameters
    ----------
    values
        The series in time order.
    penalty
        Cost of one change point in noise-variance units (default ``default_penalty(n)``); larger
        means fewer change points.
    min_size
        Minimum number of values in a segment (≥ 1).

    Returns
    -------
    list[int]
        Sorted positions; empty for a (nearly) stationary or too short series.

    Examples
    --------
    >>> change_points([10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 20.1, 19.9, 20.2, 20.0, 19.8, 20.1])
    [6]
    """
    if min_size < 1:
        raise InputError(f"min_size must be at least 1; got {min_size}.")
    raw = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype="float64")
    keep = np.flatnonzero(np.isfinite(raw))
    x = raw[keep]
    n = len(x)
    if n < 2 * min_size:
        return []
    scale = robust_scale(x)
    if scale <= 0 or not math.isfinite(scale):
        return []  # constant series
    y = _hampel(x, min_size - 1, scale)
    z = (y - np.median(y)) / scale
    pen = default_penalty(n) if penalty is None else float(penalty)
    return [int(keep[p]) for p in _pelt(z, pen, min_size)]


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


# --------------------------------------------------------------------------- endpoint latency

_STAT_RE: Final = re.compile(
    r"^(p\d{1,2}(?:\.\d+)?|average|avg|mean|minimum|min|maximum|max|sum|samplecount)$", re.I
)
_STAT_NAMES: Final = {
    "average": "Average",
    "avg": "Average",
    "mean": "Average",
    "minimum": "Minimum",
    "min": "Minimum",
    "maximum": "Maximum",
    "max": "Maximum",
    "sum": "Sum",
    "samplecount": "SampleCount",
}
_UNIT_TO_US: Final = {"microseconds": 1.0, "milliseconds": 1e3, "seconds": 1e6}
_SKIP_STATS: Final = ("Sum", "SampleCount")


def _norm_stat(token: str) -> str:
    t = token.strip()
    return t.lower() if t.lower().startswith("p") else _STAT_NAMES.get(t.lower(), t)


def empty_latency() -> pd.DataFrame:
    """An empty tidy latency frame (``LATENCY_COLUMNS``)."""
    return _latency_frame([])


def _latency_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(LATENCY_COLUMNS))
    out = pd.DataFrame(
        {
            "timestamp": to_utc(frame["timestamp"]),
            "endpoint": frame["endpoint"].astype("str"),
            "variant": frame["variant"].astype("str"),
            "metric": frame["metric"].astype("str"),
            "stat": frame["stat"].astype("str"),
            "value_us": pd.to_numeric(frame["value_us"], errors="coerce").astype("float64"),
        }
    )
    out = out.loc[out["timestamp"].notna() & np.isfinite(out["value_us"].to_numpy())]
    return out.sort_values(["endpoint", "variant", "metric", "stat", "timestamp"], kind="stable").reset_index(
        drop=True
    )


def _parse_label(label: str, query_id: str) -> tuple[str, str, str, str]:
    """(metric, stat, endpoint, variant) from a label (``"ep AllTraffic ModelLatency p90"``)."""
    tokens = label.split()
    stat = next((_norm_stat(t) for t in tokens if _STAT_RE.match(t)), None)
    rest = [t for t in tokens if not _STAT_RE.match(t)]
    if stat is None:
        stat = next((_norm_stat(t) for t in re.split(r"[_\-\s]+", query_id) if _STAT_RE.match(t)), "Average")
    metric = next((t for t in rest if t in LATENCY_METRICS or t.endswith("Latency")), None)
    if metric is None:
        return (" ".join(rest) or query_id or "value"), stat, "", ""
    others = [t for t in rest if t != metric]
    endpoint = others[0] if others else ""
    variant = others[1] if len(others) > 1 else ""
    return metric, stat, endpoint, variant


def _latency_json(doc: Any, name: str, endpoint: str, variant: str) -> list[dict[str, Any]]:
    if isinstance(doc, list):
        return [r for part in doc for r in _latency_json(part, name, endpoint, variant)]
    if not isinstance(doc, dict):
        raise InputError(
            f"{name}: found a JSON {type(doc).__name__}, not a CloudWatch export.",
            hint="Expected the output of `aws cloudwatch get-metric-statistics` (Datapoints) or "
            "`get-metric-data` (MetricDataResults).",
        )
    rows: list[dict[str, Any]] = []
    if "Datapoints" in doc:
        metric = str(doc.get("Label") or "ModelLatency")
        for dp in doc["Datapoints"] or []:
            factor = _UNIT_TO_US.get(str(dp.get("Unit", "Microseconds")).lower(), 1.0)
            stats_here = {k: v for k, v in dp.items() if k in ("Average", "Minimum", "Maximum")}
            stats_here.update({_norm_stat(k): v for k, v in (dp.get("ExtendedStatistics") or {}).items()})
            for stat, value in stats_here.items():
                rows.append(
                    {
                        "timestamp": dp.get("Timestamp"),
                        "endpoint": endpoint,
                        "variant": variant,
                        "metric": metric,
                        "stat": stat,
                        "value_us": float(value) * factor,
                    }
                )
        return rows
    if "MetricDataResults" in doc:
        for res in doc["MetricDataResults"] or []:
            metric, stat, ep, var = _parse_label(str(res.get("Label", "")), str(res.get("Id", "")))
            if stat in _SKIP_STATS:
                continue
            for ts, value in zip(res.get("Timestamps", []), res.get("Values", []), strict=False):
                rows.append(
                    {
                        "timestamp": ts,
                        "endpoint": ep or endpoint,
                        "variant": var or variant,
                        "metric": metric,
                        "stat": stat,
                        "value_us": value,
                    }
                )
        return rows
    raise InputError(
        f"{name}: the JSON has keys {', '.join(sorted(map(str, doc))) or '(none)'}, not a CloudWatch export.",
        hint="Expected 'Datapoints' (get-metric-statistics) or 'MetricDataResults' (get-metric-data).",
    )


_CSV_ALIASES: Final = {
    "timestamp": ("timestamp", "time", "datetime", "date", "@timestamp"),
    "metric": ("metric", "metric_name", "metricname"),
    "value": ("value", "value_us", "latency", "latency_us", "value_ms", "latency_ms"),
    "endpoint": ("endpoint", "endpointname", "endpoint_name"),
    "variant": ("variant", "variantname", "variant_name"),
    "stat": ("stat", "statistic"),
}


def _latency_csv(data: bytes, name: str, endpoint: str, variant: str) -> list[dict[str, Any]]:
    try:
        frame = pd.read_csv(io.BytesIO(data))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(f"{name}: could not be read as CSV ({err}).") from err
    lower = {str(c).strip().lower(): c for c in frame.columns}
    found = {
        key: next((lower[a] for a in aliases if a in lower), None) for key, aliases in _CSV_ALIASES.items()
    }
    ts_col, value_col = found["timestamp"], found["value"]
    if ts_col is None:
        raise InputError(
            f"{name}: no timestamp column; found columns {', '.join(map(str, frame.columns))}.",
            hint="Expected columns timestamp, metric, value [, endpoint, variant] (value in microseconds).",
        )
    wide = [c for c in frame.columns if str(c).endswith("Latency")]
    if value_col is None and wide:
        # A wide export: one column per metric.
        frame = frame.melt(
            id_vars=[c for c in frame.columns if c not in wide], value_vars=wide, var_name="_m"
        )
        found["metric"], value_col = "_m", "value"
    if value_col is None:
        raise InputError(
            f"{name}: no value column; found columns {', '.join(map(str, frame.columns))}.",
            hint="Expected columns timestamp, metric, value [, endpoint, variant] (value in microseconds).",
        )
    factor = 1e3 if str(value_col).lower().endswith("_ms") else 1.0
    n = len(frame)

    def column(key: str, default: str) -> pd.Series:
        col = found[key]
        return frame[col].astype("str") if col is not None else pd.Series([default] * n, index=frame.index)

    values = pd.to_numeric(frame[value_col], errors="coerce") * factor
    return pd.DataFrame(
        {
            "timestamp": frame[ts_col],
            "endpoint": column("endpoint", endpoint),
            "variant": column("variant", variant),
            "metric": column("metric", "ModelLatency"),
            "stat": column("stat", "Average").map(_norm_stat),
            "value_us": values,
        }
    ).to_dict("records")


def read_latency_export(
    source: Source | Sequence[Source],
    name: str | None = None,
    *,
    endpoint: str = "",
    variant: str = "",
) -> pd.DataFrame:
    """Read endpoint latency exported from CloudWatch into a tidy frame.

    Accepted: ``aws cloudwatch get-metric-statistics`` JSON (``Datapoints`` with ``Average``/
    ``Minimum``/``Maximum`` and ``ExtendedStatistics`` such as ``p50``/``p90``/``p99``; ``Unit``
    honoured), ``get-metric-data`` JSON (``MetricDataResults``; metric, statistic, endpoint and
    variant read from each ``Label`` such as ``"my-endpoint AllTraffic ModelLatency p90"``), or a
    CSV with ``timestamp, metric, value [, endpoint, variant, stat]`` (value in microseconds, or a
    ``value_ms`` column) or a wide CSV with one ``…Latency`` column per metric. Several sources
    are concatenated.

    Parameters
    ----------
    source
        Path, bytes, binary file-like (an upload), or a list of them.
    name
        File name for messages (default: the path or upload name).
    endpoint, variant
        Used where the export does not say (get-metric-statistics output carries no dimensions).

    Returns
    -------
    pandas.DataFrame
        Columns ``timestamp`` (UTC), ``endpoint``, ``variant``, ``metric``, ``stat``, ``value_us``.

    Raises
    ------
    InputError
        Naming the file, what was found and what was expected.
    """
    rows: list[dict[str, Any]] = []
    for src in source_list(source):
        data, label = source_bytes(src, name)
        text = data.lstrip()
        if text[:1] in (b"{", b"["):
            try:
                doc = json.loads(data.decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                raise InputError(f"{label}: looks like JSON but does not parse ({err}).") from err
            rows.extend(_latency_json(doc, label, endpoint, variant))
        else:
            rows.extend(_latency_csv(data, label, endpoint, variant))
    return _latency_frame(rows)


def latency_percentiles(frame: pd.DataFrame, *, freq: str = "1h") -> pd.DataFrame:
    """p50/p90/p99 per time bucket, endpoint, variant and metric, in microseconds and milliseconds.

    Where the frame already holds CloudWatch percentile statistics (``stat`` ``p50``/``p90``/``p99``
    per period), each bucket's value is the mean of that statistic over the periods in the bucket
    (percentiles cannot be merged exactly; this is the usual approximation). Otherwise the
    percentiles are computed over the values in the bucket (e.g. per-minute ``Average`` values or
    per-request latencies).

    Returns
    -------
    pandas.DataFrame
        Long: ``timestamp`` (bucket start), ``endpoint, variant, metric, percentile`` (``p50`` …),
        ``value_us, value_ms, n_points``.
    """
    cols = ["timestamp", "endpoint", "variant", "metric", "percentile", "value_us", "value_ms", "n_points"]
    if frame.empty:
        return pd.DataFrame({c: pd.Series([], dtype="float64") for c in cols}).astype(
            {"timestamp": "datetime64[ns, UTC]", "endpoint": "str", "variant": "str", "metric": "str",
             "percentile": "str", "n_points": "int64"}
        )  # fmt: skip
    missing = [c for c in ("timestamp", "metric", "value_us") if c not in frame.columns]
    if missing:
        raise InputError(
            f"The latency frame lacks column(s) {', '.join(missing)}.", hint="Use read_latency_export."
        )
    data = frame.assign(
        timestamp=to_utc(frame["timestamp"]).dt.floor(freq),
        endpoint=frame["endpoint"] if "endpoint" in frame.columns else "",
        variant=frame["variant"] if "variant" in frame.columns else "",
        stat=frame["stat"] if "stat" in frame.columns else "Average",
    )
    keys = ["timestamp", "endpoint", "variant", "metric"]
    parts = []
    for (ep, var, metric), grp in data.groupby(["endpoint", "variant", "metric"], sort=True):
        have = [p for p in PERCENTILES if (grp["stat"] == p).any()]
        if have:
            sub = grp.loc[grp["stat"].isin(have)]
            agg = (
                sub.groupby(["timestamp", "stat"], sort=True)["value_us"].agg(["mean", "size"]).reset_index()
            )
            part = agg.rename(columns={"stat": "percentile", "mean": "value_us", "size": "n_points"})
        else:
            base = (
                grp.loc[~grp["stat"].isin(("Minimum", "Maximum"))]
                if (grp["stat"] == "Average").any()
                else grp
            )
            rows = []
            for ts, bucket in base.groupby("timestamp", sort=True):
                v = bucket["value_us"].to_numpy(dtype="float64")
                for p in PERCENTILES:
                    rows.append(
                        {"timestamp": ts, "percentile": p, "value_us": float(np.percentile(v, float(p[1:]))),
                         "n_points": len(v)}
                    )  # fmt: skip
            part = pd.DataFrame(rows)
        part = part.assign(endpoint=ep, variant=var, metric=metric)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["value_ms"] = out["value_us"] / 1e3
    out["n_points"] = out["n_points"].astype("int64")
    out = out[[*keys, "percentile", "value_us", "value_ms", "n_points"]]
    return out.sort_values([*keys[1:], "percentile", "timestamp"], kind="stable").reset_index(drop=True)


def demo_latency(*, days: int = 3, period_min: int = 5) -> pd.DataFrame:
    """Deterministic synthetic endpoint latency for a first look at the page.

    Endpoint ``demo-endpoint``, variant ``AllTraffic``; ``ModelLatency`` around 12 ms (p50) with a
    daily cycle and a +35 % step at ``DEMO_LATENCY_CHANGE``; ``OverheadLatency`` around 1.5 ms with a
    slow creep. One row per period and statistic (``Average``, ``p50``, ``p90``, ``p99``), as a
    get-metric-statistics export with ``ExtendedStatistics`` would give.
    """
    rng = np.random.default_rng(20240506)
    start = pd.Timestamp("2024-05-06 00:00", tz="UTC")
    times = pd.date_range(start, periods=days * 24 * 60 // period_min, freq=f"{period_min}min", tz="UTC")
    hours = np.asarray((times - start).total_seconds() / 3600.0)
    z = {"p50": 0.0, "p90": 1.2816, "p99": 2.3263}
    rows: list[dict[str, Any]] = []
    for metric, median_us, sigma in (("ModelLatency", 12_000.0, 0.35), ("OverheadLatency", 1_500.0, 0.25)):
        level = median_us * (1 + 0.02 * np.sin(2 * np.pi * hours / 24.0))
        if metric == "ModelLatency":
            level = level * np.where(times >= DEMO_LATENCY_CHANGE, 1.35, 1.0)
        else:
            level = level * (1 + 0.001 * hours)
        noise = np.exp(rng.normal(0.0, 0.08, size=len(times)))
        for i, ts in enumerate(times):
            m = level[i] * noise[i]
            key = {"timestamp": ts, "endpoint": "demo-endpoint", "variant": "AllTraffic", "metric": metric}
            rows.append({**key, "stat": "Average", "value_us": m * math.exp(sigma**2 / 2)})
            for p, zq in z.items():
                rows.append({**key, "stat": p, "value_us": m * math.exp(sigma * zq)})
    return _latency_frame(rows)


# --------------------------------------------------------------------------- drift of a series

#: Secondary statuses in the order a training job passes through them (others follow, by name).
PHASE_ORDER: Final = (
    "Starting",
    "Pending",
    "LaunchingMLInstances",
    "PreparingTrainingStack",
    "Downloading",
    "DownloadingTrainingImage",
    "Training",
    "Restarting",
    "Interrupted",
    "MaxRuntimeExceeded",
    "MaxWaitTimeExceeded",
    "Uploading",
    "Stopping",
)
#: Measures of a run that ``duration_drift`` can follow (column of ``run_timings`` → label).
DURATION_MEASURES: Final = {
    "training_s": "Training time (s)",
    "billable_s": "Billable time (s)",
    "seconds_per_epoch": "Seconds per epoch",
}


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
    """

    series: pd.DataFrame
    comparison: WindowComparison
    change_points: tuple[int, ...]
    explanations: tuple[str, ...]
    summary: str
    unit: str


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
    comparison = compare_windows(x, recent=recent, baseline=baseline, alpha=alpha, unit=unit, what=what)
    k, b = comparison.n_recent, comparison.n_baseline
    n = len(x)
    window = np.array(["earlier"] * n, dtype=object)
    window[n - k - b : n - k] = "baseline"
    window[n - k :] = "recent"
    signal = np.log(x) if log_scale and n and bool((x > 0).all()) else x
    cps = change_points(signal)
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
    else:
        cp_text = (
            f"{len(cps)} change point{'s' if len(cps) != 1 else ''} along the {n} {what}, starting at "
            + ", ".join(str(label_kept[c]) for c in cps)
            + "."
        )
    summary = f"{comparison.explanation} {cp_text}"
    return SeriesDrift(series, comparison, tuple(cps), explanations, summary, unit)


def duration_drift(
    timings: pd.DataFrame,
    measure: str = "training_s",
    *,
    recent: int | None = None,
    baseline: int | None = None,
    alpha: float = 0.05,
) -> SeriesDrift:
    """Timing drift of a per-run measure (a column of ``run_timings``), runs in start order.

    Raises
    ------
    InputError
        If ``measure`` is not a column of ``timings`` (the hint lists the numeric columns).
    """
    if measure not in timings.columns:
        numeric = [c for c in timings.columns if c.endswith("_s") or c == "seconds_per_epoch"]
        raise InputError(f"No timing column {measure!r}.", hint=f"Available: {', '.join(numeric)}.")
    ordered = timings.sort_values(["start", "job"], kind="stable", na_position="last")
    unit = "s"
    return series_drift(
        ordered[measure],
        labels=list(ordered["job"]),
        times=ordered["start"] if "start" in ordered.columns else None,
        recent=recent,
        baseline=baseline,
        alpha=alpha,
        unit=unit,
        what="runs",
    )


def timing_measures(timings: pd.DataFrame) -> dict[str, str]:
    """Columns of ``run_timings`` with at least two values, mapped to readable labels."""
    out: dict[str, str] = {}
    candidates = [*DURATION_MEASURES, *phase_columns(timings)]
    for col in candidates:
        if col in timings.columns and int(pd.to_numeric(timings[col], errors="coerce").notna().sum()) >= 2:
            out[col] = (
                DURATION_MEASURES.get(col) or f"{col.removeprefix(PHASE_PREFIX).removesuffix('_s')} phase (s)"
            )
    return out


def phase_columns(frame: pd.DataFrame) -> list[str]:
    """The ``phase.<Status>_s`` columns of a frame, in the order a job passes through the phases."""
    cols = [c for c in frame.columns if c.startswith(PHASE_PREFIX) and c.endswith("_s")]
    rank = {f"{PHASE_PREFIX}{p}_s": i for i, p in enumerate(PHASE_ORDER)}
    return sorted(cols, key=lambda c: (rank.get(c, len(rank)), c))


def phase_durations(timings: pd.DataFrame) -> pd.DataFrame:
    """Phase durations in long form for a stacked bar per run.

    Returns
    -------
    pandas.DataFrame
        ``job, start, phase, order, seconds`` (one row per run and phase with a value); empty when
        the jobs carry no ``phase.*_s`` columns (uploaded exports rarely do; CloudWatch loads do).
    """
    cols = phase_columns(timings)
    columns = ["job", "start", "phase", "order", "seconds"]
    if not cols or timings.empty:
        return pd.DataFrame({c: pd.Series([], dtype="float64" if c == "seconds" else "str") for c in columns})
    long = timings[["job", "start", *cols]].melt(
        id_vars=["job", "start"], var_name="column", value_name="seconds"
    )
    long = long.loc[pd.to_numeric(long["seconds"], errors="coerce").notna()]
    order = {c: i for i, c in enumerate(cols)}
    out = pd.DataFrame(
        {
            "job": long["job"].astype("str"),
            "start": long["start"],
            "phase": long["column"].str.removeprefix(PHASE_PREFIX).str.removesuffix("_s").astype("str"),
            "order": long["column"].map(order).astype("int64"),
            "seconds": pd.to_numeric(long["seconds"]).astype("float64"),
        }
    )
    return out.sort_values(["start", "job", "order"], kind="stable").reset_index(drop=True)


def latency_drift(
    percentiles: pd.DataFrame,
    *,
    metric: str = "ModelLatency",
    percentile: str = "p90",
    endpoint: str | None = None,
    variant: str | None = None,
    recent: int | None = None,
    baseline: int | None = None,
    alpha: float = 0.05,
    what: str = "periods",
) -> SeriesDrift:
    """Timing drift of one latency percentile over time buckets (``latency_percentiles`` output), in ms.

    ``endpoint``/``variant`` default to the first ones in the frame.

    Raises
    ------
    InputError
        If the frame has no rows for the metric and percentile asked for.
    """
    sel = percentiles
    if endpoint is None and len(sel):
        endpoint = str(sel["endpoint"].iloc[0])
    if variant is None and len(sel):
        variant = str(sel.loc[sel["endpoint"] == endpoint, "variant"].iloc[0])
    sel = sel.loc[
        (sel["metric"] == metric)
        & (sel["percentile"] == percentile)
        & (sel["endpoint"] == endpoint)
        & (sel["variant"] == variant)
    ].sort_values("timestamp", kind="stable")
    if sel.empty:
        have = sorted(set(percentiles["metric"])) if "metric" in percentiles.columns else []
        raise InputError(
            f"No {metric} {percentile} values for {endpoint or '?'}/{variant or '?'}.",
            hint=f"Metrics in the data: {', '.join(have) or 'none'}.",
        )
    stamps = to_utc(sel["timestamp"])
    return series_drift(
        sel["value_ms"],
        labels=list(stamps.dt.strftime("%Y-%m-%d %H:%M UTC")),
        times=stamps,
        recent=recent,
        baseline=baseline,
        alpha=alpha,
        unit="ms",
        what=what,
    )


# --------------------------------------------------------------------------- live endpoint latency


def load_endpoint_latency(
    session: Any,
    endpoint: str,
    variant: str,
    start: Any,
    end: Any,
    *,
    metrics: Sequence[str] = LATENCY_METRICS,
    stats: Sequence[str] = ("Average", *PERCENTILES),
    period: int = 60,
    endpoint_url: str | None = None,
    now: Any = None,
) -> pd.DataFrame:
    """Endpoint latency from CloudWatch (GetMetricData), as the tidy frame ``read_latency_export`` gives.

    One query per metric and statistic on namespace ``AWS/SageMaker`` with dimensions
    ``EndpointName``/``VariantName`` (in that order), ScanBy ascending, following NextToken through
    boto3's paginator. The period is raised to what CloudWatch's retention serves for ``start``
    (60 s up to 15 days back, 300 s up to 63 days, 3600 s beyond).

    Parameters
    ----------
    session
        A boto3 session (``lib.aws.make_session``); the client gets the shared retry config.
    endpoint, variant
        Endpoint and production-variant names (case-sensitive; the default variant is ``AllTraffic``).
    start, end
        Time window (anything ``pd.Timestamp`` reads; naive means UTC).
    metrics
        CloudWatch metric names (microseconds): ``ModelLatency``, ``OverheadLatency``.
    stats
        Statistics: ``Average``, ``Minimum``, ``Maximum`` and/or percentiles such as ``p90``.
    period
        Requested period in seconds (a multiple of 60).
    endpoint_url
        Custom CloudWatch endpoint (tests, VPC endpoints); None lets boto3 resolve it.
    now
        The current time (for the retention rule; default: now).

    Returns
    -------
    pandas.DataFrame
        ``LATENCY_COLUMNS``; ``attrs["warnings"]`` lists incomplete series and CloudWatch messages.

    Raises
    ------
    InputError
        For an empty endpoint name, an empty window or a bad period.
    DataSourceError
        When AWS refuses or cannot be reached (``lib.aws.aws_errors``), or returns no datapoint at all.
    """
    from lib.errors import DataSourceError
    from lib.sources.aws.metrics import allowed_period

    endpoint, variant = endpoint.strip(), (variant or "AllTraffic").strip()
    if not endpoint:
        raise InputError("Enter the endpoint name.", hint="As shown in SageMaker → Inference → Endpoints.")
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
    t1 = t1.tz_localize("UTC") if t1.tzinfo is None else t1.tz_convert("UTC")
    if t1 <= t0:
        raise InputError(f"The time window is empty ({t0} to {t1}).", hint="Pick an end after the start.")
    if period < 60 or period % 60:
        raise InputError(f"The period must be a multiple of 60 s; got {period}.")
    current = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC")
    current = current.tz_localize("UTC") if current.tzinfo is None else current.tz_convert("UTC")
    p = allowed_period(t0.to_pydatetime(), current.to_pydatetime(), period)
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    plan = [(m, _norm_stat(s)) for m in metrics for s in stats]
    queries = [
        {
            "Id": f"q{i}",  # must start with a lower-case letter
            "MetricStat": {
                "Metric": {"Namespace": LATENCY_NAMESPACE, "MetricName": m, "Dimensions": dims},
                "Period": p,
                "Stat": s,
            },
            "Label": f"{endpoint} {variant} {m} {s}",
            "ReturnData": True,
        }
        for i, (m, s) in enumerate(plan)
    ]
    cloudwatch = aws.make_client(session, "cloudwatch", endpoint_url)
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    status: dict[str, str] = {}
    with aws.aws_errors("cloudwatch", region=session.region_name, what="fetching endpoint latency"):
        for page in cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries,
            StartTime=t0.to_pydatetime(),
            EndTime=t1.to_pydatetime(),
            ScanBy="TimestampAscending",
        ):
            for res in page.get("MetricDataResults", []):
                i = int(str(res["Id"])[1:])
                metric, stat = plan[i]
                status[metric + " " + stat] = str(res.get("StatusCode", "Complete"))
                for ts, value in zip(res.get("Timestamps", []), res.get("Values", []), strict=False):
                    rows.append(
                        {"timestamp": ts, "endpoint": endpoint, "variant": variant, "metric": metric,
                         "stat": stat, "value_us": value}
                    )  # fmt: skip
            for msg in page.get("Messages", []) or []:
                warnings.append(f"CloudWatch: {msg.get('Code', '')}: {msg.get('Value', '')}")
    for series, code in sorted(status.items()):
        if code != "Complete":
            warnings.append(f"{series}: CloudWatch returned {code}; the series may be incomplete.")
    if not rows:
        raise DataSourceError(
            f"CloudWatch has no {'/'.join(metrics)} data for endpoint '{endpoint}', variant '{variant}' "
            f"between {t0:%Y-%m-%d %H:%M} and {t1:%Y-%m-%d %H:%M} UTC.",
            hint="Names are case-sensitive; check the region too. Latency is only published for minutes "
            "in which the endpoint received requests.",
        )
    frame = _latency_frame(rows)
    frame.attrs["warnings"] = tuple(warnings)
    frame.attrs["period_s"] = p
    return frame


def runs_cost_table(
    jobs: pd.DataFrame,
    metrics: pd.DataFrame | None = None,
    prices: pd.DataFrame | Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Per run: timings (``run_timings``) and cost (``pricing.cost_table``) side by side, in start order.

    Returns
    -------
    pandas.DataFrame
        ``run_timings`` columns, then ``usd_per_hour, cost_usd, on_demand_cost_usd,
        spot_savings_usd, spot_savings_pct``, ``arithmetic`` (the cost written out) and ``note``.
    """

    timings = run_timings(jobs, metrics)
    costs = pricing.cost_table(jobs, prices)
    costs = costs.assign(arithmetic=pricing.cost_arithmetic(costs))
    extra = ["usd_per_hour", "cost_usd", "on_demand_cost_usd", "spot_savings_usd", "spot_savings_pct",
             "arithmetic", "note"]  # fmt: skip
    by_job = costs.drop_duplicates("job").set_index("job")[extra]
    return timings.join(by_job, on="job")
