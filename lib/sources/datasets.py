"""Datasets larger than memory: Parquet, CSV, JSON Lines and Model Monitor capture, read in batches.

A dataset is a path or URI (local, or ``bucket/key`` on an Arrow filesystem such as the S3 one from
:func:`lib.sources.aws.datasets_s3.s3_filesystem`): one file, a folder (hive partitions such as
``date=2024-05-01/`` become columns), a glob (``data/*.parquet``, ``logs/**/*.jsonl``) or a list
of those. Files are read with ``pyarrow.dataset`` in record batches, so memory holds one batch at a
time. Model Monitor capture files (JSON Lines with ``captureData``) are read one file at a time
with the capture parser (:func:`lib.sources.capture.read_capture_report`);
:func:`compact_capture_files` rewrites them as Parquet so repeated analyses read columns, not JSON.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyarrow import fs as pafs

from lib.errors import InputError
from lib.sources.capture import drift_frame, read_capture_report

DatasetFormat = Literal["parquet", "csv", "json", "capture"]
FORMATS: Final[tuple[str, ...]] = ("parquet", "csv", "json", "capture")
#: Rows per record batch read from a dataset.
BATCH_ROWS: Final = 262_144
#: Rows per Parquet file written by :func:`compact_capture`.
COMPACT_ROWS: Final = 1_000_000

_SUFFIXES: Final = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".csv.gz": "csv",
    ".jsonl": "json",
    ".jsonl.gz": "json",
    ".ndjson": "json",
    ".json": "json",
}
_GLOB: Final = ("*", "?", "[")


@dataclass(frozen=True)
class DatasetSource:
    """A resolved dataset: its files, their format and the filesystem they live on."""

    uri: str
    format: DatasetFormat
    filesystem: pafs.FileSystem
    files: tuple[str, ...]
    base: str

    @property
    def name(self) -> str:
        return self.uri

    def dataset(self) -> ds.Dataset:
        """The ``pyarrow.dataset`` over the files (not for capture)."""
        if self.format == "capture":
            raise InputError("Capture files are read one by one, not as an Arrow dataset.")
        file_format: ds.FileFormat = {
            "parquet": ds.ParquetFileFormat(),
            "csv": ds.CsvFileFormat(),
            "json": ds.JsonFileFormat(),
        }[self.format]
        try:
            return ds.dataset(
                list(self.files),
                filesystem=self.filesystem,
                format=file_format,
                partitioning=ds.partitioning(flavor="hive"),
                partition_base_dir=self.base,
            )
        except (pa.ArrowInvalid, OSError) as err:
            raise InputError(f"{self.uri}: cannot open the dataset ({err}).") from err


def split_uri(uri: str) -> tuple[bool, str]:
    """``(is_s3, path)``: ``s3://bucket/key`` → ``(True, "bucket/key")``; local paths made absolute."""
    if uri.startswith("s3://"):
        return True, uri[len("s3://") :].rstrip("/")
    if "://" in uri:
        raise InputError(f"{uri}: only local paths and s3:// URIs are supported.")
    return False, os.path.abspath(os.path.expanduser(uri))


def _format_of(path: str) -> str | None:
    lowered = path.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if lowered.endswith(suffix):
            return _SUFFIXES[suffix]
    return None


def _hidden(path: str, base: str) -> bool:
    rel = path[len(base) :].lstrip("/")
    return any(part.startswith(("_", ".")) for part in rel.split("/"))


def list_files(uri: str, filesystem: pafs.FileSystem) -> tuple[list[str], str]:
    """Files under ``uri`` (a file, a folder or a glob) and the base folder for hive partitions."""
    _, path = split_uri(uri)
    if any(ch in path for ch in _GLOB):
        parts = path.split("/")
        first = next(i for i, p in enumerate(parts) if any(ch in p for ch in _GLOB))
        base = "/".join(parts[:first]) or "/"
        pattern = path
    else:
        base, pattern = path, None
    try:
        info = filesystem.get_file_info(base)
        if info.type == pafs.FileType.File and pattern is None:
            return [base], str(Path(base).parent) if not uri.startswith("s3://") else base.rsplit("/", 1)[0]
        if info.type == pafs.FileType.NotFound:
            raise InputError(f"{uri}: no such file or folder.")
        infos = filesystem.get_file_info(pafs.FileSelector(base, recursive=True))
    except OSError as err:
        raise InputError(f"{uri}: cannot list the dataset ({err}).") from err
    files = sorted(
        i.path
        for i in infos
        if i.type == pafs.FileType.File
        and not _hidden(i.path, base)
        and (pattern is None or fnmatch.fnmatch(i.path, pattern))
    )
    if not files:
        raise InputError(f"{uri}: no data files found.")
    return files, base


def _is_capture(filesystem: pafs.FileSystem, path: str) -> bool:
    with filesystem.open_input_stream(path, compression="detect") as stream:
        head = stream.read(4096)
    return b"captureData" in head


def resolve(
    uri: str | Sequence[str], filesystem: pafs.FileSystem | None = None, *, format: str | None = None
) -> DatasetSource:
    """Find a dataset's files and format.

    Parameters
    ----------
    uri : str or sequence of str
        A file, folder or glob (several: their files together, one format).
    filesystem : pyarrow.fs.FileSystem, optional
        Where the files live (default: the local disk).
    format : {"parquet", "csv", "json", "capture"}, optional
        Default: from the file names; JSON Lines holding ``captureData`` is capture.

    Raises
    ------
    InputError
        No files, mixed or unknown formats, an unknown ``format``.
    """
    uris = [uri] if isinstance(uri, str) else list(uri)
    if not uris:
        raise InputError("No dataset given.")
    fs_ = filesystem or pafs.LocalFileSystem()
    files: list[str] = []
    bases = []
    for one in uris:
        found, base = list_files(one, fs_)
        files += found
        bases.append(base)
    if format is not None and format not in FORMATS:
        raise InputError(f"Unknown dataset format {format!r}.", hint=f"Use one of {list(FORMATS)}.")
    chosen = format
    if chosen is None:
        formats = {_format_of(f) for f in files}
        if None in formats or len(formats) != 1:
            shown = sorted({Path(f).suffix or Path(f).name for f in files})[:5]
            raise InputError(
                f"{uris[0]}: cannot tell the format from the file names ({', '.join(shown)}).",
                hint="Pass format='parquet', 'csv', 'json' or 'capture', or point at one kind of file.",
            )
        chosen = formats.pop()
        if chosen == "json" and _is_capture(fs_, files[0]):
            chosen = "capture"
    base = os.path.commonpath(bases) if len(bases) > 1 and not uris[0].startswith("s3://") else bases[0]
    return DatasetSource(", ".join(uris), chosen, fs_, tuple(files), base)  # type: ignore[arg-type]


def iter_frames(
    source: DatasetSource,
    *,
    columns: Sequence[str] | None = None,
    batch_rows: int = BATCH_ROWS,
    feature_names: Sequence[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """The dataset as pandas frames of at most ``batch_rows`` rows (capture: one frame per file).

    Raises
    ------
    InputError
        A file that cannot be read (with its name), or files whose types disagree.
    """
    if source.format == "capture":
        for path in source.files:
            yield capture_file_frame(source, path, feature_names=feature_names)
        return
    dataset = source.dataset()
    wanted = None if columns is None else [c for c in columns if c in dataset.schema.names]
    try:
        # Little read-ahead and no pre-buffering of whole row groups: memory holds about one batch
        # per column in flight instead of several row groups (measured in benchmarks/README.md).
        options = ds.ParquetFragmentScanOptions(pre_buffer=False) if source.format == "parquet" else None
        batches = dataset.to_batches(
            columns=wanted,
            batch_size=batch_rows,
            batch_readahead=1,
            fragment_readahead=1,
            fragment_scan_options=options,
        )
        for batch in batches:
            if batch.num_rows:
                yield batch.to_pandas()
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as err:
        raise InputError(
            f"{source.uri}: a file could not be read ({err}).",
            hint="Files of one dataset must share column types; compact or rewrite the odd ones.",
        ) from err


def capture_file_frame(
    source: DatasetSource, path: str, *, feature_names: Sequence[str] | None = None
) -> pd.DataFrame:
    """One capture file as drift data (features and predictions; metadata dropped)."""
    try:
        with source.filesystem.open_input_stream(path) as stream:
            data = stream.read()
    except OSError as err:
        raise InputError(f"{path}: cannot read the capture file ({err}).") from err
    result = read_capture_report(data, feature_names=feature_names, name=path)
    return drift_frame(result.frame)


def head(source: DatasetSource, rows: int, *, feature_names: Sequence[str] | None = None) -> pd.DataFrame:
    """The first ``rows`` rows (whole batches or capture files until there are enough)."""
    frames, total = [], 0
    for frame in iter_frames(source, batch_rows=min(rows, BATCH_ROWS), feature_names=feature_names):
        frames.append(frame)
        total += len(frame)
        if total >= rows:
            break
    if not frames:
        raise InputError(f"{source.uri}: the dataset has no rows.")
    return pd.concat(frames, ignore_index=True).iloc[:rows] if len(frames) > 1 else frames[0].iloc[:rows]


def compact_capture_files(
    source: DatasetSource,
    destination: str,
    filesystem: pafs.FileSystem | None = None,
    *,
    feature_names: Sequence[str] | None = None,
    rows_per_file: int = COMPACT_ROWS,
) -> list[str]:
    """Rewrite capture files as Parquet (``part-00000.parquet`` ...) under ``destination``.

    Integer columns are written as float64 and text as strings, so every part has one schema even
    when files disagree (a column all whole in one hour and fractional in the next).

    Returns
    -------
    list of str
        The paths written.
    """
    if source.format != "capture":
        raise InputError(f"{source.uri} is not Model Monitor capture (format {source.format}).")
    fs_ = filesystem or pafs.LocalFileSystem()
    _, out_dir = split_uri(destination)
    fs_.create_dir(out_dir, recursive=True)
    written: list[str] = []
    pending: list[pd.DataFrame] = []
    count = 0

    def flush() -> None:
        nonlocal pending, count
        if not pending:
            return
        frame = pd.concat(pending, ignore_index=True)
        for col in frame.columns:
            if pd.api.types.is_integer_dtype(frame[col].dtype) and not pd.api.types.is_bool_dtype(frame[col]):
                frame[col] = frame[col].astype("float64")
            elif frame[col].dtype == object:
                frame[col] = frame[col].astype("string")
        path = f"{out_dir}/part-{len(written):05d}.parquet"
        with fs_.open_output_stream(path) as stream:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), stream)
        written.append(path)
        pending, count = [], 0

    for path in source.files:
        frame = capture_file_frame(source, path, feature_names=feature_names)
        pending.append(frame)
        count += len(frame)
        if count >= rows_per_file:
            flush()
    flush()
    return written
