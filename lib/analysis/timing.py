"""Per-run timings, phases, seconds per epoch, timing drift and cost per run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from lib.analysis import pricing
from lib.analysis.pricing import job_seconds
from lib.analysis.runs import FLAG_ALPHA, MIN_RUNS_FOR_FLAGS, calibrated_threshold, robust_z_scores
from lib.analysis.series import SeriesDrift, series_drift
from lib.errors import InputError
from lib.schema import to_utc

PHASE_PREFIX: Final = "phase."


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


OUTLIER_COLUMNS: Final = ("job", "value", "median_others", "ratio", "score", "explanation")

_MEASURE_WORDS: Final = {
    "training_s": "training time",
    "billable_s": "billable time",
    "seconds_per_epoch": "seconds per epoch",
}


def timing_outliers(
    timings: pd.DataFrame,
    measure: str = "seconds_per_epoch",
    *,
    alpha: float = FLAG_ALPHA,
) -> pd.DataFrame:
    """Single runs much slower (or faster) than the others on one measure, named in words.

    The same calibrated rule as the final-value flag of ``runs.flag_runs``, on ``log(measure)`` (a
    run three times as slow is as unusual as one a third as long): a robust z-score
    ``0.6745 (log x - median) / MAD`` beyond ``runs.calibrated_threshold(n, alpha)``, which ``n`` like
    runs cross by chance in only ``alpha`` (5 %) of tables. Needs ``MIN_RUNS_FOR_FLAGS`` runs with a
    positive value; no rows otherwise.

    Returns
    -------
    pandas.DataFrame
        Columns ``OUTLIER_COLUMNS``: ``value`` of the run, ``median_others`` (median of the other runs),
        ``ratio`` (value / median_others), ``score`` (robust z of the log) and ``explanation``, e.g.
        "Run X took 3.1× the median seconds per epoch of the other 11 runs (...)". ``attrs`` holds
        ``measure``, ``n_runs`` and ``threshold``.
    """
    if measure not in timings.columns:
        raise InputError(f"No timing column {measure!r}.")
    values = pd.to_numeric(timings[measure], errors="coerce").astype("float64")
    ok = values.notna() & (values > 0)
    jobs = timings.loc[ok, "job"].astype("str").to_numpy()
    x = values[ok].to_numpy()
    n = len(x)
    rows: list[dict[str, object]] = []
    threshold = calibrated_threshold(n, alpha) if n >= MIN_RUNS_FOR_FLAGS else float("inf")
    words = _MEASURE_WORDS.get(measure, measure)
    if n >= MIN_RUNS_FOR_FLAGS:
        scores = robust_z_scores(np.log(x))[0]
        for i in np.flatnonzero(np.abs(scores) > threshold):
            others = float(np.median(np.delete(x, i)))
            ratio = float(x[i]) / others
            rows.append(
                {
                    "job": str(jobs[i]),
                    "value": float(x[i]),
                    "median_others": others,
                    "ratio": ratio,
                    "score": float(scores[i]),
                    "explanation": (
                        f"Run {jobs[i]} took {ratio:.1f}× the median {words} of the other {n - 1} runs "
                        f"({x[i]:,.0f} s against {others:,.0f} s; robust z-score {scores[i]:.1f} on the log "
                        f"scale, flag above {threshold:.2f}, which {n} like runs exceed by chance in "
                        f"{100 * alpha:g} % of tables)."
                    ),
                }
            )
    out = pd.DataFrame(rows, columns=list(OUTLIER_COLUMNS)).astype(
        {"job": "str", "value": "float64", "median_others": "float64", "ratio": "float64",
         "score": "float64", "explanation": "str"}
    )  # fmt: skip
    out.attrs.update(measure=measure, n_runs=n, threshold=threshold)
    return out


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
