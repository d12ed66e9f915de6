"""The analysis behind the Training runs page: a table per run, plain-words flags, overlay helpers.

Everything takes the canonical metrics frame (``lib.schema``) and returns new frames; inputs are never
mutated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Final, Literal

import numpy as np
import pandas as pd

from lib.errors import InputError
from lib.format import duration, plural
from lib.schema import utc_timestamp

#: Fewest runs for which "unusual compared with the others" means something.
MIN_RUNS_FOR_FLAGS: Final = 4
#: Gaps below this are treated as this long when comparing spacings (back-to-back runs have gap 0).
MIN_GAP_S: Final = 60.0
#: Share of tables of like runs (no real outlier, no real change in spacing) allowed a flag by chance.
FLAG_ALPHA: Final = 0.05
#: Random orderings of the gaps drawn by the spacing test (fixed seed: the same table, the same answer).
SPACING_PERMUTATIONS: Final = 999
_SPACING_SEED: Final = 20261124
_CALIBRATION_SEED: Final = 1124

RUNS_TABLE_COLUMNS: Final = (
    "job",
    "first",
    "best",
    "last",
    "min",
    "max",
    "epoch_at_best",
    "start",
    "end",
    "duration_s",
    "gap_s",
    "val_minus_train",
    "instance_type",
    "n_points",
)
FLAG_COLUMNS: Final = ("job", "flag", "severity", "score", "explanation")

Severity = Literal["info", "warning", "alert"]
XKind = Literal["epoch", "elapsed_s"]

# Name parts that mean "lower is better" (SageMaker built-ins: logloss, merror, rmse, objective_loss ...).
_LOWER_IS_BETTER_PARTS: Final = ("loss", "error", "entropy", "perplexity")
_LOWER_IS_BETTER_TOKENS: Final = frozenset(
    {"err", "rmse", "mae", "mse", "msle", "rmsle", "mape", "smape", "nll", "wer", "cer", "mad", "mdae"}
)
_ACCURACY_TOKENS: Final = frozenset({"accuracy", "acc"})


def guess_higher_is_better(metric: str) -> bool:
    """Guess from the name whether larger values of ``metric`` are better.

    Names containing loss/error/entropy/perplexity, or a part such as rmse, mae, mse, mape, nll, wer,
    are "lower is better"; everything else (accuracy, auc, f1, precision, ndcg ...) is "higher".

    Examples
    --------
    >>> guess_higher_is_better("validation:accuracy"), guess_higher_is_better("validation:rmse")
    (True, False)
    """
    name = metric.lower()
    if any(part in name for part in _LOWER_IS_BETTER_PARTS):
        return False
    tokens = set(re.split(r"[^a-z0-9]+", name))
    return not tokens & _LOWER_IS_BETTER_TOKENS


def _is_accuracy_like(metric: str) -> bool:
    tokens = set(re.split(r"[^a-z0-9]+", metric.lower()))
    return bool(tokens & _ACCURACY_TOKENS) or "accuracy" in metric.lower()


def metric_names(metrics: pd.DataFrame) -> list[str]:
    """Metric names present, accuracy-like first, then other higher-is-better scores, then losses.

    Alphabetical within each group, so ``train:accuracy`` comes before ``validation:accuracy``.
    """
    names = {str(n) for n in metrics["metric"].dropna().unique()}

    def key(name: str) -> tuple[int, str]:
        rank = 0 if _is_accuracy_like(name) else (1 if guess_higher_is_better(name) else 2)
        return rank, name

    return sorted(names, key=key)


def default_metric(metrics: pd.DataFrame) -> str | None:
    """The metric a page should show first: a validation accuracy if there is one.

    Preference: ``validation:`` accuracy-like, any accuracy-like, any ``validation:`` metric, the
    first of ``metric_names``; ``None`` for an empty frame.
    """
    names = metric_names(metrics)
    if not names:
        return None
    for wanted in (
        lambda n: n.startswith("validation:") and _is_accuracy_like(n),
        _is_accuracy_like,
        lambda n: n.startswith("validation:"),
    ):
        for name in names:
            if wanted(name):
                return name
    return names[0]


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in time order per series (timestamp, then epoch, then elapsed_s when present)."""
    keys = ["job", "metric", "timestamp", "epoch"]
    if "elapsed_s" in frame.columns:
        keys.append("elapsed_s")
    keys = [k for k in keys if k in frame.columns]
    return frame.sort_values(keys, kind="stable", na_position="last")


def _empty_runs_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "job": pd.Series([], dtype="str"),
            **{c: pd.Series([], dtype="float64") for c in ("first", "best", "last", "min", "max")},
            "epoch_at_best": pd.Series([], dtype="Int64"),
            "start": pd.Series([], dtype="datetime64[ns, UTC]"),
            "end": pd.Series([], dtype="datetime64[ns, UTC]"),
            "duration_s": pd.Series([], dtype="float64"),
            "gap_s": pd.Series([], dtype="float64"),
            "val_minus_train": pd.Series([], dtype="float64"),
            "instance_type": pd.Series([], dtype="string"),
            "n_points": pd.Series([], dtype="int64"),
        }
    )


def _last_values(metrics: pd.DataFrame, metric: str) -> pd.Series:
    rows = metrics.loc[metrics["metric"] == metric]
    if rows.empty:
        return pd.Series(dtype="float64")
    return _ordered(rows).groupby("job", sort=False)["value"].last()


def runs_table(
    metrics: pd.DataFrame,
    jobs: pd.DataFrame | None = None,
    *,
    metric: str = "validation:accuracy",
    higher_is_better: bool | None = None,
) -> pd.DataFrame:
    """One row per run that logged ``metric``: where it started, its best and last value, its timing.

    Parameters
    ----------
    metrics
        Canonical metrics frame.
    jobs
        Optional jobs frame. When a job is in it, its ``start``/``end`` (training start/end) and
        ``training_seconds`` replace the estimates from the metric's first/last timestamps, and
        ``instance_type`` is copied.
    metric
        The metric summarised in ``first``, ``best``, ``last``, ``min``, ``max``, ``epoch_at_best``.
    higher_is_better
        Direction used for ``best``; guessed from the name when ``None`` (see ``guess_higher_is_better``).

    Returns
    -------
    pandas.DataFrame
        Columns ``RUNS_TABLE_COLUMNS``, sorted by ``start``. ``gap_s`` is the time from the latest end
        of any earlier run to this run's start (0 if it started while an earlier run was going; NaN for
        the first run). ``val_minus_train`` is the last ``validation:<x>`` minus the last ``train:<x>``
        for the same ``<x>`` as ``metric`` (NaN unless both exist). ``attrs`` holds ``metric`` and
        ``higher_is_better``.
    """
    hib = guess_higher_is_better(metric) if higher_is_better is None else higher_is_better
    rows = metrics.loc[metrics["metric"] == metric]
    if rows.empty:
        table = _empty_runs_table()
        table.attrs.update(metric=metric, higher_is_better=hib)
        return table
    rows = _ordered(rows).reset_index(drop=True)
    grouped = rows.groupby("job", sort=False)
    values = grouped["value"]
    best_idx = values.idxmax() if hib else values.idxmin()
    table = pd.DataFrame(
        {
            "first": values.first(),
            "best": rows.loc[best_idx.to_numpy(), "value"].to_numpy(),
            "last": values.last(),
            "min": values.min(),
            "max": values.max(),
            "epoch_at_best": pd.array(rows.loc[best_idx.to_numpy(), "epoch"].to_numpy(), dtype="Int64"),
            "start": grouped["timestamp"].min(),
            "end": grouped["timestamp"].max(),
            "n_points": values.size(),
        }
    )
    table.index = table.index.astype("str")
    duration = (table["end"] - table["start"]).dt.total_seconds()
    instance_type = pd.Series(pd.NA, index=table.index, dtype="string")
    if jobs is not None and len(jobs):
        meta = jobs.drop_duplicates("job", keep="last").set_index("job")
        meta.index = meta.index.astype("str")
        meta = meta.reindex(table.index)
        for col in ("start", "end"):
            if col in meta.columns:
                known = pd.to_datetime(meta[col], utc=True).astype("datetime64[ns, UTC]")
                table[col] = known.where(known.notna(), table[col])
        duration = (table["end"] - table["start"]).dt.total_seconds()
        if "training_seconds" in meta.columns:
            secs = pd.to_numeric(meta["training_seconds"], errors="coerce").astype("float64")
            duration = secs.where(secs.notna(), duration)
        if "instance_type" in meta.columns:
            instance_type = meta["instance_type"].astype("string")
    table["duration_s"] = duration.astype("float64")
    table["instance_type"] = instance_type

    suffix = metric.split(":", 1)[1] if ":" in metric else None
    if suffix is not None:
        val_last = _last_values(metrics, f"validation:{suffix}").reindex(table.index)
        train_last = _last_values(metrics, f"train:{suffix}").reindex(table.index)
        table["val_minus_train"] = (val_last - train_last).astype("float64")
    else:
        table["val_minus_train"] = np.nan

    table = table.rename_axis("job").reset_index()
    table = table.sort_values(["start", "job"], kind="stable", na_position="last").reset_index(drop=True)
    # Latest end among all earlier-started runs, so a short run inside a long one does not hide it.
    previous_end = table["end"].cummax().shift(1)
    gap = (table["start"] - previous_end).dt.total_seconds()
    table["gap_s"] = gap.clip(lower=0.0).astype("float64")
    table["job"] = table["job"].astype("str")
    table["n_points"] = table["n_points"].astype("int64")
    table = table[list(RUNS_TABLE_COLUMNS)]
    table.attrs.update(metric=metric, higher_is_better=hib)
    return table


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def robust_z_scores(values: np.ndarray) -> tuple[np.ndarray, float, float, str]:
    """Modified z-scores (Iglewicz and Hoaglin): ``0.6745 * (x - median) / MAD``.

    When the MAD is 0 (more than half the values identical) the mean absolute deviation is used
    instead, ``(x - median) / (1.253314 * MeanAD)``; when that is 0 too, every score is 0.

    Returns
    -------
    tuple
        ``(scores, median, spread, spread_name)`` where ``spread_name`` is ``"MAD"`` or
        ``"mean absolute deviation"``.
    """
    x = np.asarray(values, dtype="float64")
    median = float(np.median(x))
    dev = np.abs(x - median)
    mad = float(np.median(dev))
    tiny = 1e-12 * max(1.0, abs(median))  # float noise around identical values is not spread
    if mad > tiny:
        return 0.6745 * (x - median) / mad, median, mad, "MAD"
    mean_ad = float(np.mean(dev))
    if mean_ad > tiny:
        return (x - median) / (1.253314 * mean_ad), median, mean_ad, "mean absolute deviation"
    return np.zeros_like(x), median, 0.0, "MAD"


def _max_abs_modified_z(x: np.ndarray) -> np.ndarray:
    """Row-wise ``max |0.6745 (x - median) / MAD|`` of a 2-D array (no ties expected)."""
    med = np.median(x, axis=1, keepdims=True)
    mad = np.median(np.abs(x - med), axis=1, keepdims=True)
    return np.asarray(np.max(np.abs(0.6745 * (x - med) / mad), axis=1))


@lru_cache(maxsize=256)
def calibrated_threshold(n: int, alpha: float = FLAG_ALPHA) -> float:
    """Robust z-score threshold that ``n`` like values cross by chance in only ``alpha`` of tables.

    The fixed Iglewicz-Hoaglin cut-off 3.5 is meant for one value; the largest of ``n`` scores, with a
    median and MAD from a handful of values, crosses it in 9-21 % of tables of 4-20 independent normal
    values. This is the ``1 - alpha`` quantile of ``max |modified z|`` over ``n`` standard normal values,
    by seeded simulation (``min(100000, max(2000, 2e6 / n))`` tables; cached per ``n``): about 7.0 for
    4 values, 4.4 for 12, 4.0 for 20. The level is exact for normal values; heavier
    tails flag more often.
    """
    if n < 3:
        return math.inf
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be between 0 and 1 (got {alpha}).")
    reps = min(100_000, max(2_000, 2_000_000 // n))
    rng = np.random.default_rng([_CALIBRATION_SEED, n])
    return float(np.quantile(_max_abs_modified_z(rng.standard_normal((reps, n))), 1.0 - alpha))


@dataclass(frozen=True)
class SpacingChange:
    """The clearest change in the spacing between runs and how likely it is by chance.

    Attributes
    ----------
    split
        Index (into the gaps) of the first gap of the later stretch.
    mean_before, mean_after
        Mean gap (seconds, gaps floored at ``MIN_GAP_S``) before and from ``split`` on.
    statistic
        Likelihood-ratio statistic of one exponential rate against two, at ``split``.
    p_value
        Share of random orderings of the same gaps whose best split is at least as clear
        (permutation test over ``SPACING_PERMUTATIONS`` orderings, counting the observed one).
    """

    split: int
    mean_before: float
    mean_after: float
    statistic: float
    p_value: float


def _spacing_lr(gaps: np.ndarray) -> np.ndarray:
    """Exponential-rate likelihood ratio at every split (two gaps or more per side), row-wise."""
    m = gaps.shape[1]
    cs = np.cumsum(gaps, axis=1)
    total = cs[:, -1:]
    k = np.arange(2, m - 1)
    before = cs[:, k - 1] / k
    after = (total - cs[:, k - 1]) / (m - k)
    return np.asarray(m * np.log(total / m) - k * np.log(before) - (m - k) * np.log(after))


def spacing_change(
    gaps: Sequence[float] | np.ndarray, *, permutations: int = SPACING_PERMUTATIONS
) -> SpacingChange | None:
    """Test whether runs came at one rate before some run and at another after it.

    Gaps between runs that start at random (a Poisson process) are exponential, so the natural
    statistic is the likelihood ratio of "one exponential rate" against "one rate before ``split``,
    another after", maximised over the splits (each side keeping two gaps or more). Its chance level is
    taken from random orderings of the same gaps (a permutation test): exact whenever the gaps are
    exchangeable, whatever their distribution (back-to-back runs, floored gaps, heavy tails).

    Returns
    -------
    SpacingChange or None
        ``None`` when there are fewer than four gaps.
    """
    g = np.maximum(np.asarray(gaps, dtype="float64"), MIN_GAP_S)
    g = g[np.isfinite(g)]
    m = len(g)
    if m < 4:
        return None
    observed = _spacing_lr(g[None, :])[0]
    best = int(np.argmax(observed))
    stat = float(observed[best])
    split = best + 2
    rng = np.random.default_rng(_SPACING_SEED)
    shuffled = rng.permuted(np.broadcast_to(g, (permutations, m)), axis=1)
    null = _spacing_lr(shuffled).max(axis=1)
    exceed = int(np.count_nonzero(null >= stat - 1e-9 * max(1.0, abs(stat))))
    return SpacingChange(
        split=split,
        mean_before=float(g[:split].mean()),
        mean_after=float(g[split:].mean()),
        statistic=stat,
        p_value=(1 + exceed) / (permutations + 1),
    )


def _flag(
    table: pd.DataFrame,
    metric: str,
    threshold: float | None,
    hib: bool,
    spacing_ratio: float,
    alpha: float = FLAG_ALPHA,
) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    out: list[dict[str, object]] = []
    finals = table.dropna(subset=["last"])
    n = len(finals)
    if n < MIN_RUNS_FOR_FLAGS:
        notes.append(
            f"Only {plural(n, 'run')} logged {metric}; comparing a run with the others "
            f"needs at least {MIN_RUNS_FOR_FLAGS}, so no run is flagged."
        )
    else:
        scores, median, spread, spread_name = robust_z_scores(finals["last"].to_numpy())
        cut = calibrated_threshold(n, alpha) if threshold is None else float(threshold)
        why = (
            f"flag above {cut:.2f}, the level {n} like runs exceed by chance in {100 * alpha:g} % of tables"
            if threshold is None
            else f"flag above {cut:g}"
        )
        if spread == 0.0:
            notes.append(f"All {n} runs ended with the same {metric} ({_fmt(median)}); nothing stands out.")
        for job, last, z in zip(finals["job"], finals["last"], scores, strict=True):
            if not abs(z) > cut:
                continue
            low = z < 0
            worse = low == hib
            severity: Severity = ("alert" if abs(z) > 2 * cut else "warning") if worse else "info"
            out.append(
                {
                    "job": job,
                    "flag": f"unusually {'low' if low else 'high'} final value",
                    "severity": severity,
                    "score": float(z),
                    "explanation": (
                        f"Final {metric} {_fmt(last)} is unusually {'low' if low else 'high'}"
                        f"{' (worse than the other runs)' if worse else ' (better than the other runs)'}: "
                        f"the median of {n} runs is {_fmt(median)} ({spread_name} {_fmt(spread)}), "
                        f"a robust z-score of {z:.1f} ({why})."
                    ),
                }
            )

    spaced = table.dropna(subset=["start"]).sort_values("start", kind="stable")
    gaps = spaced["gap_s"].to_numpy(dtype="float64")[1:]
    gap_jobs = spaced["job"].to_numpy()[1:]
    ok = np.isfinite(gaps)
    gaps, gap_jobs = np.maximum(gaps[ok], MIN_GAP_S), gap_jobs[ok]
    if len(spaced) < MIN_RUNS_FOR_FLAGS + 1:
        notes.append(
            f"Only {plural(len(spaced), 'run')} {'has' if len(spaced) == 1 else 'have'} start times; "
            "a change in the spacing between runs needs at "
            f"least {MIN_RUNS_FOR_FLAGS + 1} (two gaps before and two after)."
        )
    else:
        change = spacing_change(gaps)
        if change is not None and change.p_value <= alpha:
            ratio = change.mean_after / change.mean_before
            if ratio >= spacing_ratio or ratio <= 1.0 / spacing_ratio:
                out.append(
                    _spacing_flag(str(gap_jobs[change.split]), change, len(gaps), spacing_ratio, alpha)
                )
    flags = pd.DataFrame(out, columns=list(FLAG_COLUMNS))
    flags = flags.astype(
        {"job": "str", "flag": "str", "severity": "str", "score": "float64", "explanation": "str"}
    )
    return flags, notes


def _spacing_flag(
    job: str, change: SpacingChange, n_gaps: int, spacing_ratio: float, alpha: float
) -> dict[str, object]:
    before, after, split = change.mean_before, change.mean_after, change.split
    ratio = after / before
    further = ratio > 1.0
    direction = "further apart" if further else "closer together"
    return {
        "job": job,
        "flag": f"runs {direction}",
        "severity": "info",
        "score": float(ratio),
        "explanation": (
            f"From this run on, runs are {direction}: the mean gap over the last {n_gaps - split} gaps "
            f"is {duration(after)}, against {duration(before)} over the {split} before "
            f"({ratio:.1f}× {'longer' if further else 'as long'}). Only {100 * change.p_value:.1f} % of "
            f"random orderings of the same gaps split as clearly (flag at {100 * alpha:g} % and "
            f"{spacing_ratio:g}× either way)."
        ),
    }


def flag_runs(
    table: pd.DataFrame,
    *,
    metric: str | None = None,
    threshold: float | None = None,
    higher_is_better: bool | None = None,
    spacing_ratio: float = 3.0,
    alpha: float = FLAG_ALPHA,
) -> pd.DataFrame:
    """Runs worth a look, each with a plain-words explanation that carries the numbers.

    Two rules, both needing at least ``MIN_RUNS_FOR_FLAGS`` runs (fewer: no flags, and the reason is in
    ``flags.attrs["notes"]`` and ``flag_notes``):

    * **Unusual final value.** Each run's ``last`` value gets a modified z-score
      ``0.6745 * (x - median) / MAD`` (MAD = median absolute deviation from the median; when it is 0,
      the mean absolute deviation stands in, see ``robust_z_scores``). ``|z|`` above the threshold
      flags the run: ``alert`` beyond twice the threshold, ``warning`` otherwise, ``info`` when the run
      is unusually *good*. The default threshold is ``calibrated_threshold(n, alpha)``: the level that
      the largest of ``n`` scores of like (normal) runs crosses in only ``alpha`` (5 %) of tables. The
      fixed Iglewicz-Hoaglin 3.5 flagged 9-21 % of tables of 4-20 such runs.
    * **Change in spacing between runs.** The gaps between consecutive runs (``gap_s``, at least
      one minute) go to ``spacing_change``: the split (two gaps or more per side) with the largest
      exponential-rate likelihood ratio, and the share ``p`` of random orderings of the same gaps that
      split at least as clearly. With ``p <= alpha`` and the mean gap after the split ``spacing_ratio``
      times (3×) the one before, or a third of it, the first run after the split gets an ``info`` flag.
      The old ratio-of-medians rule flagged 31-56 % of tables of runs started at random times.

    Seeded simulations (``benchmarks/bench_flags.py``; asserted in
    ``tests/unit/analysis/test_flag_rates.py``) on null tables of 4-20 runs: the final-value flag fires on
    5 % by construction (measured 4.2-5.9 % per run count on 2,000 tables each, mean 4.9 %), the spacing
    flag on 0-5.8 % per run count on 400 tables each (mean 2.9 %) for runs started at Poisson times.

    Parameters
    ----------
    table
        Output of ``runs_table``.
    metric
        Name used in the explanations; defaults to ``table.attrs["metric"]``.
    threshold
        Robust z-score above which a final value is unusual; ``None`` (default) calibrates it to the
        number of runs (``calibrated_threshold``). A number gives the old fixed rule (e.g. 3.5).
    higher_is_better
        Direction (which of low/high is worse); defaults to the table's, else guessed from the name.
    spacing_ratio
        Smallest ratio of mean gaps (after / before, or its inverse) that counts as a change in spacing.
    alpha
        Share of tables without a real outlier or spacing change allowed a flag by chance, per rule.

    Returns
    -------
    pandas.DataFrame
        Columns ``job, flag, severity, score, explanation`` (``score`` is the z-score, or the gap
        ratio for spacing flags); ``attrs["notes"]`` lists checks that could not run.
    """
    name = metric if metric is not None else str(table.attrs.get("metric", "the metric"))
    hib = higher_is_better
    if hib is None:
        hib = table.attrs.get("higher_is_better")
    if hib is None:
        hib = guess_higher_is_better(name)
    flags, notes = _flag(table, name, threshold, bool(hib), spacing_ratio, alpha)
    flags.attrs["notes"] = notes
    return flags


def flag_notes(table: pd.DataFrame, *, metric: str | None = None) -> list[str]:
    """Why ``flag_runs`` could not check something (too few runs, all values equal); empty if none."""
    return list(flag_runs(table, metric=metric).attrs["notes"])


def align_runs(
    metrics: pd.DataFrame,
    *,
    metric: str,
    x_kind: XKind | Literal["auto"] = "auto",
) -> pd.DataFrame:
    """Rows of ``metric`` with an ``x`` that lines runs up from their own start, for overlaying.

    ``x_kind="auto"`` picks ``"epoch"`` when every row has an epoch, else ``"elapsed_s"``: seconds
    since the run's first point of any metric (or the ``elapsed_s`` column where a source gives one).
    One kind for the whole frame, because epochs and seconds cannot share an axis. Rows without an
    ``x`` are dropped.

    Returns
    -------
    pandas.DataFrame
        The metric's rows plus ``x`` (float64) and ``x_kind`` (str), ordered by job and ``x``.
    """
    rows = metrics.loc[metrics["metric"] == metric].copy()
    if x_kind == "auto":
        x_kind = "epoch" if len(rows) and rows["epoch"].notna().all() else "elapsed_s"
    if x_kind == "epoch":
        x = rows["epoch"].astype("Float64").astype("float64")
    elif x_kind == "elapsed_s":
        first_seen = metrics.groupby("job")["timestamp"].min()
        since = (rows["timestamp"] - rows["job"].map(first_seen)).dt.total_seconds()
        if "elapsed_s" in rows.columns:
            given = pd.to_numeric(rows["elapsed_s"], errors="coerce").astype("float64")
            since = given.where(given.notna(), since)
        x = since.astype("float64")
    else:
        raise InputError(f"Unknown x_kind {x_kind!r}.", hint="Use 'auto', 'epoch' or 'elapsed_s'.")
    rows["x"] = x
    rows["x_kind"] = pd.Series(x_kind, index=rows.index, dtype="str")
    rows = rows.loc[rows["x"].notna()]
    return rows.sort_values(["job", "x"], kind="stable").reset_index(drop=True)


SmoothMethod = Literal["rolling", "ema", "ema_debiased"]
#: TensorBoard's default smoothing weight.
DEFAULT_EMA_WEIGHT: Final = 0.6


def smooth(
    frame: pd.DataFrame,
    *,
    window: int = 1,
    method: SmoothMethod = "rolling",
    weight: float = DEFAULT_EMA_WEIGHT,
    x: str | None = None,
) -> pd.DataFrame:
    """Add ``smoothed``: a trailing moving average, or an exponential moving average, per job and metric.

    ``value`` is kept untouched so the raw line can still be drawn faintly. Points are taken in order
    of ``x`` (default: the ``x`` column when present, else ``timestamp``). Rows come back in the
    input's order.

    * ``"rolling"``: mean of the last ``window`` points (``window <= 1`` copies ``value``).
    * ``"ema"``: EMA with span ``window``, started at the first value (pandas ``adjust=False``).
    * ``"ema_debiased"``: TensorBoard's scalar smoothing with ``weight`` ``w`` in ``[0, 1)``:
      ``s_t = w s_{t-1} + (1 - w) x_t`` from ``s_{-1} = 0``, divided by ``1 - w^(t+1)`` so the
      first points are not pulled towards zero. That is exactly pandas' ``ewm(alpha=1 - w,
      adjust=True)``; ``w = 0`` copies ``value``.

    Raises
    ------
    InputError
        If ``window`` is below 1, ``weight`` is outside ``[0, 1)`` or ``method`` is unknown.

    Examples
    --------
    >>> f = pd.DataFrame({"job": "a", "metric": "m", "x": [0, 1], "value": [1.0, 0.0]})
    >>> smooth(f, method="ema_debiased", weight=0.5)["smoothed"].round(4).tolist()
    [1.0, 0.3333]
    """
    if window < 1:
        raise InputError(f"Smoothing window must be at least 1 (got {window}).")
    if method not in ("rolling", "ema", "ema_debiased"):
        raise InputError(
            f"Unknown smoothing method {method!r}.", hint="Use 'rolling', 'ema' or 'ema_debiased'."
        )
    if method == "ema_debiased" and not 0.0 <= weight < 1.0:
        raise InputError(f"EMA weight must be at least 0 and below 1 (got {weight}).")
    out = frame.copy()
    identity = window == 1 if method != "ema_debiased" else weight == 0.0
    if out.empty or identity:
        out["smoothed"] = out["value"].astype("float64")
        return out
    order_by = x if x is not None else ("x" if "x" in out.columns else "timestamp")
    # Positional index so results map back to the input order; Series (not .to_numpy()) keep
    # tz-aware timestamps as int64 instead of boxing a million Timestamp objects.
    work = pd.DataFrame(
        {
            "job": out["job"].reset_index(drop=True),
            "metric": out["metric"].reset_index(drop=True),
            "k": out[order_by].reset_index(drop=True),
            "value": out["value"].astype("float64").reset_index(drop=True),
        }
    )
    work = work.sort_values(["job", "metric", "k"], kind="stable")
    grouped = work.groupby(["job", "metric"], sort=False)["value"]
    if method == "rolling":
        smoothed = grouped.transform(lambda s: s.rolling(window, min_periods=1).mean())
    elif method == "ema":
        smoothed = grouped.transform(lambda s: s.ewm(span=window, adjust=False).mean())
    else:
        smoothed = grouped.transform(lambda s: s.ewm(alpha=1.0 - weight, adjust=True).mean())
    out["smoothed"] = smoothed.sort_index().to_numpy()
    return out


def downsample(frame: pd.DataFrame, *, max_points: int = 5000, x: str = "timestamp") -> pd.DataFrame:
    """Thin long series so about ``max_points`` rows reach the browser, keeping spikes visible.

    The budget is shared between series (job, metric): small series keep every row and leave their
    unused share to the big ones. A series over its share has its ``x`` range cut into equal-width
    buckets, and each bucket keeps only its lowest, highest and last point (plus the series' first
    point), so the global min, max and last value always survive. Rows of such a series without
    an ``x`` are dropped. The input is not mutated; rows keep their index and order.

    Returns
    -------
    pandas.DataFrame
        A subset of ``frame``'s rows (a copy of ``frame`` when it already fits).
    """
    if max_points < 1:
        raise InputError(f"max_points must be positive (got {max_points}).")
    if len(frame) <= max_points:
        return frame.copy()
    sid = frame.groupby(["job", "metric"], sort=False).ngroup().to_numpy()
    sizes = np.bincount(sid)
    caps = _share_budget(sizes, max_points)

    keep = np.ones(len(frame), dtype=bool)
    big = np.flatnonzero(sizes > caps)
    rows_big = np.isin(sid, big)
    keep[rows_big] = False
    xs = frame[x]
    if isinstance(xs.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(xs.dtype):
        xv = xs.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
        xv[xs.isna().to_numpy()] = np.nan
    else:
        xv = pd.to_numeric(xs, errors="coerce").to_numpy(dtype="float64")
    values = frame["value"].to_numpy(dtype="float64")

    pos = np.flatnonzero(rows_big & np.isfinite(xv))
    if len(pos):
        s = sid[pos]
        n_buckets = np.maximum(1, (caps[s] - 1) // 3)
        lo = pd.Series(xv[pos]).groupby(s).transform("min").to_numpy()
        hi = pd.Series(xv[pos]).groupby(s).transform("max").to_numpy()
        span = np.where(hi > lo, hi - lo, 1.0)
        bucket = np.minimum(((xv[pos] - lo) / span * n_buckets).astype("int64"), n_buckets - 1)
        work = pd.DataFrame({"s": s, "b": bucket, "x": xv[pos], "v": values[pos], "pos": pos})
        work = work.sort_values(["s", "b", "x", "pos"], kind="stable")
        g = work.groupby(["s", "b"], sort=False)
        chosen = [
            work.loc[g["v"].idxmin().to_numpy(), "pos"].to_numpy(),
            work.loc[g["v"].idxmax().to_numpy(), "pos"].to_numpy(),
            g["pos"].last().to_numpy(),
            work.groupby("s", sort=False)["pos"].first().to_numpy(),  # the series' first point
        ]
        keep[np.concatenate(chosen)] = True
    return frame.iloc[np.flatnonzero(keep)].copy()


def _share_budget(sizes: np.ndarray, budget: int) -> np.ndarray:
    """Water-filling: each series gets min(size, fair share), unused share goes to the others."""
    caps = np.zeros(len(sizes), dtype="int64")
    remaining = budget
    order = np.argsort(sizes, kind="stable")
    for k, i in enumerate(order):
        share = max(4, remaining // (len(sizes) - k))  # 4 = first point + one bucket's min/max/last
        caps[i] = min(int(sizes[i]), share)
        remaining = max(0, remaining - caps[i])
    return caps


def time_bounds(metrics: pd.DataFrame) -> tuple[datetime | None, datetime | None]:
    """Earliest and latest timestamp, widened to whole minutes, as naive UTC datetimes.

    Naive because that is what ``st.slider`` takes; ``select_view`` reads naive times as UTC.
    ``(None, None)`` when there are no timestamps.
    """
    stamps = metrics["timestamp"].dropna() if "timestamp" in metrics.columns else pd.Series([])
    if stamps.empty:
        return None, None
    lo = pd.Timestamp(stamps.min()).floor("min").tz_convert("UTC").tz_localize(None)
    hi = pd.Timestamp(stamps.max()).ceil("min").tz_convert("UTC").tz_localize(None)
    return lo.to_pydatetime(), hi.to_pydatetime()


def counterpart(metric: str) -> str | None:
    """``validation:x`` <-> ``train:x``; ``None`` for names without one of those prefixes."""
    prefix, _, suffix = metric.partition(":")
    if not suffix:
        return None
    other = {"train": "validation", "validation": "train"}.get(prefix)
    return f"{other}:{suffix}" if other else None


@dataclass(frozen=True)
class RunsView:
    """Everything the Training runs page shows for one choice of metric, runs and time window.

    Attributes
    ----------
    metric
        The chosen metric.
    metric_list
        Metrics drawn: the chosen one plus its train/validation counterpart when asked for and
        present, train first.
    metrics
        Canonical rows of ``metric_list`` for the selected runs (full resolution, for downloads).
    chart_metrics
        ``metrics`` thinned with ``downsample`` for the browser.
    total_points, shown_points, downsampled
        Sizes before/after thinning, and whether any thinning happened.
    table
        ``runs_table`` of the selected runs for ``metric``.
    flags
        ``flag_runs`` of ``table``.
    notes
        Checks that could not run (see ``flag_runs``).
    flag_summary
        One sentence for the page: what was flagged, or that nothing stands out (with the notes).
    untimed_jobs
        Shown runs with no clock times (e.g. ``TrainingJobAnalytics`` exports, logs without time
        stamps): they cannot be drawn over wall-clock time, only by epoch or elapsed time.
    """

    metric: str
    metric_list: list[str]
    metrics: pd.DataFrame
    chart_metrics: pd.DataFrame
    total_points: int
    shown_points: int
    downsampled: bool
    table: pd.DataFrame
    flags: pd.DataFrame
    notes: list[str]
    flag_summary: str
    untimed_jobs: list[str]


def select_view(
    metrics: pd.DataFrame,
    job_info: pd.DataFrame | None = None,
    *,
    metric: str,
    jobs: Sequence[str] | None = None,
    time_range: tuple[datetime, datetime] | None = None,
    with_counterpart: bool = True,
    max_points: int = 5000,
    threshold: float | None = None,
) -> RunsView:
    """Filter runs and compute the page's table, flags and chart data in one call.

    Parameters
    ----------
    metrics
        Canonical metrics frame.
    job_info
        Optional jobs frame (start/end, training seconds, instance type for the table).
    metric
        Metric to summarise and draw.
    jobs
        Runs to keep; ``None`` or empty keeps all.
    time_range
        Keep runs with at least one point (of any metric) in ``[start, end]``; whole runs are kept so
        their first/best/last values stay meaningful. Naive datetimes are read as UTC.
    with_counterpart
        Also draw ``train:x`` next to ``validation:x`` (and vice versa) when it exists.
    max_points
        Budget for ``chart_metrics`` (see ``downsample``).
    threshold
        Robust z-score threshold passed to ``flag_runs`` (``None``: calibrated to the number of runs).
    """
    selected = metrics
    if jobs:
        selected = selected.loc[selected["job"].isin(list(jobs))]
    if time_range is not None:
        lo, hi = utc_timestamp(time_range[0]), utc_timestamp(time_range[1])
        if pd.isna(lo) or pd.isna(hi):
            raise InputError(f"time range {time_range!r}: both ends must be dates or times.")
        inside = selected["timestamp"].between(lo, hi)
        timed = set(selected.loc[selected["timestamp"].notna(), "job"])
        # Runs without clock times (relative-time exports) cannot be placed in a window: keep them.
        keep = set(selected.loc[inside, "job"]) | (set(selected["job"]) - timed)
        selected = selected.loc[selected["job"].isin(keep)]

    wanted = [metric]
    other = counterpart(metric) if with_counterpart else None
    if other is not None and (selected["metric"] == other).any():
        wanted = sorted([metric, other], key=lambda m: (not m.startswith("train:"), m))
    shown = selected.loc[selected["metric"].isin(wanted)].reset_index(drop=True)
    chart = downsample(shown, max_points=max_points, x="timestamp")

    table = runs_table(selected, job_info, metric=metric)
    flags = flag_runs(table, metric=metric, threshold=threshold)
    notes = list(flags.attrs.get("notes", []))
    return RunsView(
        metric=metric,
        metric_list=wanted,
        metrics=shown,
        chart_metrics=chart,
        total_points=len(shown),
        shown_points=len(chart),
        downsampled=len(chart) < len(shown),
        table=table,
        flags=flags,
        notes=notes,
        flag_summary=_flag_summary(flags, notes, n_runs=len(table), metric=metric),
        untimed_jobs=sorted(set(shown["job"]) - set(shown.loc[shown["timestamp"].notna(), "job"])),
    )


def _flag_summary(flags: pd.DataFrame, notes: list[str], *, n_runs: int, metric: str) -> str:
    if len(flags):
        runs_flagged = flags["job"].nunique()
        lead = f"{plural(len(flags), 'flag')} on {runs_flagged} of {plural(n_runs, 'run')}: "
        return lead + " ".join(flags["explanation"])
    if notes:
        return " ".join(notes)
    return (
        f"Nothing stands out: no final {metric} is unusual among the {plural(n_runs, 'run')} and the spacing "
        "between runs did not change much."
    )


@dataclass(frozen=True)
class OverlayView:
    """Data for ``charts.runs_overlay``: aligned (and smoothed) rows and what the x axis means."""

    frame: pd.DataFrame
    x_kind: XKind
    x_label: str


def overlay_view(
    metrics: pd.DataFrame,
    *,
    metric: str,
    window: int = 1,
    method: SmoothMethod = "rolling",
    weight: float = DEFAULT_EMA_WEIGHT,
    x_kind: XKind | Literal["auto"] = "auto",
    max_points: int = 5000,
) -> OverlayView:
    """``align_runs`` + ``smooth`` (+ ``downsample`` on ``x``) for the runs-overlaid chart.

    Smoothing runs on the full data before thinning, so the smoothed line is not biased by it.
    ``frame`` always has ``smoothed`` (equal to ``value`` when ``window`` is 1).
    """
    aligned = align_runs(metrics, metric=metric, x_kind=x_kind)
    smoothed = smooth(aligned, window=window, method=method, weight=weight)
    frame = downsample(smoothed, max_points=max_points, x="x").reset_index(drop=True)
    kind: XKind = "epoch" if aligned["x_kind"].eq("epoch").all() and len(aligned) else "elapsed_s"
    if x_kind != "auto":
        kind = x_kind
    label = "epoch" if kind == "epoch" else "elapsed time since each run's first point"
    return OverlayView(frame=frame, x_kind=kind, x_label=label)


TimeAxis = Literal["clock", "runs"]
#: Below this share of the time span for the median run, clock time draws runs as slivers.
MIN_RUN_SHARE: Final = 0.02
_EPOCH_UTC: Final = pd.Timestamp(0, tz="UTC")


def _seconds_since_epoch(stamps: pd.Series) -> np.ndarray:
    return np.asarray((stamps - _EPOCH_UTC).dt.total_seconds().to_numpy(dtype="float64"))


def _run_spans(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per timed run: first and last timestamp in seconds since 1970, in start order."""
    timed = metrics.loc[metrics["timestamp"].notna(), ["job", "timestamp"]]
    if timed.empty:
        return pd.DataFrame({"job": pd.Series([], dtype="str"), "t0": [], "t1": []})
    spans = timed.groupby("job", sort=False)["timestamp"].agg(["min", "max"]).reset_index()
    out = pd.DataFrame(
        {
            "job": spans["job"].astype("str"),
            "t0": _seconds_since_epoch(spans["min"]),
            "t1": _seconds_since_epoch(spans["max"]),
        }
    )
    return out.sort_values(["t0", "job"], kind="stable").reset_index(drop=True)


def default_time_axis(metrics: pd.DataFrame) -> TimeAxis:
    """``"runs"`` when on clock time the median run would take under 2 % of the chart's width.

    Weeks of runs that each last an hour are slivers on a clock-time axis; the run axis
    (:func:`run_time_axis`) gives each run its own width.
    """
    spans = _run_spans(metrics)
    if len(spans) < 2:
        return "clock"
    total = float(spans["t1"].max() - spans["t0"].min())
    median_run = float(np.median(spans["t1"] - spans["t0"]))
    return "runs" if total > 0 and median_run / total < MIN_RUN_SHARE else "clock"


@dataclass(frozen=True)
class RunAxis:
    """Positions on an axis where each run keeps its length and idle time is compressed.

    Attributes
    ----------
    position_h
        Per row of the frame given (same index): hours on the compressed axis (NaN without a timestamp).
    starts
        One row per timed run: ``job``, ``start`` (UTC) and ``position_h`` of its first point.
    scale_s
        The idle-time scale ``c`` in seconds (a quarter of the median run length, at least 30 s).
    """

    position_h: pd.Series
    starts: pd.DataFrame
    scale_s: float


def run_time_axis(frame: pd.DataFrame) -> RunAxis:
    """Compress the idle time between runs so each run has visible width, keeping the order of gaps.

    Time while any run is going counts fully; an idle stretch of ``g`` seconds becomes
    ``c * log(1 + g / c)`` with ``c`` a quarter of the median run length (at least 30 s): short
    pauses stay about as they are, a day between hour-long runs shrinks to about one run's length,
    and a longer gap is still drawn longer, so a change in the spacing between runs stays visible.
    """
    spans = _run_spans(frame)
    position = pd.Series(np.nan, index=frame.index, dtype="float64")
    empty_starts = pd.DataFrame(
        {
            "job": pd.Series([], dtype="str"),
            "start": pd.Series([], dtype="datetime64[ns, UTC]"),
            "position_h": pd.Series([], dtype="float64"),
        }
    )
    if spans.empty:
        return RunAxis(position, empty_starts, 30.0)
    scale = max(float(np.median(spans["t1"] - spans["t0"])) / 4.0, 30.0)
    merged: list[list[float]] = []
    for t0, t1 in zip(spans["t0"], spans["t1"], strict=True):
        if merged and t0 <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], t1)
        else:
            merged.append([t0, t1])
    real: list[float] = []
    shown: list[float] = []
    pos = 0.0
    for i, (lo, hi) in enumerate(merged):
        if i:
            pos += scale * math.log1p((lo - merged[i - 1][1]) / scale)
        real += [lo, hi]
        shown += [pos, pos + (hi - lo)]
        pos += hi - lo
    timed = frame["timestamp"].notna()
    secs = _seconds_since_epoch(frame.loc[timed, "timestamp"])
    position.loc[timed] = np.interp(secs, real, shown) / 3600.0
    starts = pd.DataFrame(
        {
            "job": spans["job"],
            "start": pd.to_datetime(spans["t0"], unit="s", utc=True).astype("datetime64[ns, UTC]"),
            "position_h": np.interp(spans["t0"].to_numpy(), real, shown) / 3600.0,
        }
    )
    return RunAxis(position, starts, scale)
