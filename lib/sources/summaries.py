"""One-row-per-job exports: ExperimentAnalytics and HyperparameterTuningJobAnalytics CSVs.

They become a jobs frame (status, times, ``hp.<name>`` as text, ``final.<metric>`` as float) plus
metric rows for the final values: at ``TrainingEndTime`` where the file has it, NaT otherwise.
"""

from __future__ import annotations

import re
from typing import Final

import pandas as pd

from lib.sources.base import Context, Parsed, fail, finish, normalise_header, parse_values
from lib.sources.csv_table import read_table

_TUNING_KNOWN: Final = {
    "trainingjobname",
    "trainingjobstatus",
    "finalobjectivevalue",
    "trainingstarttime",
    "trainingendtime",
    "trainingelapsedtimeseconds",
    "trainingjobdefinitionname",
    "tuningjobname",
}
_EXPERIMENT_KNOWN: Final = {"trialcomponentname", "displayname", "sourcearn", "trials", "experiments"}
_STAT = re.compile(r"^(?P<metric>.+) - (?P<stat>Min|Max|Avg|StdDev|Last|Count)$")
_ARTIFACT = re.compile(r"^.+ - (MediaType|Value)$")
OBJECTIVE: Final = "FinalObjectiveValue"


def _is_index(name: str) -> bool:
    return name == "unnamed" or normalise_header(name) in {"", "unnamed0", "index"}


def _column(table: pd.DataFrame, key: str) -> pd.Series | None:
    for col in table.columns:
        if normalise_header(col) == key:
            return table[col]
    return None


def parse_tuning(raw: bytes, sep: str, names: list[str], ctx: Context, notes: list[str]) -> Parsed:
    """``HyperparameterTuningJobAnalytics(...).dataframe().to_csv()`` -> jobs + final objective rows."""
    table = read_table(raw, sep, names, notes, as_text=True)
    if table.empty:
        raise fail(ctx, "this tuning-job CSV has a header but no rows.")
    job = table[next(c for c in names if normalise_header(c) == "trainingjobname")]
    status, start, end = (
        _column(table, k) for k in ("trainingjobstatus", "trainingstarttime", "trainingendtime")
    )
    elapsed = _column(table, "trainingelapsedtimeseconds")
    objective = parse_values(table[next(c for c in names if normalise_header(c) == "finalobjectivevalue")])
    jobs = pd.DataFrame(
        {"job": job, "status": status, "start": start, "end": end, "training_seconds": elapsed}
    )
    for col in names:
        if not _is_index(col) and normalise_header(col) not in _TUNING_KNOWN:
            jobs[f"hp.{col}"] = table[col].astype("str")
    jobs[f"final.{OBJECTIVE}"] = objective
    ends = pd.to_datetime(end, utc=True, errors="coerce") if end is not None else pd.NaT
    metrics = pd.DataFrame({"job": job, "metric": OBJECTIVE, "timestamp": ends, "value": objective})
    notes.append(
        "Tuning analytics hold one final objective value per job (the objective's name is not in the file)."
    )
    return Parsed(
        "tuning_job_analytics",
        finish(metrics, ctx, notes, require_time=False),
        jobs=jobs,
        notes=notes,
        summary=True,
    )


def parse_experiments(raw: bytes, sep: str, names: list[str], ctx: Context, notes: list[str]) -> Parsed:
    """``ExperimentAnalytics(...).dataframe().to_csv()`` -> jobs (hp.*, final.* from "<metric> - Last")."""
    table = read_table(raw, sep, names, notes, as_text=True)
    if table.empty:
        raise fail(ctx, "this experiments CSV has a header but no rows.")
    arn = _column(table, "sourcearn")
    display = _column(table, "displayname")
    component = _column(table, "trialcomponentname")
    job = pd.Series(pd.NA, index=table.index, dtype="str")
    if arn is not None:
        job = arn.astype("str").str.extract(r"training-job/(.+)$", expand=False)
    if display is not None:
        job = job.where(job.notna(), display.astype("str"))
    if component is not None:
        job = job.where(
            job.notna(), component.astype("str").str.replace(r"-aws-training-job$", "", regex=True)
        )
    job = job.fillna(ctx.stem)
    jobs = pd.DataFrame({"job": job})
    metric_rows = []
    for col in names:
        if _is_index(col) or normalise_header(col) in _EXPERIMENT_KNOWN or _ARTIFACT.match(col):
            continue
        stat = _STAT.match(col)
        if stat is None:
            jobs[f"hp.{col}"] = table[col].astype("str")
        elif stat["stat"] == "Last":
            values = parse_values(table[col])
            jobs[f"final.{stat['metric']}"] = values
            metric_rows.append(
                pd.DataFrame({"job": job, "metric": stat["metric"], "value": values, "stat": "Last"})
            )
    if metric_rows:
        metrics = pd.concat(metric_rows, ignore_index=True)
        metrics["timestamp"] = pd.Series(pd.NaT, index=metrics.index, dtype="datetime64[ns, UTC]")
        notes.append(
            "Experiment analytics hold summaries only: each metric's last value is shown, without time."
        )
    else:
        metrics = pd.DataFrame({"job": [], "metric": [], "timestamp": [], "value": []})
    return Parsed(
        "experiment_analytics",
        finish(metrics, ctx, notes, require_time=False),
        jobs=jobs,
        notes=notes,
        summary=True,
    )
