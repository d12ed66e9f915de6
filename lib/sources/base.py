"""Shared pieces of the upload loaders: the parse result, forgiving value/time parsing, header matching.

Every format module turns its input into a :class:`Parsed` (a raw metrics frame, an optional jobs
frame and plain-words notes); :func:`finish` counts what will be dropped and hands the frame to
``lib.schema.validate_metrics``, the single place where the canonical shape is enforced.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import pandas as pd

from lib.errors import InputError
from lib.format import plural  # re-exported: the format modules import it from here
from lib.schema import empty_jobs, to_utc, validate_jobs, validate_metrics

if TYPE_CHECKING:
    from lib.sources.logs import MetricDefinition

#: Numbers below this are read as seconds since the start of the run, not as epoch time
#: (1e8 s is about three years; any real epoch-seconds timestamp is above 1e9).
RELATIVE_SECONDS_MAX: Final = 1e8
#: Above this many unparsed timestamps, skip the slow per-value (dateutil) fallback.
MIXED_PARSE_MAX: Final = 20_000


@dataclass(frozen=True)
class Context:
    """What every parser needs besides the content: the file's name and the user's metric regexes."""

    name: str
    metric_definitions: Sequence[MetricDefinition] = ()

    @property
    def stem(self) -> str:
        """The file name without its extension(s), used as job name when the file carries none."""
        stem = self.name.rsplit("/", 1)[-1]
        for ext in (".gz", ".csv", ".tsv", ".txt", ".log", ".json", ".jsonl", ".ndjson"):
            if stem.lower().endswith(ext) and len(stem) > len(ext):
                stem = stem[: -len(ext)]
        return stem or "upload"


@dataclass
class Parsed:
    """What a format parser returns before the canonical checks."""

    format: str
    metrics: pd.DataFrame
    jobs: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    #: Summary formats (one row per job) may legitimately have no metric rows.
    summary: bool = False


#: Format key -> words for the UI's "supported formats" help (and for error messages).
FORMATS: Final[dict[str, str]] = {
    "training_job_analytics": "SageMaker TrainingJobAnalytics CSV (export_csv)",
    "cloudwatch_metric_data": "CloudWatch get-metric-data JSON",
    "cloudwatch_metric_statistics": "CloudWatch get-metric-statistics JSON",
    "logs_insights_csv": "CloudWatch Logs Insights export CSV (@timestamp, @message, @logStream)",
    "cloudwatch_log_events": "CloudWatch Logs filter-log-events / get-log-events JSON",
    "training_log": "training log text (image classification, XGBoost, Linear Learner, your metric regexes)",
    "loggly_bulk": "Loggly bulk JSON lines (cloudwatch-metrics-to-loggly)",
    "loggly_events": "Loggly events API JSON",
    "loggly_csv": "Loggly grid CSV (json.* columns)",
    "long_csv": "long CSV (job, metric, timestamp, value)",
    "wide_csv": "wide CSV (a time or epoch column + one column per metric)",
    "experiment_analytics": "SageMaker ExperimentAnalytics CSV",
    "tuning_job_analytics": "SageMaker HyperparameterTuningJobAnalytics CSV",
    "describe_training_job": "DescribeTrainingJob JSON",
    "training_job_list": "ListTrainingJobs / Search JSON (jobs table only)",
}


def expected_text() -> str:
    """``"Expected one of: ..."`` for error messages."""
    return "Expected one of: " + "; ".join(FORMATS.values()) + "."


def fail(ctx: Context, found: str, *, hint: str | None = None) -> InputError:
    """An ``InputError`` naming the file, what was found and what was expected."""
    return InputError(f"{ctx.name}: {found} {expected_text()}", hint=hint)


def as_list(value: object) -> list[Any]:
    """``value`` if it is a JSON list, else ``[]`` (JSON from users can hold anything anywhere)."""
    return value if isinstance(value, list) else []


def normalise_header(name: object) -> str:
    """Lower-case alphanumerics of a column name, without a Loggly ``json.`` prefix.

    ``TrainingJobName``, ``training_job_name`` and ``json.trainingJobName`` all become
    ``trainingjobname``.
    """
    text = str(name).strip()
    if text.lower().startswith("json."):
        text = text[5:]
    return re.sub(r"[^a-z0-9@]", "", text.lower()).lstrip("@")


def find_column(columns: Sequence[str], aliases: Iterable[str]) -> str | None:
    """The first column (in alias order, then column order) whose normalised name is an alias."""
    normalised = [normalise_header(c) for c in columns]
    for alias in aliases:
        for col, norm in zip(columns, normalised, strict=True):
            if norm == alias:
                return col
    return None


def parse_values(values: pd.Series) -> pd.Series:
    """Floats from numbers or text; decimal commas (``0,75``) accepted; anything else becomes NaN."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return pd.Series(np.nan, index=values.index, dtype="float64")
    if pd.api.types.is_numeric_dtype(values.dtype):
        return pd.to_numeric(values, errors="coerce").astype("float64")
    text = values.astype("str").str.strip()
    out = pd.to_numeric(text, errors="coerce").astype("float64")
    retry = out.isna() & text.str.contains(",", regex=False).fillna(False).astype(bool)
    if retry.any():
        fixed = text[retry].str.replace(",", ".", regex=False)
        out.loc[retry] = pd.to_numeric(fixed, errors="coerce").astype("float64")
    return out


def _epoch_unit(magnitude: float) -> Literal["s", "ms", "us", "ns"]:
    if magnitude < 1e11:
        return "s"
    if magnitude < 1e14:
        return "ms"
    if magnitude < 1e17:
        return "us"
    return "ns"


def _from_epoch_numbers(numbers: pd.Series) -> pd.Series:
    """Epoch numbers to UTC timestamps; the unit (s/ms/us/ns) is read from the magnitude."""
    out = pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns, UTC]")
    finite = numbers[np.isfinite(numbers.to_numpy(dtype="float64", na_value=np.nan))]
    if finite.empty:
        return out
    unit = _epoch_unit(float(finite.abs().median()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = pd.to_datetime(finite, unit=unit, utc=True, errors="coerce")
    out.loc[finite.index] = converted.astype("datetime64[ns, UTC]")
    return out


def parse_times(values: pd.Series) -> tuple[pd.Series, pd.Series | None]:
    """Timestamps from a column of ISO text, ``YYYY-MM-DD HH:MM:SS.mmm``, epoch s/ms, or a mixture.

    Returns ``(timestamps, elapsed_seconds)``: when the column holds small numbers (seconds since
    the start, as ``TrainingJobAnalytics`` writes), the timestamps are NaT and the seconds come back
    as the second item; otherwise the second item is ``None``. Unreadable cells become NaT.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(values.dtype):
        return to_utc(values), None
    if pd.api.types.is_bool_dtype(values.dtype):
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]"), None
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        finite = numbers[np.isfinite(numbers.to_numpy())]
        if len(finite) and float(finite.abs().max()) < RELATIVE_SECONDS_MAX:
            return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]"), numbers
        return _from_epoch_numbers(numbers), None
    text = values.astype("str").str.strip()
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    is_number = numbers.notna()
    if is_number.all() and len(numbers):
        return parse_times(numbers)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if is_number.any():
        out.loc[is_number] = _from_epoch_numbers(numbers[is_number])
    rest = text[~is_number & values.notna()]
    if rest.empty:
        return out, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(rest, utc=True, errors="coerce", format="ISO8601")
        missing = parsed.isna()
        if missing.any() and int(missing.sum()) <= MIXED_PARSE_MAX:
            parsed.loc[missing] = pd.to_datetime(rest[missing], utc=True, errors="coerce", format="mixed")
    out.loc[rest.index] = to_utc(parsed)
    return out, None


def finish(frame: pd.DataFrame, ctx: Context, notes: list[str], *, require_time: bool = True) -> pd.DataFrame:
    """Drop (and count) rows that cannot be charted, then return the canonical frame.

    Rows without a finite value are always dropped; when ``require_time`` is true, rows whose
    timestamp could not be read are dropped too (a NaT there would be a parse failure, not
    relative time).
    """
    values = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    bad_value = ~np.isfinite(values.to_numpy())
    if bad_value.any():
        notes.append(
            f"{plural(int(bad_value.sum()), 'row')} with a missing, non-numeric or infinite value "
            "were skipped."
        )
    keep = ~bad_value
    if require_time and "timestamp" in frame.columns:
        bad_time = frame["timestamp"].isna().to_numpy() & keep
        if bad_time.any():
            notes.append(f"{plural(int(bad_time.sum()), 'row')} with an unreadable timestamp were skipped.")
            keep &= ~bad_time
    out = frame.loc[keep].assign(value=values[keep])
    return validate_metrics(out, source=ctx.name)


@functools.cache
def _empty_jobs_template() -> pd.DataFrame:
    return empty_jobs()


def jobs_or_empty(jobs: pd.DataFrame | None, ctx: Context) -> pd.DataFrame:
    """A validated jobs frame, or ``empty_jobs()`` when the format has no job metadata."""
    if jobs is None or jobs.empty:
        return _empty_jobs_template().copy()  # building it costs ~20 ms; uploads are parsed often
    return validate_jobs(jobs, source=ctx.name)


def split_host(value: object) -> tuple[str | None, str | None]:
    """``"job/algo-1"`` -> ``("job", "algo-1")``; a value without ``/`` -> ``(value, None)``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None, None
    text = str(value)
    if "/" in text:
        job, rest = text.split("/", 1)
        return job, rest
    return text, None


def stream_job_host(stream: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Job and host from log-stream names ``<job>/algo-<n>-<epoch seconds>``."""
    text = stream.astype("str")
    job = text.str.split("/", n=1).str[0]
    host = text.str.extract(r"^[^/]*/(algo-\d+)", expand=False)
    return job, host


def _job_starts(jobs: pd.DataFrame) -> pd.Series:
    """Each known job's start time (``start``, else ``created``), indexed by job name, NaT dropped."""
    known = jobs.drop_duplicates("job", keep="last").set_index("job")
    start = pd.Series(pd.NaT, index=known.index, dtype="datetime64[ns, UTC]")
    for col in ("created", "start"):  # start wins where both are known
        if col in known.columns:
            stamps = to_utc(pd.Series(known[col]))
            start = stamps.where(stamps.notna(), start)
    return start.dropna()


def _relative_only(metrics: pd.DataFrame) -> pd.Series:
    """Rows that carry seconds since the start but no clock time."""
    if "elapsed_s" not in metrics.columns:
        return pd.Series(False, index=metrics.index)
    elapsed = pd.to_numeric(metrics["elapsed_s"], errors="coerce")
    return metrics["timestamp"].isna() & elapsed.notna()


@dataclass(frozen=True)
class AnchorChoices:
    """Relative-time runs that no loaded job names, the jobs that could be theirs, and a best guess.

    A ``TrainingJobAnalytics`` export carries no job name, so its run is named after the file. When
    the file is not named exactly after its job, ``unplaced`` lists it, ``candidates`` the loaded jobs
    with a start time and no metric curves of their own (a description's final values do not
    count), and ``suggested`` pairs a run with a job when only one fits: the file name contains
    exactly one candidate's name (or one candidate's name contains the file name), or there is
    exactly one run and one candidate.
    """

    unplaced: list[str]
    candidates: list[str]
    suggested: dict[str, str]


def anchor_choices(metrics: pd.DataFrame, jobs: pd.DataFrame | None) -> AnchorChoices:
    """What :func:`anchor_relative_times` could still place given ``links`` (see :class:`AnchorChoices`)."""
    if jobs is None or jobs.empty or metrics.empty:
        return AnchorChoices([], [], {})
    starts = _job_starts(jobs)
    relative = _relative_only(metrics)
    unplaced = sorted(set(metrics.loc[relative, "job"].astype("str")) - set(starts.index.astype("str")))
    per_metric = metrics.groupby(["job", "metric"], observed=True).size()
    with_curves = set(per_metric[per_metric > 1].index.get_level_values("job").astype("str"))
    candidates = sorted(str(j) for j in starts.index if str(j) not in with_curves)
    if not unplaced or not candidates:
        return AnchorChoices(unplaced, candidates, {})
    suggested: dict[str, str] = {}
    for run in unplaced:
        folded = run.lower()
        named = [c for c in candidates if c.lower() in folded or folded in c.lower()]
        if len(named) == 1:
            suggested[run] = named[0]
    if not suggested and len(unplaced) == 1 and len(candidates) == 1:
        suggested[unplaced[0]] = candidates[0]
    taken = list(suggested.values())
    if len(taken) != len(set(taken)):  # two files claim one job: guess nothing rather than wrong
        suggested = {}
    return AnchorChoices(unplaced, candidates, suggested)


def anchor_relative_times(
    metrics: pd.DataFrame, jobs: pd.DataFrame | None, links: dict[str, str] | None = None
) -> pd.DataFrame:
    """Give rows that carry only seconds since the start (``elapsed_s``) a clock time from the jobs table.

    A ``TrainingJobAnalytics`` export counts seconds from the job's ``TrainingStartTime``; once the
    job's description or a jobs list (or an AWS load) says when it started, ``timestamp`` becomes
    ``start + elapsed_s``, so the run appears on the time chart. Jobs without a ``start`` fall back
    to ``created`` (a list of jobs carries only the creation time, a few minutes early). ``links``
    maps a run named after its file to the job it came from (see :func:`anchor_choices`): its rows
    take that job's name first. Rows that already have a timestamp, and jobs the table does not know,
    are left alone. Returns ``metrics`` itself when there is nothing to anchor, else a new frame with
    ``attrs["anchored_jobs"]`` (and ``attrs["linked_runs"]``, the links applied).
    """
    relative = _relative_only(metrics)
    if jobs is None or jobs.empty or not relative.any():
        return metrics
    start = _job_starts(jobs)
    applied = {
        run: job
        for run, job in (links or {}).items()
        if job in start.index and run != job and bool((metrics["job"] == run).any())
    }
    todo = relative & (metrics["job"].isin(start.index) | metrics["job"].isin(list(applied)))
    if not todo.any():
        return metrics
    out = metrics.copy()
    if applied:
        renamed = out["job"].map(lambda name: applied.get(name, name)).astype(out["job"].dtype)
        out["job"] = renamed
    elapsed = pd.to_numeric(out["elapsed_s"], errors="coerce")
    anchors = out.loc[todo, "job"].map(start)
    out.loc[todo, "timestamp"] = (anchors + pd.to_timedelta(elapsed[todo], unit="s")).astype(
        out["timestamp"].dtype
    )
    out.attrs["anchored_jobs"] = sorted(set(out.loc[todo, "job"].astype("str")))
    if applied:
        out.attrs["linked_runs"] = dict(sorted(applied.items()))
    return out
