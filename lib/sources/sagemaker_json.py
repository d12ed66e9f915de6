"""SageMaker CLI JSON: DescribeTrainingJob, ListTrainingJobs and Search(TrainingJob) -> jobs frame.

:func:`jobs_from_describe` is the one mapping from a job record to a jobs-frame row; the live
loader can reuse it for boto3 responses (datetimes, ISO strings or epoch seconds all work).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from lib.schema import validate_jobs
from lib.sources.base import Context, Parsed, as_list, fail, finish, plural

if TYPE_CHECKING:
    from pandas.api.typing import NaTType


def _time(value: object) -> pd.Timestamp | NaTType:
    """A UTC timestamp from a datetime, ISO text or epoch seconds (NaT if unreadable)."""
    if value is None or isinstance(value, bool):
        return pd.NaT
    try:
        if isinstance(value, int | float):
            return pd.Timestamp(float(value), unit="s", tz="UTC")
        stamp = pd.Timestamp(value) if isinstance(value, str | datetime) else pd.NaT
    except (ValueError, OverflowError, TypeError):
        return pd.NaT
    if pd.isna(stamp):
        return pd.NaT
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _row(d: Mapping[str, Any]) -> dict[str, Any]:
    config = d.get("ResourceConfig")
    resources: Mapping[str, Any] = config if isinstance(config, Mapping) else {}
    row: dict[str, Any] = {
        "job": str(d.get("TrainingJobName", "")),
        "status": d.get("TrainingJobStatus"),
        "created": _time(d.get("CreationTime")),
        "start": _time(d.get("TrainingStartTime")),
        "end": _time(d.get("TrainingEndTime")),
        "training_seconds": d.get("TrainingTimeInSeconds"),
        "billable_seconds": d.get("BillableTimeInSeconds"),
        "instance_type": resources.get("InstanceType"),
        "instance_count": resources.get("InstanceCount"),
        "spot": d.get("EnableManagedSpotTraining"),
    }
    hyper = d.get("HyperParameters")
    if isinstance(hyper, Mapping):
        row.update({f"hp.{k}": str(v) for k, v in hyper.items()})
    for item in as_list(d.get("FinalMetricDataList")):
        if isinstance(item, Mapping) and item.get("MetricName") is not None:
            value = pd.to_numeric(pd.Series([item.get("Value")], dtype="object"), errors="coerce").iloc[0]
            row[f"final.{item['MetricName']}"] = float(value)
    return row


def jobs_from_describe(d: Mapping[str, Any]) -> pd.DataFrame:
    """One jobs-frame row (``lib.schema.validate_jobs``) from a DescribeTrainingJob response.

    Also accepts a ``Search`` result's ``TrainingJob`` or a ``ListTrainingJobs`` summary (missing
    fields stay empty). Hyperparameters become ``hp.<name>`` text columns, ``FinalMetricDataList``
    becomes ``final.<metric>`` floats.

    Examples
    --------
    >>> jobs_from_describe({"TrainingJobName": "a", "HyperParameters": {"lr": "0.1"}})["hp.lr"][0]
    '0.1'
    """
    return _jobs([d])


def _jobs(records: list[Mapping[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame([_row(d) for d in records])
    for col in frame.columns:
        if col.startswith("hp."):
            frame[col] = frame[col].astype("str")
        elif col.startswith("final."):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    for col in ("created", "start", "end"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return validate_jobs(frame)


def final_metrics(d: Mapping[str, Any]) -> pd.DataFrame:
    """``FinalMetricDataList`` as raw metric rows (job, metric, timestamp, value)."""
    rows = [
        {
            "job": str(d.get("TrainingJobName", "")),
            "metric": str(item.get("MetricName")),
            "timestamp": _time(item.get("Timestamp")),
            "value": item.get("Value"),
        }
        for item in as_list(d.get("FinalMetricDataList"))
        if isinstance(item, Mapping) and item.get("MetricName") is not None
    ]
    frame = pd.DataFrame(rows, columns=["job", "metric", "timestamp", "value"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return frame


def is_describe(doc: object) -> bool:
    """A DescribeTrainingJob response (CLI JSON)."""
    return isinstance(doc, Mapping) and "TrainingJobName" in doc and "TrainingJobStatus" in doc


def job_records(doc: object) -> list[Mapping[str, Any]] | None:
    """Job records of a ListTrainingJobs page or a Search(TrainingJob) response, else ``None``."""
    if not isinstance(doc, Mapping):
        return None
    if isinstance(doc.get("TrainingJobSummaries"), list):
        return [s for s in doc["TrainingJobSummaries"] if isinstance(s, Mapping) and "TrainingJobName" in s]
    if isinstance(doc.get("Results"), list):
        found = [r.get("TrainingJob") for r in doc["Results"] if isinstance(r, Mapping)]
        return [t for t in found if isinstance(t, Mapping) and "TrainingJobName" in t]
    return None


def parse_describe(doc: Mapping[str, Any], ctx: Context) -> Parsed:
    """DescribeTrainingJob JSON -> one jobs row + the final metric values as metric rows."""
    notes = ["A job description holds only final metric values; upload logs or metrics for curves."]
    metrics = finish(final_metrics(doc), ctx, notes)
    return Parsed("describe_training_job", metrics, jobs=jobs_from_describe(doc), notes=notes, summary=True)


def parse_job_list(records: list[Mapping[str, Any]], ctx: Context) -> Parsed:
    """ListTrainingJobs / Search JSON -> jobs frame (+ final metrics that Search results carry)."""
    if not records:
        raise fail(ctx, "this job list is empty.")
    notes = [f"{plural(len(records), 'training job')} listed; this file has no metric curves."]
    metrics = finish(pd.concat([final_metrics(r) for r in records], ignore_index=True), ctx, notes)
    return Parsed("training_job_list", metrics, jobs=_jobs(records), notes=notes, summary=True)
