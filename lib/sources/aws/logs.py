"""Per-epoch metrics from training logs in CloudWatch Logs (FilterLogEvents)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import botocore.exceptions as bexc
import pandas as pd

from lib.errors import AppError, DataSourceError
from lib.sources.aws import session as aws
from lib.sources.aws.common import LoadWarning, Progress, progress_reporter
from lib.sources.logs import MetricDefinition, parse_log_lines

if TYPE_CHECKING:  # the stubs are dev-only (requirements-dev.in)
    from mypy_boto3_logs import CloudWatchLogsClient

LOG_GROUP: Final = "/aws/sagemaker/TrainingJobs"


MAX_STREAMS_PER_FILTER: Final = 100  # FilterLogEvents logStreamNames maximum


def fetch_log_metrics(
    logs: CloudWatchLogsClient,
    records: Sequence[Mapping[str, Any]],
    *,
    region: str | None = None,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, list[LoadWarning], list[DataSourceError], bool]:
    """Parse the jobs' log streams with their MetricDefinitions and the built-in line shapes.

    One DescribeLogStreams per job, then FilterLogEvents over ≤100 streams per call (moto ignores
    ``logStreamNamePrefix`` on FilterLogEvents, AWS allows only one prefix: explicit names work on
    both). Returns ``(rows, warnings, errors, any_job_succeeded)`` like :func:`fetch_metric_data`.
    """

    report = progress_reporter(progress)
    warnings: list[LoadWarning] = []
    errors: list[DataSourceError] = []
    stream_job: dict[str, str] = {}
    succeeded = False
    missing_group = False
    for n, rec in enumerate(records):
        job = str(rec["TrainingJobName"])
        report(0.5 * n / max(len(records), 1), f"Finding log streams ({n + 1}/{len(records)})")
        try:
            with aws.aws_errors("logs", region=region, what=f"listing log streams of {job}"):
                for listing in logs.get_paginator("describe_log_streams").paginate(
                    logGroupName=LOG_GROUP, logStreamNamePrefix=f"{job}/"
                ):
                    for info in listing.get("logStreams", []):
                        stream_job[info["logStreamName"]] = job
            succeeded = True
        except DataSourceError as err:
            if isinstance(err.__cause__, bexc.ClientError) and (
                aws.error_code(err.__cause__) == "ResourceNotFoundException"
            ):
                missing_group = True  # no job in this region has written logs yet
                succeeded = True
                continue
            if isinstance(err, aws.ACTION_ENDED):
                raise
            errors.append(err)
            warnings.append(LoadWarning("logs", err.message, err.hint, jobs=(job,), failed=True))
    if missing_group:
        warnings.append(LoadWarning("logs", f"The log group {LOG_GROUP} does not exist in this region."))

    events: dict[str, list[tuple[int, str]]] = {s: [] for s in stream_job}
    streams = list(stream_job)
    batches = [
        streams[i : i + MAX_STREAMS_PER_FILTER] for i in range(0, len(streams), MAX_STREAMS_PER_FILTER)
    ]
    read_ok = not batches
    for n, batch in enumerate(batches):
        report(0.5 + 0.4 * n / len(batches), f"Reading logs ({n + 1}/{len(batches)})")
        try:
            with aws.aws_errors("logs", region=region, what="reading training logs"):
                for page in logs.get_paginator("filter_log_events").paginate(
                    logGroupName=LOG_GROUP, logStreamNames=batch
                ):
                    for ev in page.get("events", []):
                        if ev.get("logStreamName") in events:
                            events[ev["logStreamName"]].append((int(ev["timestamp"]), str(ev["message"])))
            read_ok = True
        except aws.ACTION_ENDED:
            raise
        except DataSourceError as err:
            errors.append(err)
            failed_jobs = tuple(dict.fromkeys(stream_job[s] for s in batch))
            warnings.append(LoadWarning("logs", err.message, err.hint, jobs=failed_jobs, failed=True))
            for s in batch:
                events.pop(s, None)

    definitions = {str(r["TrainingJobName"]): _definitions(r, MetricDefinition, warnings) for r in records}
    frames = []
    for stream, evs in events.items():
        if not evs:
            continue
        job = stream_job[stream]
        evs.sort(key=lambda e: e[0])  # stable: keeps arrival order within a millisecond
        parsed = parse_log_lines(
            [m for _, m in evs],
            job=job,
            timestamps=[pd.Timestamp(t, unit="ms", tz="UTC") for t, _ in evs],
            host=_stream_host(stream, job),
            metric_definitions=definitions[job],
            builtin=True,
        )
        if len(parsed):
            frames.append(parsed.assign(source="logs", partial=False))
    report(1.0, "Logs parsed")
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return frame, warnings, errors, succeeded and read_ok


_HOST_IN_STREAM = re.compile(r"^(algo-\d+)")


def _stream_host(stream: str, job: str) -> str | None:
    rest = stream[len(job) + 1 :] if stream.startswith(f"{job}/") else stream
    found = _HOST_IN_STREAM.match(rest)
    return found.group(1) if found else (rest or None)


def _definitions(rec: Mapping[str, Any], cls: Any, warnings: list[LoadWarning]) -> list[Any]:
    out = []
    for d in (rec.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []:
        try:
            out.append(cls.from_dict(d))
        except (AppError, ValueError) as err:
            warnings.append(
                LoadWarning(
                    "logs",
                    f"Skipped metric definition {d.get('Name')!r} of {rec['TrainingJobName']}: {err}",
                    jobs=(str(rec["TrainingJobName"]),),
                )
            )
    return out
