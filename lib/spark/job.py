"""PySpark job: the drift summaries of two datasets, computed on a cluster (EMR, Glue, SageMaker Processing).

The same two passes as :func:`lib.drift.summary.compare_datasets`, with Spark doing the map: each
partition turns its Arrow record batches into one merged :class:`~lib.drift.summary.DatasetSummary`
(``mapInArrow``), the driver merges the partitions' summaries (exact, so any partitioning gives the
same bytes as the single-machine path); a last pass collects, for the numeric columns whose KS D
the fine bins leave inexact, the values in the few candidate bins (so D and its p-value are
:func:`lib.drift.compare`'s), and the driver writes ``summaries.json``, ``report.json`` and
``report.html`` to the output folder (local or ``s3://``). Open ``summaries.json`` with
``python -m lib report summaries.json`` or in the app's Drift page.

Run it (the README has the EMR and SageMaker Processing steps)::

    spark-submit --py-files driftwatch-lib.zip lib/spark/job.py \\
        --reference s3://bucket/train/ --current s3://bucket/capture/my-endpoint/ --format capture \\
        --output s3://bucket/drift/2024-05-01/

This is the only module that imports pyspark (an optional extra: ``pip install .[spark]``); nothing
else in ``lib`` imports it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import fs as pafs
from pyspark.sql import DataFrame, SparkSession

from lib.drift.engine import plan_tests
from lib.drift.summary.dataset import (
    DatasetSummary,
    DriftSummaries,
    Refined,
    RefinePlan,
    attach_refinement,
    edges_for,
    edges_from_json,
    edges_to_json,
    merge_all,
    merge_refined,
    plan_refinement,
    refine_frame,
    summarise_frame,
)
from lib.drift.summary.stream import INFER_ROWS
from lib.errors import InputError
from lib.sources.capture import drift_frame, read_capture_report

FORMATS: Final = ("parquet", "csv", "json", "capture")
_SCHEMA: Final = "summary string"
_REFINE_SCHEMA: Final = "column string, values binary, capped boolean"


def read_dataset(spark: SparkSession, uri: str | Sequence[str], format: str) -> DataFrame:
    """A Spark DataFrame of a dataset; capture is read as whole files (``binaryFile``), parsed later."""
    paths = [uri] if isinstance(uri, str) else list(uri)
    if format == "parquet":
        return spark.read.parquet(*paths)
    if format == "csv":
        return spark.read.options(header=True, inferSchema=True).csv(paths)
    if format == "json":
        return spark.read.json(paths)
    if format == "capture":
        return (
            spark.read.format("binaryFile")
            .option("recursiveFileLookup", "true")
            .option("pathGlobFilter", "*.jsonl*")
            .load(paths)
            .select("path", "content")
        )
    raise InputError(f"Unknown dataset format {format!r}.", hint=f"Use one of {list(FORMATS)}.")


def _capture_frames(batch: pa.RecordBatch, feature_names: Sequence[str] | None) -> Iterator[pd.DataFrame]:
    paths = batch.column("path").to_pylist()
    contents = batch.column("content").to_pylist()
    for path, content in zip(paths, contents, strict=True):
        yield drift_frame(read_capture_report(content, feature_names=feature_names, name=path).frame)


def _frames(
    batches: Iterator[pa.RecordBatch], format: str, feature_names: Sequence[str] | None
) -> Iterator[pd.DataFrame]:
    for batch in batches:
        if format == "capture":
            yield from _capture_frames(batch, feature_names)
        elif batch.num_rows:
            yield batch.to_pandas()


def _summarise_partitions(
    df: DataFrame,
    format: str,
    kinds: Mapping[str, str],
    *,
    edges_json: str | None,
    feature_names: Sequence[str] | None,
) -> DatasetSummary:
    """Map: one merged summary per partition (as JSON); reduce: merge them on the driver."""
    kinds = dict(kinds)
    first_pass = edges_json is None
    names = None if feature_names is None else list(feature_names)
    columns = None if format == "capture" else [c for c in kinds if c in df.columns]
    if columns is not None:
        df = df.select(*columns)

    def summarise(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        edges = None if edges_json is None else edges_from_json(edges_json)
        merged = merge_all(
            summarise_frame(frame, kinds, edges=edges, first_pass=first_pass)
            for frame in _frames(batches, format, names)
        )
        yield pa.RecordBatch.from_pydict({"summary": [merged.to_json()]})

    rows = df.mapInArrow(summarise, _SCHEMA).collect()
    return merge_all(DatasetSummary.from_dict(json.loads(row["summary"])) for row in rows)


def _refine_partitions(
    df: DataFrame, format: str, plan: RefinePlan, stage: str, *, feature_names: Sequence[str] | None
) -> Refined:
    """A refinement pass on Spark (``stage`` "zoom": counts; "values": value/count pairs in the
    intervals): each partition's share as raw bytes (empty and ``capped`` past the cap), merged on
    the driver as the streaming path merges batches."""
    names = None if feature_names is None else list(feature_names)
    wanted = tuple(plan.zoom) if stage == "zoom" else plan.read
    dtype = "<i8" if stage == "zoom" else "<f8"
    if format != "capture":
        df = df.select(*[c for c in wanted if c in df.columns])

    def refine(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        merged = merge_refined((refine_frame(f, plan, stage) for f in _frames(batches, format, names)), stage)
        columns = sorted(merged)
        shares = [merged[c] for c in columns]
        raw = [b"" if v is None else np.ascontiguousarray(v, dtype=dtype).tobytes() for v in shares]
        yield pa.RecordBatch.from_pydict(
            {
                "column": columns,
                "values": raw,
                "capped": [v is None for v in shares],
            },
            schema=pa.schema([("column", pa.string()), ("values", pa.binary()), ("capped", pa.bool_())]),
        )

    def decode(raw: bytes) -> np.ndarray:
        values = np.frombuffer(raw, dtype=dtype)
        return values if stage == "zoom" else values.reshape(2, -1)

    rows = df.mapInArrow(refine, _REFINE_SCHEMA).collect()
    return merge_refined(
        ({row["column"]: None if row["capped"] else decode(row["values"])} for row in rows), stage
    )


def head_frame(df: DataFrame, format: str, rows: int, feature_names: Sequence[str] | None) -> pd.DataFrame:
    """The first rows of a dataset as pandas, for inferring the column kinds on the driver."""
    if format == "capture":
        frames: list[pd.DataFrame] = []
        total = 0
        for row in df.limit(64).toLocalIterator():
            frame = drift_frame(
                read_capture_report(row["content"], feature_names=feature_names, name=row["path"]).frame
            )
            frames.append(frame)
            total += len(frame)
            if total >= rows:
                break
        if not frames:
            raise InputError("The capture dataset has no files.")
        return pd.concat(frames, ignore_index=True).iloc[:rows]
    return df.limit(rows).toArrow().to_pandas()


def summarise_spark(
    reference: DataFrame,
    current: DataFrame,
    *,
    format: str = "parquet",
    current_format: str | None = None,
    columns: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
    exclude: Sequence[str] = (),
    feature_names: Sequence[str] | None = None,
    reference_name: str = "reference",
    current_name: str = "current",
) -> DriftSummaries:
    """The two-pass summaries of two Spark DataFrames (as read by :func:`read_dataset`).

    Kinds are inferred on the driver from the first :data:`~lib.drift.summary.stream.INFER_ROWS`
    rows of each side (``kinds`` overrides); numeric edges come from the reference's first pass.
    """
    cur_format = current_format or format
    ref_head = head_frame(reference, format, INFER_ROWS, feature_names)
    cur_head = head_frame(current, cur_format, INFER_ROWS, feature_names)
    names = (reference_name, current_name)
    plans, inferred = plan_tests(
        ref_head, cur_head, columns=columns, tests=None, kinds=kinds, exclude=exclude, names=names
    )
    planned = {p.column: str(inferred[p.column]) for p in plans}
    first = _summarise_partitions(reference, format, planned, edges_json=None, feature_names=feature_names)
    edges = edges_to_json(edges_for(first))
    ref = _summarise_partitions(reference, format, planned, edges_json=edges, feature_names=feature_names)
    cur = _summarise_partitions(current, cur_format, planned, edges_json=edges, feature_names=feature_names)
    # The refinement pass (exact KS D): both sides' values in the candidate bins of the columns
    # that need it, as the streaming path's refine_summaries does.
    plan = plan_refinement(ref, cur)

    def run(stage: str) -> tuple[Refined, Refined]:
        return (
            _refine_partitions(reference, format, plan, stage, feature_names=feature_names),
            _refine_partitions(current, cur_format, plan, stage, feature_names=feature_names),
        )

    if plan.zoom:
        plan = plan.after_zoom(ref, cur, run("zoom"))
    if plan.intervals:
        ref_values, cur_values = run("values") if plan.read else ({}, {})
        ref = attach_refinement(ref, plan, ref_values, 0)
        cur = attach_refinement(cur, plan, cur_values, 1)
    return DriftSummaries(ref, cur, {k: str(v) for k, v in inferred.items()}, reference_name, current_name)


def write_outputs(summaries: DriftSummaries, output: str) -> list[str]:
    """Write ``summaries.json``, ``report.json`` and ``report.html`` under ``output`` (a folder or URI)."""
    target = "s3://" + output[len("s3a://") :] if output.startswith("s3a://") else output
    filesystem, base = (
        pafs.FileSystem.from_uri(target) if "://" in target else (pafs.LocalFileSystem(), target)
    )
    filesystem.create_dir(base, recursive=True)
    report = summaries.report()
    written = []
    for name, text in (
        ("summaries.json", summaries.to_json()),
        ("report.json", report.to_json()),
        ("report.html", report.to_html()),
    ):
        path = f"{base.rstrip('/')}/{name}"
        with filesystem.open_output_stream(path) as stream:
            stream.write(text.encode("utf-8"))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``spark-submit lib/spark/job.py --reference ... --current ... --output ...``."""
    parser = argparse.ArgumentParser(prog="driftwatch-spark", description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, nargs="+", help="reference dataset path(s) or URI(s)")
    parser.add_argument("--current", required=True, nargs="+", help="current dataset path(s) or URI(s)")
    parser.add_argument("--format", default="parquet", choices=FORMATS, help="reference format")
    parser.add_argument("--current-format", choices=FORMATS, help="current format (default: --format)")
    parser.add_argument("--output", required=True, help="folder or s3:// URI for the summaries and report")
    parser.add_argument("--columns", help="comma-separated columns to test (default: all shared)")
    parser.add_argument("--exclude", default="", help="comma-separated columns never tested")
    parser.add_argument("--kinds", help='JSON object column -> kind, e.g. \'{"zip": "categorical"}\'')
    parser.add_argument("--feature-names", help="comma-separated names for positional capture inputs")
    args = parser.parse_args(argv)
    spark = SparkSession.builder.appName("driftwatch-summaries").getOrCreate()
    try:
        summaries = summarise_spark(
            read_dataset(spark, args.reference, args.format),
            read_dataset(spark, args.current, args.current_format or args.format),
            format=args.format,
            current_format=args.current_format,
            columns=args.columns.split(",") if args.columns else None,
            kinds=json.loads(args.kinds) if args.kinds else None,
            exclude=[c for c in args.exclude.split(",") if c],
            feature_names=args.feature_names.split(",") if args.feature_names else None,
            reference_name=", ".join(args.reference),
            current_name=", ".join(args.current),
        )
        for path in write_outputs(summaries, args.output):
            print(f"wrote {path}")
    except InputError as err:
        print(f"error: {err.message}" + (f" ({err.hint})" if err.hint else ""), file=sys.stderr)
        return 2
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
