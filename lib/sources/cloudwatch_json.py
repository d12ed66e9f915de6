"""AWS CLI JSON of CloudWatch: ``get-metric-data``, ``get-metric-statistics`` and Logs events.

* ``get-metric-data``: ``MetricDataResults[]`` of ``{Id, Label, Timestamps, Values, StatusCode}``.
  The job comes from the label only when it follows the ``"<job> <metric>"`` pattern our loader and
  notebooks write (see :func:`split_label`); any other label (``"train:accuracy Average"``,
  CloudWatch's default, or a metric-math label such as ``"Avg Total IOPS"``) is the metric name
  and the job is the file name. ``PartialData`` series are kept and marked in a ``partial`` column.
* ``get-metric-statistics``: ``{Label, Datapoints[]}`` (unordered); value = ``Average`` (else the
  first statistic present); no dimension in the file, so the job is the file name.
* ``filter-log-events`` / ``get-log-events``: ``events[]`` of ``{logStreamName?, timestamp (ms),
  message}``; job and host from the stream name ``<job>/algo-<n>-<epoch>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from lib.sources.base import Context, Parsed, as_list, fail, finish, plural, stream_job_host
from lib.sources.logs import hits_to_metrics, join_lines, scan_text

STATISTICS: Final = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
#: CloudWatch statistics and extended statistics (p90, p99.9, tm99, TM(10%:90%), IQM ...).
_STAT_SUFFIX = re.compile(
    r"^(Average|Sum|Minimum|Maximum|SampleCount|IQM|[pP]\d+(\.\d+)?"
    r"|(tm|tc|ts|wm|pr|TM|TC|TS|WM|PR)(\d+(\.\d+)?|\(.*\)))$"
)


def split_label(label: str, stem: str) -> tuple[str, str, str | None, bool]:
    """``(job, metric, stat, job_from_label)`` from a get-metric-data label.

    Parameters
    ----------
    label
        The series' ``Label`` (or its ``Id`` when there is no label).
    stem
        The file name without extension: the job when the label names none.

    Returns
    -------
    tuple
        ``(job, metric, stat, job_from_label)``. A trailing CloudWatch statistic (``Average``,
        ``p90``, ``tm99`` ...) is split off as ``stat``. The rest is read as ``"<job> <metric>"``
        only when it is exactly two words, the first is a valid training-job name, and either the
        job has a hyphen (SageMaker's generated ``<base>-YYYY-MM-DD-HH-MM-SS-mmm`` names) or the
        metric has a colon (SageMaker's ``train:accuracy`` style): the label our loader and
        notebooks write. Anything else, e.g. the metric-math label ``"Avg Total IOPS"`` or
        ``"CPU Utilization"``, is the metric name, and the job is ``stem``.
    """
    parts = label.strip().split()
    stat = None
    if len(parts) >= 2 and _STAT_SUFFIX.match(parts[-1]):
        stat = parts[-1]
        parts = parts[:-1]
    if len(parts) == 2 and _JOB_NAME.match(parts[0]) and ("-" in parts[0] or ":" in parts[1]):
        return parts[0], parts[1], stat, True
    return stem, " ".join(parts) or label, stat, False


def _records(doc: Any) -> list[Mapping[str, Any]]:
    """Pages of a paginated dump (a list of responses) or one response."""
    if isinstance(doc, list):
        return [page for page in doc if isinstance(page, Mapping)]
    return [doc] if isinstance(doc, Mapping) else []


def parse_metric_data(doc: Any, ctx: Context) -> Parsed:
    """``aws cloudwatch get-metric-data`` output -> canonical metrics."""
    notes: list[str] = []
    frames, stemmed, partial_series, mismatched = [], 0, 0, 0
    for page in _records(doc):
        for result in as_list(page.get("MetricDataResults")):
            if not isinstance(result, Mapping):
                continue
            label = str(result.get("Label") or result.get("Id") or "metric")
            job, metric, stat, from_label = split_label(label, ctx.stem)
            stemmed += not from_label
            stamps = as_list(result.get("Timestamps"))
            values = as_list(result.get("Values"))
            if not isinstance(stamps, list) or not isinstance(values, list):
                continue
            if len(stamps) != len(values):
                mismatched += 1
            n = min(len(stamps), len(values))
            partial = result.get("StatusCode") == "PartialData"
            partial_series += partial
            frames.append(
                pd.DataFrame(
                    {
                        "job": job,
                        "metric": metric,
                        "timestamp": pd.Series(stamps[:n], dtype="object"),
                        "value": pd.Series(values[:n], dtype="object"),
                        "stat": stat or "",
                        "partial": partial,
                    }
                )
            )
    if not frames:
        raise fail(ctx, "this get-metric-data JSON holds no MetricDataResults with data.")
    frame = pd.concat(frames, ignore_index=True)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, errors="coerce", format="mixed")
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    frame["partial"] = frame["partial"].astype("bool")
    frame["stat"] = frame["stat"].replace("", pd.NA).astype("str")
    if stemmed:
        notes.append(
            f"{plural(stemmed, 'series')} carry no job name in the label; used the file name ({ctx.stem})."
        )
    if partial_series:
        notes.append(
            f"{plural(partial_series, 'series')} came back as PartialData (marked in the 'partial' column); "
            "fetch the rest with the NextToken."
        )
    if mismatched:
        notes.append(
            f"{plural(mismatched, 'series')} had different numbers of timestamps and values; "
            "cut to the shorter."
        )
    return Parsed("cloudwatch_metric_data", finish(frame, ctx, notes), notes=notes)


def parse_metric_statistics(doc: Mapping[str, Any], ctx: Context) -> Parsed:
    """``aws cloudwatch get-metric-statistics`` output -> canonical metrics (job = file name)."""
    notes = [
        f"get-metric-statistics output carries no dimension: job name taken from the file name ({ctx.stem})."
    ]
    metric = str(doc.get("Label") or ctx.stem)
    points = [p for p in as_list(doc.get("Datapoints")) if isinstance(p, Mapping)]
    if not points:
        raise fail(ctx, "this get-metric-statistics JSON has no Datapoints.")
    stat = next((s for s in STATISTICS if any(s in p for p in points)), None)
    if stat is None:
        raise fail(ctx, "the Datapoints hold none of Average, Sum, Minimum, Maximum, SampleCount.")
    frame = pd.DataFrame(
        {
            "job": ctx.stem,
            "metric": metric,
            "timestamp": pd.to_datetime(
                pd.Series([p.get("Timestamp") for p in points], dtype="object"),
                utc=True,
                errors="coerce",
                format="mixed",
            ),
            "value": pd.to_numeric(pd.Series([p.get(stat) for p in points], dtype="object"), errors="coerce"),
            "stat": stat,
        }
    )
    if stat != "Average":
        notes.append(f"No Average in the datapoints; charted {stat}.")
    return Parsed("cloudwatch_metric_statistics", finish(frame, ctx, notes), notes=notes)


def parse_log_events(doc: Any, ctx: Context) -> Parsed:
    """``aws logs filter-log-events`` / ``get-log-events`` output -> metrics read from the messages."""
    notes: list[str] = []
    events = [e for page in _records(doc) for e in as_list(page.get("events")) if isinstance(e, Mapping)]
    if not events:
        raise fail(ctx, "this CloudWatch Logs JSON has no events.")
    text, _ = join_lines(str(e.get("message", "")) for e in events)
    hits, n_long = scan_text(text, metric_definitions=ctx.metric_definitions)
    if n_long:
        notes.append(f"{plural(n_long, 'message')} too long to search for metrics were skipped.")
    if hits.empty:
        raise fail(
            ctx,
            f"these {plural(len(events), 'log event')} hold no metric line.",
            hint="Add metric definitions (name + regex) for your algorithm and upload again.",
        )
    streams = pd.Series([e.get("logStreamName") for e in events], dtype="object")
    if streams.notna().any():
        job, host = stream_job_host(streams.fillna(ctx.stem))
    else:
        job, host = pd.Series(ctx.stem, index=streams.index, dtype="str"), None
        notes.append(f"The events carry no log stream name: job name taken from the file name ({ctx.stem}).")
    millis = pd.to_numeric(pd.Series([e.get("timestamp") for e in events], dtype="object"), errors="coerce")
    timestamps = pd.to_datetime(millis, unit="ms", utc=True, errors="coerce").astype("datetime64[ns, UTC]")
    frame = hits_to_metrics(hits, job=job, host=host, timestamps=timestamps)
    return Parsed("cloudwatch_log_events", finish(frame, ctx, notes, require_time=False), notes=notes)
