"""Upload loaders: any supported export file -> the canonical metrics frame (``lib.schema``).

Use :func:`read_export` for the metrics frame alone, :func:`load_export` for the frame plus the
detected format, the jobs table and plain-words notes the UI shows. Formats are detected from the
content, not the file extension; :data:`FORMATS` lists them. Bad input raises
``lib.errors.InputError`` naming the file, what was found and what was expected.
"""

from __future__ import annotations

import csv
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import pandas as pd

from lib.errors import InputError
from lib.sources.base import (
    FORMATS,
    AnchorChoices,
    Context,
    anchor_choices,
    anchor_relative_times,
    fail,
    jobs_or_empty,
)
from lib.sources.detect import parse_bytes
from lib.sources.files import source_bytes
from lib.sources.logs import MetricDefinition, parse_log_lines

__all__ = [
    "FORMATS",
    "AnchorChoices",
    "LoadedExport",
    "MetricDefinition",
    "anchor_choices",
    "anchor_relative_times",
    "load_export",
    "parse_log_lines",
    "read_export",
]

Source = str | os.PathLike[str] | bytes | BinaryIO


@dataclass(frozen=True)
class LoadedExport:
    """A parsed upload and what the UI should say about it.

    Attributes
    ----------
    name : str
        File name (or the given name).
    format : str
        Key of :data:`FORMATS`, e.g. ``"training_job_analytics"``.
    format_label : str
        Human words for the format, e.g. ``"SageMaker TrainingJobAnalytics CSV (export_csv)"``.
    metrics : pandas.DataFrame
        Canonical metrics frame; may be empty only for summary files (jobs lists, descriptions).
    jobs : pandas.DataFrame
        Jobs frame (``validate_jobs``), ``empty_jobs()`` when the format has no job metadata.
    notes : tuple of str
        Plain-words remarks, e.g. ``"12 rows with a missing, non-numeric ... were skipped."``.
    """

    name: str
    format: str
    format_label: str
    metrics: pd.DataFrame
    jobs: pd.DataFrame
    notes: tuple[str, ...]


def load_export(
    source: Source,
    name: str | None = None,
    *,
    metric_definitions: Sequence[MetricDefinition] = (),
) -> LoadedExport:
    """Parse any supported export and report its format, jobs table and notes.

    Parameters
    ----------
    source
        A path, the file's bytes, or a binary file object (e.g. Streamlit's ``UploadedFile``).
    name
        Name to report and to use as job name for files that carry none; default: the path's or
        object's ``.name``, else ``"upload"``.
    metric_definitions
        Extra name + regex pairs for training logs (first capture group = value).

    Returns
    -------
    LoadedExport

    Raises
    ------
    InputError
        If the content is not a supported export; the message names the file, what was found and
        what was expected.
    """
    data, shown = source_bytes(source, name)
    ctx = Context(shown, tuple(metric_definitions))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = parse_bytes(data, ctx)
    except InputError:
        raise
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeError,
        csv.Error,
        json.JSONDecodeError,
        RecursionError,
        OverflowError,
        pd.errors.OutOfBoundsDatetime,
    ) as err:
        raise fail(ctx, f"the file could not be read ({type(err).__name__}: {str(err)[:200]}).") from err
    if parsed.metrics.empty and not parsed.summary:
        raise fail(ctx, f"this looks like a {FORMATS[parsed.format]}, but no row holds a usable value.")
    return LoadedExport(
        name=shown,
        format=parsed.format,
        format_label=FORMATS[parsed.format],
        metrics=parsed.metrics,
        jobs=jobs_or_empty(parsed.jobs, ctx),
        notes=tuple(dict.fromkeys(parsed.notes)),
    )


def read_export(
    source: Source,
    name: str | None = None,
    *,
    metric_definitions: Sequence[MetricDefinition] = (),
) -> pd.DataFrame:
    """Canonical metrics frame (see ``lib.schema``) for any supported export.

    Same parameters as :func:`load_export`.

    Raises
    ------
    InputError
        If the content is not a supported export.
    """
    return load_export(source, name, metric_definitions=metric_definitions).metrics


def definitions_from(items: Sequence[Mapping[str, str]]) -> tuple[MetricDefinition, ...]:
    """Metric definitions from SageMaker-style dicts (``AlgorithmSpecification.MetricDefinitions``)."""
    return tuple(MetricDefinition.from_dict(d) for d in items)
