"""Prediction drift: the class mix or score distribution of the model's output, and, where labels
exist, realised performance per window.

Performance metric, by the prediction and label columns:

* class predictions (categorical/boolean, or integers matching the labels) → accuracy,
* scores in [0, 1] with binary labels → accuracy at ``score_threshold`` (default 0.5),
* numeric predictions with numeric labels otherwise → mean absolute error.

Accuracy intervals are Wilson 95 % intervals; MAE intervals are mean ± 1.96 standard errors.

With labels on both sides the report LEADS with realised performance
(:attr:`PredictionReport.performance_change`, :attr:`PredictionReport.headline`): the metric on
all labelled current rows against the reference, the difference with a 95 % interval (Newcombe's
hybrid score interval for accuracy, Welch for MAE), a two-sided p-value (two-proportion z test /
Welch t test) and a verdict ("worse", "better", "no change detected"); the class mix or score
distribution comes second.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd
from scipy import stats

from lib.drift.overlay import binned_overlay
from lib.drift.report import DriftReport, compare
from lib.drift.rule import DEFAULTS
from lib.drift.types import infer_kind, to_numbers
from lib.drift.windows import split_windows
from lib.errors import InputError

Metric = Literal["accuracy", "mae"]
PERFORMANCE_COLUMNS: Final = ("window", "window_start", "n", "metric", "value", "low", "high")
_TRUE: Final = {"1", "1.0", "true", "yes", "t", "y"}
_FALSE: Final = {"0", "0.0", "false", "no", "f", "n"}
_Z: Final = 1.959963984540054


@dataclass(frozen=True)
class PredictionReport:
    """Result of :func:`prediction_drift`.

    Attributes
    ----------
    drift : DriftReport
        The drift test(s) on the prediction column (one verdict, same rule as inputs).
    overlay : pandas.DataFrame
        Binned shares for the chart (:func:`lib.drift.binned_overlay`).
    kind : str
        ``"numeric"`` (scores) or ``"categorical"`` / ``"boolean"`` (classes).
    performance : pandas.DataFrame or None
        :data:`PERFORMANCE_COLUMNS`; a ``"reference"`` row first when the reference has labels,
        then one row per window of the current data (``"current"`` when no windows were asked).
    metric : {"accuracy", "mae"} or None
    performance_change : dict or None
        With labels on both sides: ``metric``, ``reference``, ``current``, ``difference``, ``low``,
        ``high`` (95 % interval of the difference), ``p_value``, ``verdict`` ("worse", "better",
        "no change detected") and ``message``. Pages should show it FIRST (see :attr:`headline`).
    """

    drift: DriftReport
    overlay: pd.DataFrame
    kind: str
    performance: pd.DataFrame | None
    metric: Metric | None
    performance_change: dict[str, object] | None = None

    @property
    def headline(self) -> str:
        """Realised performance first (when labels exist), then the prediction drift verdict."""
        row = self.drift.table.iloc[0]
        mix = f"Prediction {'class mix' if self.kind != 'numeric' else 'distribution'}: {row['reason']}"
        if self.performance_change is None:
            return mix
        return f"{self.performance_change['message']} {mix}"


def prediction_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    prediction: str,
    label: str | None = None,
    timestamp: str | None = None,
    freq: str | None = None,
    size: int | None = None,
    n_windows: int | None = None,
    kind: str | None = None,
    tests: str | Sequence[str] | None = None,
    alpha: float = DEFAULTS.alpha,
    thresholds: Mapping[str, float] | None = None,
    score_threshold: float = 0.5,
    reference_name: str = "reference",
    current_name: str = "current",
) -> PredictionReport:
    """Drift of the model's output and realised performance where labels exist.

    Parameters
    ----------
    reference, current : pandas.DataFrame
    prediction : str
        The prediction column (class or score).
    label : str, optional
        Ground-truth column; performance is computed where it is present.
    timestamp, freq, size, n_windows : optional
        Performance windows, as in :func:`lib.drift.windows.split_windows` (``n_windows`` is its
        ``count``: windows of equal row counts, in time order when ``timestamp`` is given); none of
        them: one row for the whole current table.
    kind : str, optional
        Overrides the inferred kind of the prediction column.
    tests, alpha, thresholds, reference_name, current_name
        As in :func:`lib.drift.compare`.
    score_threshold : float
        Cut-off turning scores into classes for accuracy.

    Raises
    ------
    InputError
        Missing prediction/label column, or a prediction column that cannot be tested.
    """
    for frame, name in ((reference, reference_name), (current, current_name)):
        if prediction not in frame.columns:
            raise InputError(
                f"{name} has no prediction column {prediction!r}.",
                hint=f"Columns: {', '.join(map(str, frame.columns[:20]))}.",
            )
    kind = kind or infer_kind(reference[prediction])
    if kind not in ("numeric", "categorical", "boolean"):
        raise InputError(f"The prediction column {prediction!r} looks like {kind!r}; choose its kind.")
    report = compare(
        reference,
        current,
        columns=[prediction],
        kinds={prediction: kind},
        tests=tests,
        alpha=alpha,
        thresholds=thresholds,
        reference_name=reference_name,
        current_name=current_name,
        workers=1,
    )
    overlay = binned_overlay(reference, current, prediction, kind)
    performance, metric = None, None
    if label is not None:
        if label not in current.columns:
            raise InputError(f"{current_name} has no label column {label!r}.")
        metric = _metric(current[prediction], current[label], kind)
        rows = []
        if label in reference.columns:
            rows.append(
                _performance("reference", None, reference, prediction, label, metric, score_threshold)
            )
        if freq is None and size is None and n_windows is None:
            rows.append(_performance("current", None, current, prediction, label, metric, score_threshold))
        else:
            for window in split_windows(
                current, timestamp=timestamp, freq=freq, size=size, name=current_name, count=n_windows
            ):
                rows.append(
                    _performance(
                        window.label, window.start, window.rows, prediction, label, metric, score_threshold
                    )
                )
        performance = pd.DataFrame(rows, columns=list(PERFORMANCE_COLUMNS))
        change = None
        if label in reference.columns:
            change = performance_change(
                _errors(reference, prediction, label, metric, score_threshold),
                _errors(current, prediction, label, metric, score_threshold),
                metric,
                alpha=alpha,
            )
        return PredictionReport(report, overlay, kind, performance, metric, change)
    return PredictionReport(report, overlay, kind, performance, metric)


def _errors(
    frame: pd.DataFrame, prediction: str, label: str, metric: Metric, score_threshold: float
) -> np.ndarray:
    """Per-row correctness (accuracy, 1/0) or absolute error (MAE) of the labelled rows."""
    pred, truth = frame[prediction], frame[label]
    keep = (pred.notna() & truth.notna()).to_numpy()
    pred, truth = pred[keep], truth[keep]
    if metric == "mae":
        p, _ = to_numbers(pred)
        t, _ = to_numbers(truth)
        errors = np.abs(p - t)
        return errors[np.isfinite(errors)]
    binary_truth = _as_binary(truth)
    p_num, garbage = to_numbers(pred)
    if (
        binary_truth is not None
        and garbage == 0
        and p_num.size
        and np.nanmin(p_num) >= 0
        and np.nanmax(p_num) <= 1
    ):
        return ((p_num >= score_threshold) == (binary_truth == 1)).astype(float)
    return (_norm(pred) == _norm(truth)).astype(float)


def performance_change(
    reference: np.ndarray, current: np.ndarray, metric: Metric, *, alpha: float = DEFAULTS.alpha
) -> dict[str, object]:
    """Current vs reference performance: difference, 95 % interval, p-value and verdict."""
    n0, n1 = int(reference.size), int(current.size)
    out: dict[str, object] = {"metric": metric, "n_reference": n0, "n_current": n1}
    if n0 < 2 or n1 < 2:
        out.update(verdict="could not tell", message=f"Realised {metric}: too few labelled rows to compare.")
        return out
    v0, v1 = float(reference.mean()), float(current.mean())
    diff = v1 - v0
    if metric == "accuracy":
        l0, h0 = _wilson(int(reference.sum()), n0)
        l1, h1 = _wilson(int(current.sum()), n1)
        low = diff - math.sqrt((v1 - l1) ** 2 + (h0 - v0) ** 2)  # Newcombe's hybrid score interval
        high = diff + math.sqrt((h1 - v1) ** 2 + (v0 - l0) ** 2)
        pooled = (reference.sum() + current.sum()) / (n0 + n1)
        se0 = math.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
        p = float(2 * stats.norm.sf(abs(diff) / se0)) if se0 > 0 else (1.0 if diff == 0 else 0.0)
        worse = diff < 0
    else:
        res = stats.ttest_ind(current, reference, equal_var=False)
        se = math.sqrt(current.var(ddof=1) / n1 + reference.var(ddof=1) / n0)
        df = float(res.df) if math.isfinite(float(res.df)) else 1.0
        half = float(stats.t.ppf(0.975, df)) * se
        low, high = diff - half, diff + half
        p = float(res.pvalue) if math.isfinite(float(res.pvalue)) else 1.0
        worse = diff > 0  # a larger error is worse
    significant = p < alpha
    verdict = ("worse" if worse else "better") if significant else "no change detected"
    fmt = (lambda x: f"{x:.1%}") if metric == "accuracy" else (lambda x: f"{x:.4g}")
    dfmt = (lambda x: f"{x * 100:+.1f} points") if metric == "accuracy" else (lambda x: f"{x:+.4g}")
    message = (
        f"Realised {metric}: {fmt(v1)} now vs {fmt(v0)} in the reference ({dfmt(diff)}, 95% interval "
        f"{dfmt(low)} to {dfmt(high)}, p = {p:.2g}; n = {n0:,} vs {n1:,} labelled rows): "
        + (f"performance is {verdict}." if significant else "no change detected at α = " + f"{alpha:g}.")
    )
    out.update(
        reference=v0, current=v1, difference=diff, low=low, high=high, p_value=p, verdict=verdict,
        message=message,
    )  # fmt: skip
    return out


def _metric(predictions: pd.Series, labels: pd.Series, kind: str) -> Metric:
    if kind != "numeric":
        return "accuracy"
    values, _ = to_numbers(predictions)
    finite = values[np.isfinite(values)]
    if _as_binary(labels) is not None and finite.size and finite.min() >= 0 and finite.max() <= 1:
        return "accuracy"  # scores with binary labels
    _, garbage = to_numbers(labels)
    integer_codes = finite.size > 0 and bool(np.all(finite == np.round(finite)))
    if garbage == 0 and integer_codes and infer_kind(labels) != "numeric":
        return "accuracy"  # integer class codes
    return "mae" if garbage == 0 else "accuracy"


def _as_binary(labels: pd.Series) -> np.ndarray | None:
    text = labels.dropna().astype("str").str.strip().str.lower()
    if text.empty or not set(text.unique()) <= (_TRUE | _FALSE):
        return None
    out = labels.astype("str").str.strip().str.lower().isin(_TRUE).to_numpy(dtype=float)
    out[labels.isna().to_numpy()] = np.nan
    return out


def _performance(
    window: str,
    start: pd.Timestamp | None,
    frame: pd.DataFrame,
    prediction: str,
    label: str,
    metric: Metric,
    score_threshold: float,
) -> dict[str, object]:
    pred, truth = frame[prediction], frame[label]
    keep = (pred.notna() & truth.notna()).to_numpy()
    pred, truth = pred[keep], truth[keep]
    n = int(keep.sum())
    row: dict[str, object] = {"window": window, "window_start": start, "n": n, "metric": metric}
    if n == 0:
        return {**row, "value": math.nan, "low": math.nan, "high": math.nan}
    if metric == "mae":
        p, _ = to_numbers(pred)
        t, _ = to_numbers(truth)
        errors = np.abs(p - t)
        errors = errors[np.isfinite(errors)]
        mean = float(errors.mean()) if errors.size else math.nan
        se = float(errors.std(ddof=1) / math.sqrt(errors.size)) if errors.size > 1 else math.nan
        return {**row, "value": mean, "low": mean - _Z * se, "high": mean + _Z * se}
    binary_truth = _as_binary(truth)
    p_num, garbage = to_numbers(pred)
    if binary_truth is not None and garbage == 0 and np.nanmin(p_num) >= 0 and np.nanmax(p_num) <= 1:
        correct = (p_num >= score_threshold) == (binary_truth == 1)
    else:
        correct = _norm(pred) == _norm(truth)
    hits = int(np.sum(correct))
    low, high = _wilson(hits, n)
    return {**row, "value": hits / n, "low": low, "high": high}


def _norm(values: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(dtype=float)
    return values.astype("str").str.strip().str.lower().to_numpy()


def _wilson(hits: int, n: int) -> tuple[float, float]:
    p = hits / n
    denom = 1 + _Z**2 / n
    centre = (p + _Z**2 / (2 * n)) / denom
    half = _Z * math.sqrt(p * (1 - p) / n + _Z**2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
