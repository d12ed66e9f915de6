"""What the SageMaker/CloudWatch loaders share: progress, warnings, UTC times, error codes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import botocore.exceptions as bexc
import pandas as pd

from lib.errors import DataSourceError, InputError
from lib.schema import empty_metrics, utc_timestamp, validate_metrics
from lib.sources.aws import session as aws

#: ``progress(fraction, text)``; fraction in [0, 1], non-decreasing within one load.
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class LoadWarning:
    """Something that did not load (or loaded incompletely); the rest of the result is still valid."""

    stage: str  # "jobs" | "metrics" | "logs"
    message: str
    hint: str | None = None
    jobs: tuple[str, ...] = ()
    failed: bool = False  # something asked for is missing or incomplete: the result is partial


def is_partial(warnings: Sequence[LoadWarning]) -> bool:
    """True when any warning says data is missing (a failed call, an incomplete series)."""
    return any(w.failed for w in warnings)


def finish_metrics(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    parts = [f for f in frames if len(f)]
    if not parts:
        out = empty_metrics()
        out["host"] = pd.Series([], dtype="str")
        out["source"] = pd.Series([], dtype="str")
        out["partial"] = pd.Series([], dtype="bool")
        return out
    merged = pd.concat(parts, ignore_index=True)
    if "host" not in merged.columns:
        merged["host"] = None
    merged["partial"] = merged["partial"].fillna(False).astype("bool")
    out = validate_metrics(merged, source="CloudWatch")
    out["host"] = out["host"].astype("str").where(out["host"].notna(), None)
    out["source"] = out["source"].astype("str")
    return out


def progress_reporter(progress: Progress | None) -> Progress:
    if progress is None:
        return lambda fraction, text: None

    def report(fraction: float, text: str) -> None:
        progress(min(max(fraction, 0.0), 1.0), text)

    return report


def aws_error_code(err: DataSourceError) -> str:
    cause = err.__cause__
    return aws.error_code(cause) if isinstance(cause, bexc.ClientError) else ""


def is_access_denied(err: DataSourceError) -> bool:
    return aws_error_code(err) in aws.ACCESS_DENIED_CODES


def chunks_by_length(names: Sequence[str], limit: int) -> list[list[str]]:
    chunks: list[list[str]] = []
    current: list[str] = []
    length = 0
    for name in names:
        extra = len(name) + (1 if current else 0)
        if current and length + extra > limit:
            chunks.append(current)
            current, length, extra = [], 0, len(name)
        current.append(name)
        length += extra
    if current:
        chunks.append(current)
    return chunks


def utc_datetime(value: Any) -> dt.datetime:
    """A boto3/CLI time as an aware UTC ``datetime`` (via ``lib.schema.utc_timestamp``); ValueError if not."""
    stamp = utc_timestamp(value)
    if pd.isna(stamp):
        raise ValueError(f"not a date/time: {value!r}")
    return stamp.to_pydatetime()


def utc_or_none(value: Any) -> dt.datetime | None:
    return None if value is None else utc_datetime(value)


def optional_utc(value: Any, name: str) -> dt.datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return utc_datetime(value)
    except (ValueError, TypeError) as err:
        raise InputError(
            f"{name}: cannot read {value!r} as a date/time.", hint="Use e.g. 2024-05-01."
        ) from err


def search_time(value: dt.datetime) -> str:
    # Search wants "YYYY-mm-ddTHH:MM:SS" (UTC here).
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
