"""compare_datasets: drift between two datasets of any size, streamed in record batches on one machine."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from pyarrow import fs as pafs

from lib.drift.engine import plan_tests
from lib.drift.report import DriftReport
from lib.drift.rule import DEFAULTS
from lib.drift.summary.dataset import DriftSummaries, refine_summaries, summarise_frames
from lib.sources.aws.datasets_s3 import s3_filesystem
from lib.sources.datasets import (
    BATCH_ROWS,
    DatasetSource,
    compact_capture_files,
    head,
    iter_frames,
    resolve,
    split_uri,
)

if TYPE_CHECKING:
    import boto3

#: Rows of each side read first to infer the column kinds (as :func:`lib.drift.compare` does on a frame).
INFER_ROWS = 10_000

DatasetURI = str | Sequence[str]


def open_datasets(
    reference: DatasetURI,
    current: DatasetURI,
    *,
    format: str | None = None,
    session: boto3.Session | None = None,
    endpoint_url: str | None = None,
) -> tuple[DatasetSource, DatasetSource]:
    """Resolve both datasets; S3 ones through the app's session and endpoint (one filesystem)."""
    s3: list[pafs.FileSystem] = []

    def filesystem(uri: DatasetURI) -> pafs.FileSystem:
        first = uri if isinstance(uri, str) else (uri[0] if uri else "")
        if split_uri(first)[0]:
            if not s3:
                s3.append(s3_filesystem(session, endpoint_url=endpoint_url))
            return s3[0]
        return pafs.LocalFileSystem()

    return (
        resolve(reference, filesystem(reference), format=format),
        resolve(current, filesystem(current), format=format),
    )


def _filesystem_for(uri: str, session: boto3.Session | None, endpoint_url: str | None) -> pafs.FileSystem:
    return s3_filesystem(session, endpoint_url=endpoint_url) if split_uri(uri)[0] else pafs.LocalFileSystem()


def compact_capture(
    source: DatasetURI,
    destination: str,
    *,
    session: boto3.Session | None = None,
    endpoint_url: str | None = None,
    feature_names: Sequence[str] | None = None,
) -> list[str]:
    """Rewrite Model Monitor capture files (a local folder or an ``s3://`` prefix) as Parquet.

    Repeated analyses then read columns from a few Parquet files instead of parsing JSON Lines:
    ``compare_datasets("s3://bucket/compacted/", ...)``. Uses the capture parser
    (:func:`lib.sources.capture.read_capture_report`) one file at a time.

    Returns
    -------
    list of str
        The Parquet files written (``part-00000.parquet`` ...).
    """
    first = source if isinstance(source, str) else source[0]
    src = resolve(source, _filesystem_for(first, session, endpoint_url), format="capture")
    return compact_capture_files(
        src, destination, _filesystem_for(destination, session, endpoint_url), feature_names=feature_names
    )


def summarise_datasets(
    reference: DatasetURI | DatasetSource,
    current: DatasetURI | DatasetSource,
    *,
    columns: Sequence[str] | None = None,
    tests: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
    kinds: Mapping[str, str] | None = None,
    exclude: Iterable[str | None] = (),
    format: str | None = None,
    session: boto3.Session | None = None,
    endpoint_url: str | None = None,
    batch_rows: int = BATCH_ROWS,
    feature_names: Sequence[str] | None = None,
) -> DriftSummaries:
    """Both datasets' :class:`~lib.drift.summary.dataset.DriftSummaries`.

    The reference is read twice and the current side once, then both once more for the numeric
    columns whose KS D the fine bins leave inexact (the refinement pass: only those columns).

    Column kinds are inferred from the first :data:`INFER_ROWS` rows of each side (``kinds``
    overrides them), then only the columns to test are read.
    """
    if isinstance(reference, DatasetSource) and isinstance(current, DatasetSource):
        ref_src, cur_src = reference, current
    else:
        assert not isinstance(reference, DatasetSource)
        assert not isinstance(current, DatasetSource)
        ref_src, cur_src = open_datasets(
            reference, current, format=format, session=session, endpoint_url=endpoint_url
        )
    names = (ref_src.name, cur_src.name)
    ref_head = head(ref_src, INFER_ROWS, feature_names=feature_names)
    cur_head = head(cur_src, INFER_ROWS, feature_names=feature_names)
    plans, inferred = plan_tests(
        ref_head, cur_head, columns=columns, tests=tests, kinds=kinds, exclude=exclude, names=names
    )
    wanted = [p.column for p in plans]
    planned = {c: inferred[c] for c in wanted}

    def frames(src: DatasetSource, columns: Sequence[str]) -> Iterator[pd.DataFrame]:
        return iter_frames(src, columns=list(columns), batch_rows=batch_rows, feature_names=feature_names)

    summaries = summarise_frames(
        lambda: frames(ref_src, wanted),
        frames(cur_src, wanted),
        planned,
        reference_name=names[0],
        current_name=names[1],
    )
    # One more pass over both sides, reading only the numeric columns whose KS D is not yet exact.
    summaries = refine_summaries(
        summaries, lambda cols: frames(ref_src, cols), lambda cols: frames(cur_src, cols)
    )
    return DriftSummaries(
        summaries.reference, summaries.current, {k: str(v) for k, v in inferred.items()}, names[0], names[1]
    )


def compare_datasets(
    reference: DatasetURI,
    current: DatasetURI,
    *,
    columns: Sequence[str] | None = None,
    tests: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
    alpha: float = DEFAULTS.alpha,
    thresholds: Mapping[str, float] | None = None,
    kinds: Mapping[str, str] | None = None,
    exclude: Iterable[str | None] = (),
    prediction: str | None = None,
    label: str | None = None,
    timestamp: str | None = None,
    format: str | None = None,
    session: boto3.Session | None = None,
    endpoint_url: str | None = None,
    batch_rows: int = BATCH_ROWS,
    feature_names: Sequence[str] | None = None,
) -> DriftReport:
    """Drift between two datasets of any size: :func:`lib.drift.compare`'s report, in bounded memory.

    Parameters
    ----------
    reference, current : str or sequence of str
        Local paths or ``s3://`` URIs of Parquet, CSV or JSON Lines datasets (a file, a folder with
        hive partitions, a glob) or of Model Monitor capture prefixes.
    columns, tests, alpha, thresholds, kinds, exclude, prediction, label, timestamp
        As for :func:`lib.drift.compare` (role columns are excluded from the table).
    format : {"parquet", "csv", "json", "capture"}, optional
        Default: from the file names.
    session : boto3.Session, optional
        For S3 (default: the default credential chain); ``endpoint_url`` for LocalStack or a test
        server (default ``AWS_ENDPOINT_URL``).
    batch_rows : int
        Rows per record batch (memory holds one batch of the needed columns at a time).
    feature_names : sequence of str, optional
        Names for positional capture inputs (as :func:`lib.sources.capture.read_capture`).

    Returns
    -------
    DriftReport
        The same report as :func:`lib.drift.compare` (multivariate checks are not run on datasets).

    Raises
    ------
    InputError
        Missing or unreadable datasets, and everything :func:`lib.drift.compare` refuses.

    Examples
    --------
    >>> report = compare_datasets("s3://bucket/train/", "s3://bucket/capture-parquet/")  # doctest: +SKIP
    >>> report.drifted_columns  # doctest: +SKIP
    """
    summaries = summarise_datasets(
        reference,
        current,
        columns=columns,
        tests=tests,
        kinds=kinds,
        exclude=[*exclude, prediction, label, timestamp],
        format=format,
        session=session,
        endpoint_url=endpoint_url,
        batch_rows=batch_rows,
        feature_names=feature_names,
    )
    report = summaries.report(
        columns=columns,
        tests=tests,
        alpha=alpha,
        thresholds=thresholds,
        exclude=[*exclude, prediction, label, timestamp],
    )
    roles: dict[str, Any] = {"prediction": prediction, "label": label, "timestamp": timestamp}
    return DriftReport(**{**report.__dict__, "roles": roles})
