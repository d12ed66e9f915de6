"""The canonical frames every source produces and everything downstream consumes.

Metrics frame (one row per observation, long/tidy, like the SageMaker SDK's analytics output):

==========  ===================  ===========================================================
column      dtype                meaning
==========  ===================  ===========================================================
job         string (str)         training-job name (or the run's name in an export)
metric      string (str)         metric name as SageMaker publishes it, e.g. ``validation:accuracy``
timestamp   datetime64[ns, UTC]  wall-clock time; NaT only where the source has relative time
value       float64              the observation (finite)
epoch       Int64 (nullable)     epoch / iteration where the source gives one
==========  ===================  ===========================================================

Optional columns (``host``, ``elapsed_s``, ``stat``, ``partial`` ...) may follow.

Jobs frame: one row per training job (metadata for the runs table); see ``JOB_COLUMNS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from lib.errors import SchemaError

if TYPE_CHECKING:
    from pandas.api.typing import NaTType

METRIC_COLUMNS: Final = ("job", "metric", "timestamp", "value", "epoch")

#: Core columns of the jobs frame; hyperparameters follow as ``hp.<name>`` (strings, as SageMaker
#: returns them) and final metric values as ``final.<metric>`` (float).
JOB_COLUMNS: Final = (
    "job",
    "status",
    "created",
    "start",
    "end",
    "training_seconds",
    "billable_seconds",
    "instance_type",
    "instance_count",
    "spot",
)
JOB_TIME_COLUMNS: Final = ("created", "start", "end")


def empty_metrics() -> pd.DataFrame:
    """An empty canonical metrics frame with the right dtypes."""
    return pd.DataFrame(
        {
            "job": pd.Series([], dtype="str"),
            "metric": pd.Series([], dtype="str"),
            "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
            "value": pd.Series([], dtype="float64"),
            "epoch": pd.Series([], dtype="Int64"),
        }
    )


def empty_jobs() -> pd.DataFrame:
    """An empty jobs frame with the core columns."""
    return validate_jobs(pd.DataFrame({"job": pd.Series([], dtype="str")}))


def to_utc(values: pd.Series | Iterable[object]) -> pd.Series:
    """Coerce timestamps to tz-aware UTC (naive ones are taken as UTC); unparseable become NaT."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype="object")
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        out = series.dt.tz_convert("UTC")
    else:
        out = pd.to_datetime(series, utc=True, errors="coerce", format="mixed")
    return out.astype("datetime64[ns, UTC]")


def utc_timestamp(value: object) -> pd.Timestamp | NaTType:
    """One time stamp as tz-aware UTC: a datetime, ISO text or epoch seconds (naive = UTC; NaT if unreadable).

    The scalar twin of :func:`to_utc`; every source that reads one time at a time uses it.
    """
    if value is None or isinstance(value, bool):
        return pd.NaT
    try:
        if isinstance(value, int | float | np.integer | np.floating):
            return pd.Timestamp(float(value), unit="s", tz="UTC")
        if isinstance(value, np.datetime64):
            value = str(value)
        if not isinstance(value, str | dt.date):
            return pd.NaT
        stamp = pd.Timestamp(value)
    except (ValueError, OverflowError, TypeError):
        return pd.NaT
    if pd.isna(stamp):
        return pd.NaT
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def validate_metrics(frame: pd.DataFrame, *, source: str = "data") -> pd.DataFrame:
    """Return ``frame`` coerced to the canonical metrics shape, sorted by job, metric and time.

    Rows whose value is missing or not finite are dropped (they cannot be charted or tested);
    the input is never mutated.

    Raises
    ------
    SchemaError
        If a required column is missing.
    """
    missing = [c for c in ("job", "metric", "timestamp", "value") if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{source}: the metrics frame lacks column(s) {', '.join(missing)}.",
            hint=f"Expected columns: {', '.join(METRIC_COLUMNS)}.",
        )
    out = frame.copy()
    out["job"] = out["job"].astype("str")
    out["metric"] = out["metric"].astype("str")
    out["timestamp"] = to_utc(out["timestamp"])
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    if "epoch" not in out.columns:
        out["epoch"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    else:
        out["epoch"] = pd.to_numeric(out["epoch"], errors="coerce").astype("Int64")
    out = out.loc[np.isfinite(out["value"].to_numpy())]
    extras = [c for c in out.columns if c not in METRIC_COLUMNS]
    out = out[[*METRIC_COLUMNS, *extras]]
    return out.sort_values(["job", "metric", "timestamp", "epoch"], kind="stable").reset_index(drop=True)


def validate_jobs(frame: pd.DataFrame, *, source: str = "data") -> pd.DataFrame:
    """Return ``frame`` with every core jobs column present and typed (missing ones filled empty)."""
    if "job" not in frame.columns:
        raise SchemaError(f"{source}: the jobs frame has no 'job' column.")
    out = frame.copy()
    out["job"] = out["job"].astype("str")
    for col in JOB_COLUMNS:
        if col not in out.columns:
            out[col] = pd.NA
    for col in JOB_TIME_COLUMNS:
        out[col] = to_utc(out[col])
    for col in ("training_seconds", "billable_seconds"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    out["instance_count"] = pd.to_numeric(out["instance_count"], errors="coerce").astype("Int64")
    out["status"] = out["status"].astype("string")
    out["instance_type"] = out["instance_type"].astype("string")
    out["spot"] = out["spot"].astype("boolean")
    extras = [c for c in out.columns if c not in JOB_COLUMNS]
    return out[[*JOB_COLUMNS, *extras]].reset_index(drop=True)


def merge_metrics(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate canonical frames (e.g. several uploads), dropping exact duplicate rows."""
    parts = [f for f in frames if len(f)]
    if not parts:
        return empty_metrics()
    merged = pd.concat(parts, ignore_index=True)
    return validate_metrics(merged.drop_duplicates(subset=list(METRIC_COLUMNS)))


def merge_jobs(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Combine jobs frames; for a job seen twice, later non-missing values win."""
    parts = [f for f in frames if len(f)]
    if not parts:
        return empty_jobs()
    merged = pd.concat(parts, ignore_index=True)
    combined = merged.groupby("job", sort=True, dropna=False).last().reset_index()
    return validate_jobs(combined)
