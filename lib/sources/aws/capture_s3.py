"""An endpoint's data capture for a time range, straight from S3, as ``read_capture`` reads it.

Model Monitor writes capture to ``<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl``
(UTC hour of the write). :func:`load_endpoint_capture` lists only the hour prefixes that intersect
``[start, end)`` (one ListObjectsV2 per hour and variant, never the whole bucket), fetches the
objects concurrently with one shared client (boto3 clients are thread-safe, sessions are not), and
parses them with :func:`lib.sources.capture.read_capture_report`.

Nothing hangs: every request has the shared botocore timeouts (``RETRY_CONFIG``: connect 10 s,
read 60 s, adaptive retries) and the whole load an overall ``deadline`` (default 600 s), after
which what has been read is returned with a warning.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import boto3
import botocore.exceptions as bexc
import numpy as np
import pandas as pd

from lib.errors import DataSourceError, InputError
from lib.sources.aws import session as aws
from lib.sources.aws.common import optional_utc
from lib.sources.aws.endpoints import describe_capture
from lib.sources.aws.s3files import NamedBytes, parse_s3_uri, read_body, s3_error
from lib.sources.capture import read_capture_report
from lib.sources.monitor_files import Baseline

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: ``progress(done, total, text)``: ``done`` of ``total`` steps (hour listings, then objects).
CaptureProgress = Callable[[int, int, str], None]

#: Threads fetching objects (I/O bound; stays under botocore's 10 pooled connections per client).
WORKERS: Final = 8
#: Overall time budget of one load, seconds.
DEADLINE: Final = 600.0
#: At most this many hour prefixes (about three months) per load.
MAX_HOURS: Final = 24 * 92
_SHOWN_PREFIXES: Final = 3


@dataclass(frozen=True)
class _Listing:
    keys: list[str]
    prefixes: list[str]
    warnings: list[str]


def hour_prefixes(base: str, start: dt.datetime, end: dt.datetime) -> list[str]:
    """``<base>yyyy/mm/dd/hh/`` for every UTC hour that intersects ``[start, end)``."""
    hour = start.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    out: list[str] = []
    while hour < end:
        out.append(f"{base}{hour:%Y/%m/%d/%H}/")
        hour += dt.timedelta(hours=1)
    return out


def load_endpoint_capture(
    session: boto3.Session,
    endpoint: str,
    start: dt.datetime | pd.Timestamp | str,
    end: dt.datetime | pd.Timestamp | str,
    *,
    variant: str | None = None,
    max_records: int | None = None,
    progress: CaptureProgress | None = None,
    feature_names: Sequence[str] | Baseline | None = None,
    destination: str | None = None,
    seed: int = 0,
    workers: int = WORKERS,
    deadline: float | None = DEADLINE,
    endpoint_url: str | None = None,
) -> pd.DataFrame:
    """One row per captured inference of ``endpoint`` in ``[start, end)``, read from S3.

    Parameters
    ----------
    session
        From :func:`lib.make_session`.
    endpoint
        The SageMaker endpoint name.
    start, end
        The UTC time range (``datetime``, ``Timestamp`` or ISO text; naive means UTC), end excluded.
    variant
        One production variant; default: every variant found under ``<destination>/<endpoint>/``
        (a ``Delimiter`` listing).
    max_records
        Keep at most this many rows: a uniform random sample (``seed``), stated in
        ``frame.attrs["notes"]``.
    progress
        ``progress(done, total, text)`` after each hour listed and each object read.
    feature_names
        Names for positional (CSV) inputs, or a :class:`~lib.sources.monitor_files.Baseline` whose
        ``feature_names`` are used (Model Monitor's convention: the capture holds the inputs only,
        the baseline's first column is the label; see :func:`lib.read_capture`).
    destination
        The capture's ``s3://`` prefix; default: the endpoint's ``DataCaptureConfig`` (needs
        ``sagemaker:DescribeEndpoint``). Giving it skips SageMaker altogether.
    seed
        Seed of the ``max_records`` sample.
    workers
        Threads fetching objects (one shared client).
    deadline
        Overall seconds for the load (None: no limit beyond the per-request timeouts, connect 10 s
        and read 60 s); when it passes, what was read is returned with a warning.
    endpoint_url
        One endpoint URL for S3 and SageMaker (moto, LocalStack); default: boto3's resolution.

    Returns
    -------
    pandas.DataFrame
        As :func:`lib.read_capture`: ``inference_time`` (UTC), ``event_id``, the features,
        ``prediction``; rows outside ``[start, end)`` dropped. ``frame.attrs``: ``n_records``,
        ``n_bad``, ``problems`` (as ``read_capture``), ``notes``, ``n_objects``, ``prefixes`` (the
        hour prefixes listed), ``n_outside`` (rows dropped for their time), ``warnings`` (objects or
        hours that failed; empty when everything loaded) and ``partial``.

    Raises
    ------
    InputError
        For a bad time range or arguments, or when no object holds a usable capture record.
    DataSourceError
        When the endpoint has no capture destination, no object exists under the hour prefixes
        (the message names them), or every listing/read failed (names the missing permission,
        the other region, the throttled call ...).
    """
    t0, t1 = optional_utc(start, "start"), optional_utc(end, "end")
    if t0 is None or t1 is None:
        raise InputError("Both start and end are needed.", hint="E.g. the last 24 hours.")
    if t1 <= t0:
        raise InputError(f"end ({t1:%Y-%m-%d %H:%M}) must be after start ({t0:%Y-%m-%d %H:%M}).")
    if max_records is not None and max_records < 1:
        raise InputError("max_records must be at least 1.")
    report = progress or (lambda done, total, text: None)
    action = aws.session_deadline(session)  # the user action's own deadline, when it has one
    if action is not None:
        deadline = action.remaining() if deadline is None else min(deadline, action.remaining())
    stop_at = None if deadline is None else time.monotonic() + deadline
    region = session.region_name
    if destination is None:
        sm = aws.make_client(session, "sagemaker", endpoint_url)
        try:
            capture = describe_capture(sm, endpoint, region=region)
        except DataSourceError as err:
            raise DataSourceError(
                err.message, hint=f"{err.hint or ''} Or pass the capture's S3 URI as destination.".strip()
            ) from err
        if not capture.destination:
            raise DataSourceError(
                f"Endpoint {endpoint} has no data capture configured.",
                hint="Enable data capture on the endpoint (DataCaptureConfig), or pass its S3 URI.",
            )
        destination = capture.destination
    bucket, root = parse_s3_uri(destination)
    base = f"{root.rstrip('/')}/{endpoint}/" if root.strip("/") else f"{endpoint}/"
    s3 = aws.make_client(session, "s3", endpoint_url)
    if variant:
        variants = [variant]
    else:
        variants = _variants(s3, bucket, base, region)
        if not variants:
            raise DataSourceError(
                f"No data capture under s3://{bucket}/{base} (no variant folders).",
                hint="Check the endpoint name and the capture destination, and that the endpoint "
                "has received requests since capture was enabled.",
            )
    prefixes = [p for v in variants for p in hour_prefixes(f"{base}{v}/", t0, t1)]
    if len(prefixes) > MAX_HOURS * len(variants):
        raise InputError(
            f"{len(prefixes) // len(variants)} hours requested; at most {MAX_HOURS} per load.",
            hint="Choose a shorter range.",
        )
    # not a `with` block: on the deadline, requests still in flight must not be waited for
    pool = cf.ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="capture-s3")
    try:
        listing = _list(pool, s3, bucket, prefixes, region, report, stop_at)
        if not listing.keys and action is not None and action.remaining() <= 0:
            raise action.timed_out()
        if not listing.keys:
            shown = ", ".join(f"s3://{bucket}/{p}" for p in prefixes[:_SHOWN_PREFIXES])
            more = f" and {len(prefixes) - _SHOWN_PREFIXES} more" if len(prefixes) > _SHOWN_PREFIXES else ""
            why = f" ({listing.warnings[0]})" if listing.warnings else ""
            raise DataSourceError(
                f"No data capture objects for {endpoint} between {t0:%Y-%m-%d %H:%M} and "
                f"{t1:%Y-%m-%d %H:%M} UTC{why}; tried {len(prefixes)} hour prefix(es): {shown}{more}.",
                hint="Widen the time range, or check that the endpoint received traffic then.",
            )
        bodies, warnings = _fetch(pool, s3, bucket, listing.keys, region, report, stop_at)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    warnings = listing.warnings + warnings
    if not bodies and action is not None and action.remaining() <= 0:
        raise action.timed_out()
    if not bodies:
        raise DataSourceError(
            f"None of the {len(listing.keys)} capture object(s) could be read: {warnings[0]}",
            hint="Fix the first problem and retry.",
        )
    names = feature_names.feature_names if isinstance(feature_names, Baseline) else feature_names
    result = read_capture_report(
        [NamedBytes(data, key) for key, data in sorted(bodies.items())], feature_names=names
    )
    frame = result.frame
    notes = list(result.notes)
    times = frame["inference_time"]
    inside = (times >= pd.Timestamp(t0)) & (times < pd.Timestamp(t1))
    n_outside = int((~inside).sum())
    label_column = frame.attrs.get("label_column")
    frame = frame.loc[inside.to_numpy()].reset_index(drop=True)
    if n_outside:
        notes.append(
            f"{n_outside} row(s) outside {t0:%Y-%m-%d %H:%M}–{t1:%Y-%m-%d %H:%M} UTC (or without an "
            "inference time) were dropped."
        )
    if max_records is not None and len(frame) > max_records:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(frame), size=max_records, replace=False))
        notes.append(
            f"A uniform random sample of {max_records:,} of the {len(frame):,} rows in range is kept "
            f"(max_records; seed {seed})."
        )
        frame = frame.iloc[keep].reset_index(drop=True)
    if warnings:
        notes.append(
            f"Partial result: {len(warnings)} listing(s)/object(s) could not be read (see warnings)."
        )
    frame.attrs = {
        "n_records": result.n_records,
        "n_bad": result.n_bad,
        "problems": result.problems,
        "notes": tuple(notes),
        "n_objects": len(bodies),
        "prefixes": tuple(f"s3://{bucket}/{p}" for p in prefixes),
        "n_outside": n_outside,
        "warnings": tuple(warnings),
        "partial": bool(warnings),
        "endpoint": endpoint,
    }
    if label_column is not None:
        frame.attrs["label_column"] = label_column
    return frame


def _call(what: str, bucket: str, key: str, region: str | None, fn: Callable[[], Any]) -> Any:
    with aws.aws_errors("s3", region=region, what=what):
        try:
            return fn()
        except bexc.ClientError as err:
            raise s3_error(err, bucket=bucket, key=key, region=region, what=what) from err


def _variants(s3: S3Client, bucket: str, base: str, region: str | None) -> list[str]:
    found: list[str] = []

    def run() -> None:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=base, Delimiter="/"):
            found.extend(p["Prefix"][len(base) :].strip("/") for p in page.get("CommonPrefixes", []))

    _call(f"listing the variants under s3://{bucket}/{base}", bucket, base, region, run)
    return sorted(v for v in found if v)


def _list_one(s3: S3Client, bucket: str, prefix: str, region: str | None) -> list[str]:
    keys: list[str] = []

    def run() -> None:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/"))

    _call(f"listing s3://{bucket}/{prefix}", bucket, prefix, region, run)
    return keys


def _remaining(stop_at: float | None) -> float | None:
    return None if stop_at is None else max(stop_at - time.monotonic(), 0.0)


@dataclass
class _Gathered:
    """What :func:`_gather` brought back: results by label, the errors met, the labels past the deadline."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: list[DataSourceError] = field(default_factory=list)
    late: list[str] = field(default_factory=list)


def _gather(
    pool: cf.ThreadPoolExecutor,
    jobs: Mapping[str, Callable[[], Any]],
    stop_at: float | None,
    report: CaptureProgress,
    done_text: str,
) -> _Gathered:
    """Run ``jobs`` (label → callable) in ``pool``, reporting ``done_text.format(done, total)`` after
    each; a job's ``DataSourceError`` is collected, not raised; jobs not finished by the deadline are
    cancelled and listed in ``late``."""
    out = _Gathered()
    futures = {pool.submit(fn): label for label, fn in jobs.items()}
    pending = set(futures)
    while pending:
        finished, pending = cf.wait(pending, timeout=_remaining(stop_at), return_when=cf.FIRST_COMPLETED)
        if not finished:  # deadline passed
            for f in pending:
                f.cancel()
            out.late = sorted(futures[f] for f in pending)
            return out
        for f in finished:
            try:
                out.results[futures[f]] = f.result()
            except DataSourceError as err:
                out.errors.append(err)
            count = len(out.results) + len(out.errors)
            report(count, len(jobs), done_text.format(count, len(jobs)))
    return out


def _list(
    pool: cf.ThreadPoolExecutor,
    s3: S3Client,
    bucket: str,
    prefixes: list[str],
    region: str | None,
    report: CaptureProgress,
    stop_at: float | None,
) -> _Listing:
    jobs = {p: functools.partial(_list_one, s3, bucket, p, region) for p in prefixes}
    got = _gather(pool, jobs, stop_at, report, "Listed {} of {} hour prefix(es)")
    warnings = [str(err) for err in got.errors]
    if got.late:
        warnings.append(
            f"Deadline passed: {len(got.late)} hour prefix(es) were not listed (first: {got.late[0]})."
        )
    if got.errors and len(got.errors) == len(prefixes):
        raise got.errors[0]  # nothing listed at all: the first reason is the reason
    keys = sorted({key for listed in got.results.values() for key in listed})
    return _Listing(keys, prefixes, warnings)


def _fetch(
    pool: cf.ThreadPoolExecutor,
    s3: S3Client,
    bucket: str,
    keys: list[str],
    region: str | None,
    report: CaptureProgress,
    stop_at: float | None,
) -> tuple[dict[str, bytes], list[str]]:
    jobs = {k: functools.partial(read_body, s3, bucket, k, region=region) for k in keys}
    got = _gather(pool, jobs, stop_at, report, "Read {} of {} capture object(s)")
    warnings = [str(err) for err in got.errors]
    if got.late:
        warnings.append(
            f"Deadline passed: {len(got.late)} object(s) were not read (first: s3://{bucket}/{got.late[0]})."
        )
    if got.errors and not got.results and not got.late:
        raise got.errors[0]
    return got.results, warnings
