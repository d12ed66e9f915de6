"""Driftwatch, the library: is my SageMaker model still healthy? Usable without Streamlit.

Every entry point the README documents is importable from here, lazily (PEP 562): ``import lib`` loads
no pandas, scipy or boto3; the first use of a name imports the one module that defines it.

>>> from lib import read_export, runs_table, flag_runs, compare  # doctest: +SKIP

The layout, one question per wing:

* ``lib.sources``: everything that brings data in (export files, capture, baselines, tables,
  latency; ``lib.sources.aws`` is the only boto3 code) -> canonical frames (``lib.schema``);
* ``lib.analysis``: pure computations on those frames (runs, timing, series, pricing, Model Monitor
  checks); ``lib.drift``: the drift engine and its one verdict rule;
* ``lib.charts``: pure Altair builders; ``lib.demo``: the demo data; ``lib.export``: CSV/PNG/SVG;
* ``lib.ui``: the only Streamlit code (never imported from here).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

#: Public name -> module that defines it.
_EXPORTS: Final[dict[str, str]] = {
    # training metrics from files
    "read_export": "lib.sources",
    "load_export": "lib.sources",
    "LoadedExport": "lib.sources",
    "MetricDefinition": "lib.sources",
    "FORMATS": "lib.sources",
    # ... and straight from AWS
    "make_session": "lib.sources.aws.session",
    "Deadline": "lib.sources.aws.session",
    "find_training_jobs": "lib.sources.aws.training_jobs",
    "load_training_jobs": "lib.sources.aws.load",
    "load_instance_metrics": "lib.sources.aws.metrics",
    "load_endpoint_latency": "lib.sources.aws.endpoint_latency",
    "list_endpoints": "lib.sources.aws.endpoints",
    "load_endpoint_capture": "lib.sources.aws.capture_s3",
    "load_baseline": "lib.sources.aws.monitoring",
    "list_monitoring_schedules": "lib.sources.aws.monitoring",
    "monitoring_history": "lib.sources.aws.monitoring",
    "publish_drift_metrics": "lib.sources.aws.publish",
    "read_s3_object": "lib.sources.aws.s3files",
    "write_s3_object": "lib.sources.aws.s3files",
    # Model Monitor artifacts, drift tables, latency files
    "read_capture": "lib.sources.capture",
    "read_capture_report": "lib.sources.capture",
    "read_statistics": "lib.sources.monitor_files",
    "read_constraints": "lib.sources.monitor_files",
    "read_table": "lib.sources.tables",
    "read_latency_export": "lib.sources.latency",
    # training runs
    "runs_table": "lib.analysis.runs",
    "flag_runs": "lib.analysis.runs",
    "align_runs": "lib.analysis.runs",
    "smooth": "lib.analysis.runs",
    "spacing_change": "lib.analysis.runs",
    # timing, cost, series
    "run_timings": "lib.analysis.timing",
    "runs_cost_table": "lib.analysis.timing",
    "timing_outliers": "lib.analysis.timing",
    "cost_table": "lib.analysis.pricing",
    "change_points": "lib.analysis.series",
    "compare_windows": "lib.analysis.series",
    "series_drift": "lib.analysis.series",
    "latency_percentiles": "lib.analysis.latency",
    # Model Monitor checks
    "check_constraints": "lib.analysis.monitor_checks",
    "baseline_reference": "lib.analysis.monitor_checks",
    # drift
    "compare": "lib.drift",
    "DriftReport": "lib.drift",
    "compare_drift_windows": "lib.drift",
    "prediction_drift": "lib.drift",
    "domain_classifier": "lib.drift",
    "binned_overlay": "lib.drift",
    "TESTS": "lib.drift",
    # drift on datasets of any size: mergeable summaries, streaming, Spark
    "compare_datasets": "lib.drift.summary",
    "summarise_datasets": "lib.drift.summary",
    "ColumnSummary": "lib.drift.summary",
    "DatasetSummary": "lib.drift.summary",
    "DriftSummaries": "lib.drift.summary",
    "compact_capture": "lib.drift.summary",
    # errors
    "AppError": "lib.errors",
    "InputError": "lib.errors",
    "DataSourceError": "lib.errors",
}
#: Public names whose attribute in the defining module has another name.
_RENAMED: Final[dict[str, str]] = {"compare_drift_windows": "compare_windows"}

__all__ = [
    "FORMATS",
    "TESTS",
    "AppError",
    "ColumnSummary",
    "DataSourceError",
    "DatasetSummary",
    "Deadline",
    "DriftReport",
    "DriftSummaries",
    "InputError",
    "LoadedExport",
    "MetricDefinition",
    "align_runs",
    "baseline_reference",
    "binned_overlay",
    "change_points",
    "check_constraints",
    "compact_capture",
    "compare",
    "compare_datasets",
    "compare_drift_windows",
    "compare_windows",
    "cost_table",
    "domain_classifier",
    "find_training_jobs",
    "flag_runs",
    "latency_percentiles",
    "list_endpoints",
    "list_monitoring_schedules",
    "load_baseline",
    "load_endpoint_capture",
    "load_endpoint_latency",
    "load_export",
    "load_instance_metrics",
    "load_training_jobs",
    "make_session",
    "monitoring_history",
    "prediction_drift",
    "publish_drift_metrics",
    "read_capture",
    "read_capture_report",
    "read_constraints",
    "read_export",
    "read_latency_export",
    "read_s3_object",
    "read_statistics",
    "read_table",
    "run_timings",
    "runs_cost_table",
    "runs_table",
    "series_drift",
    "smooth",
    "spacing_change",
    "summarise_datasets",
    "timing_outliers",
    "write_s3_object",
]

if TYPE_CHECKING:  # what a type checker and an IDE see; at run time __getattr__ imports on first use
    from lib.analysis.latency import latency_percentiles
    from lib.analysis.monitor_checks import baseline_reference, check_constraints
    from lib.analysis.pricing import cost_table
    from lib.analysis.runs import align_runs, flag_runs, runs_table, smooth, spacing_change
    from lib.analysis.series import change_points, compare_windows, series_drift
    from lib.analysis.timing import run_timings, runs_cost_table, timing_outliers
    from lib.drift import (
        TESTS,
        DriftReport,
        binned_overlay,
        compare,
        domain_classifier,
        prediction_drift,
    )
    from lib.drift import compare_windows as compare_drift_windows
    from lib.drift.summary import (
        ColumnSummary,
        DatasetSummary,
        DriftSummaries,
        compact_capture,
        compare_datasets,
        summarise_datasets,
    )
    from lib.errors import AppError, DataSourceError, InputError
    from lib.sources import FORMATS, LoadedExport, MetricDefinition, load_export, read_export
    from lib.sources.aws.capture_s3 import load_endpoint_capture
    from lib.sources.aws.endpoint_latency import load_endpoint_latency
    from lib.sources.aws.endpoints import list_endpoints
    from lib.sources.aws.load import load_training_jobs
    from lib.sources.aws.metrics import load_instance_metrics
    from lib.sources.aws.monitoring import list_monitoring_schedules, load_baseline, monitoring_history
    from lib.sources.aws.publish import publish_drift_metrics
    from lib.sources.aws.s3files import read_s3_object, write_s3_object
    from lib.sources.aws.session import Deadline, make_session
    from lib.sources.aws.training_jobs import find_training_jobs
    from lib.sources.capture import read_capture, read_capture_report
    from lib.sources.latency import read_latency_export
    from lib.sources.monitor_files import read_constraints, read_statistics
    from lib.sources.tables import read_table


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use (PEP 562) and cache the attribute here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
