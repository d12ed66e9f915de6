"""Mergeable drift summaries: drift on datasets that do not fit in memory, on one machine or on Spark.

* :class:`ColumnSummary` (:mod:`.sketch`): one column on one side, built per batch and merged exactly;
* :class:`DatasetSummary`, :class:`DriftSummaries` (:mod:`.dataset`): every column, both sides, the
  summary file (JSON) and its :meth:`DriftSummaries.report`;
* :func:`report_from_summaries` (:mod:`.evaluate`): :func:`lib.drift.compare`'s tests and verdict
  rule on summaries, returning the same :class:`~lib.drift.report.DriftReport`;
* :func:`compare_datasets` (:mod:`.stream`): Parquet / CSV / JSON Lines datasets and Model Monitor
  capture, local or on S3, streamed in record batches with ``pyarrow.dataset``.
"""

from __future__ import annotations

from lib.drift.summary.dataset import (
    DatasetSummary,
    DriftSummaries,
    edges_for,
    merge_all,
    summaries_of,
    summarise_frame,
    summarise_frames,
)
from lib.drift.summary.evaluate import report_from_summaries
from lib.drift.summary.sketch import ColumnSummary, fine_edges, summarise_column
from lib.drift.summary.stream import compact_capture, compare_datasets, open_datasets, summarise_datasets

__all__ = [
    "ColumnSummary",
    "DatasetSummary",
    "DriftSummaries",
    "compact_capture",
    "compare_datasets",
    "edges_for",
    "fine_edges",
    "merge_all",
    "open_datasets",
    "report_from_summaries",
    "summaries_of",
    "summarise_column",
    "summarise_datasets",
    "summarise_frame",
    "summarise_frames",
]
