"""SageMaker CLI JSON: DescribeTrainingJob, ListTrainingJobs and Search(TrainingJob) -> jobs frame.

:func:`job_row` is the one mapping from a job record to a jobs-frame row, used by the live loader
(``lib.sources.aws.training_jobs``) too: boto3 datetimes, ISO strings or epoch seconds all work.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from lib.schema import utc_timestamp, validate_jobs
from lib.sources.base import Context, Parsed, as_list, fail, finish, plural

if TYPE_CHECKING:
    pass


def _seconds(value: object) -> float:
    """A number of seconds from a JSON/boto3 value (NaN if absent or unreadable)."""
    number = pd.to_numeric(pd.Series([value], dtype="object"), errors="coerce").iloc[0]
    return float(number) if pd.notna(number) else math.nan


def instance_type(rec: Mapping[str, Any]) -> str | None:
    """``ResourceConfig.InstanceType``, or the instance groups' types joined (heterogeneous clusters)."""
    config = rec.get("ResourceConfig")
    cfg: Mapping[str, Any] = config if isinstance(config, Mapping) else {}
    if cfg.get("InstanceType"):
        return str(cfg["InstanceType"])
    groups = [g for g in as_list(cfg.get("InstanceGroups")) if isinstance(g, Mapping)]
    return ",".join(sorted({str(g.get("InstanceType")) for g in groups})) or None


def instance_count(rec: Mapping[str, Any]) -> int:
    """``ResourceConfig.InstanceCount``, or the instance groups' counts summed (1 when nothing says)."""
    config = rec.get("ResourceConfig")
    cfg: Mapping[str, Any] = config if isinstance(config, Mapping) else {}
    count = _seconds(cfg.get("InstanceCount"))
    if count > 0:
        return int(count)
    groups = [g for g in as_list(cfg.get("InstanceGroups")) if isinstance(g, Mapping)]
    return (
        int(
            sum(
                max(_seconds(g.get("InstanceCount")), 0.0)
                for g in groups
                if pd.notna(_seconds(g.get("InstanceCount")))
            )
        )
        or 1
    )


def job_row(rec: Mapping[str, Any]) -> dict[str, Any]:
    """One jobs-frame row from a TrainingJob record: the one mapping for uploads and live loads.

    Takes a DescribeTrainingJob response, a Search result's ``TrainingJob`` or a ListTrainingJobs
    summary, as boto3 returns it (datetimes) or as the CLI prints it (ISO text or epoch seconds).
    ``training_seconds`` is ``TrainingTimeInSeconds`` when given, else end − start;
    ``phase.<Status>_s`` sums the ``SecondaryStatusTransitions`` durations per status (NaN while a
    phase is still running); hyperparameters become ``hp.<name>`` text, ``FinalMetricDataList``
    ``final.<metric>`` floats. ``spot`` is False when the record does not say (the API's default).
    """
    start, end = utc_timestamp(rec.get("TrainingStartTime")), utc_timestamp(rec.get("TrainingEndTime"))
    seconds = _seconds(rec.get("TrainingTimeInSeconds"))
    if math.isnan(seconds) and pd.notna(start) and pd.notna(end):
        seconds = (end - start).total_seconds()
    spec = rec.get("AlgorithmSpecification")
    algo: Mapping[str, Any] = spec if isinstance(spec, Mapping) else {}
    definitions = [d for d in as_list(algo.get("MetricDefinitions")) if isinstance(d, Mapping)]
    row: dict[str, Any] = {
        "job": str(rec.get("TrainingJobName", "")),
        "status": rec.get("TrainingJobStatus"),
        "created": utc_timestamp(rec.get("CreationTime")),
        "start": start,
        "end": end,
        "training_seconds": seconds,
        "billable_seconds": _seconds(rec.get("BillableTimeInSeconds")),
        "instance_type": instance_type(rec),
        "instance_count": instance_count(rec),
        "spot": bool(rec.get("EnableManagedSpotTraining", False)),
        "secondary_status": rec.get("SecondaryStatus"),
        "last_modified": utc_timestamp(rec.get("LastModifiedTime")),
        "failure_reason": rec.get("FailureReason"),
        "algorithm": algo.get("AlgorithmName") or algo.get("TrainingImage"),
        "metric_definitions": json.dumps(
            [{"Name": str(d.get("Name")), "Regex": str(d.get("Regex"))} for d in definitions if "Regex" in d]
        ),
    }
    phases: dict[str, float] = {}
    for tr in as_list(rec.get("SecondaryStatusTransitions")):
        if not isinstance(tr, Mapping) or tr.get("Status") is None:
            continue
        key = f"phase.{tr['Status']}_s"
        began, ended = utc_timestamp(tr.get("StartTime")), utc_timestamp(tr.get("EndTime"))
        if pd.isna(began) or pd.isna(ended):
            phases[key] = math.nan
            continue
        phases[key] = phases.get(key, 0.0) + (ended - began).total_seconds()
    row.update(phases)
    hyper = rec.get("HyperParameters")
    if isinstance(hyper, Mapping):
        row.update({f"hp.{k}": str(v) for k, v in sorted(hyper.items())})
    for item in as_list(rec.get("FinalMetricDataList")):
        if isinstance(item, Mapping) and item.get("MetricName") is not None:
            row[f"final.{item['MetricName']}"] = _seconds(item.get("Value"))
    return row


def jobs_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The jobs frame (``lib.schema.validate_jobs``) of TrainingJob records, one row each (:func:`job_row`).

    Columns: the core ones, then ``secondary_status``, ``last_modified``, ``failure_reason``,
    ``algorithm``, ``metric_definitions`` (JSON list of ``{"Name","Regex"}``), then the ``phase.*_s``,
    ``hp.*`` and ``final.*`` groups, each sorted.
    """
    rows = [job_row(r) for r in records]
    frame = validate_jobs(pd.DataFrame(rows) if rows else pd.DataFrame({"job": pd.Series([], dtype="str")}))
    if "last_modified" in frame.columns:
        frame["last_modified"] = pd.to_datetime(frame["last_modified"], utc=True)
    hp = sorted(c for c in frame.columns if c.startswith("hp."))
    for col in hp:
        frame[col] = frame[col].astype("str").where(frame[col].notna(), None)
    for col in (c for c in frame.columns if c.startswith(("final.", "phase."))):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    fixed = [c for c in frame.columns if not c.startswith(("hp.", "final.", "phase."))]
    grouped = [
        *sorted(c for c in frame.columns if c.startswith("phase.")),
        *hp,
        *sorted(c for c in frame.columns if c.startswith("final.")),
    ]
    return frame[[*fixed, *grouped]]


def jobs_from_describe(d: Mapping[str, Any]) -> pd.DataFrame:
    """One jobs-frame row (``lib.schema.validate_jobs``) from a DescribeTrainingJob response.

    Also accepts a ``Search`` result's ``TrainingJob`` or a ``ListTrainingJobs`` summary (missing
    fields stay empty). Same mapping as the live loader (:func:`job_row`), phases included.

    Examples
    --------
    >>> jobs_from_describe({"TrainingJobName": "a", "HyperParameters": {"lr": "0.1"}})["hp.lr"][0]
    '0.1'
    """
    return jobs_frame([d])


def final_metrics(d: Mapping[str, Any]) -> pd.DataFrame:
    """``FinalMetricDataList`` as raw metric rows (job, metric, timestamp, value)."""
    rows = [
        {
            "job": str(d.get("TrainingJobName", "")),
            "metric": str(item.get("MetricName")),
            "timestamp": utc_timestamp(item.get("Timestamp")),
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
    return Parsed("training_job_list", metrics, jobs=jobs_frame(records), notes=notes, summary=True)
