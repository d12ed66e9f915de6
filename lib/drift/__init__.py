"""Drift engine: compare a reference table with current data, column by column and as a whole.

Public API (pages call one function per view):

* :func:`compare` → :class:`DriftReport` (``.table``, ``.signals``, ``.rule``, ``.to_json()``,
  ``.to_csv()``, ``.to_html()``)
* :data:`TESTS` / :func:`register` / :func:`get_test`: the test registry
* :func:`binned_overlay`: tidy binned shares for the per-column charts
* :func:`compare_windows`, :func:`prediction_drift`, :func:`domain_classifier`
* :func:`read_table`, :func:`infer_kinds`, :func:`guess_prediction`, :func:`guess_label`,
  :func:`guess_timestamp` (the demo tables live in ``lib.demo.drift``)
"""

from __future__ import annotations

from lib.drift.multivariate import MultivariateResult, domain_classifier
from lib.drift.overlay import binned_overlay
from lib.drift.prediction import PredictionReport, prediction_drift
from lib.drift.registry import (
    TESTS,
    DriftTest,
    Samples,
    TestResult,
    UnknownDriftTest,
    get_test,
    register,
    tests_for_kind,
)
from lib.drift.report import DriftReport, compare
from lib.drift.rule import DEFAULTS, Defaults, min_detectable_effect, rule_text, verdict
from lib.drift.types import KINDS, ColumnKind, guess_label, guess_prediction, guess_timestamp, infer_kinds
from lib.drift.windows import WindowReport, compare_windows, split_windows
from lib.sources.tables import check_pair, check_table, read_table

__all__ = [
    "DEFAULTS",
    "KINDS",
    "TESTS",
    "ColumnKind",
    "Defaults",
    "DriftReport",
    "DriftTest",
    "MultivariateResult",
    "PredictionReport",
    "Samples",
    "TestResult",
    "UnknownDriftTest",
    "WindowReport",
    "binned_overlay",
    "check_pair",
    "check_table",
    "compare",
    "compare_windows",
    "domain_classifier",
    "get_test",
    "guess_label",
    "guess_prediction",
    "guess_timestamp",
    "infer_kinds",
    "min_detectable_effect",
    "prediction_drift",
    "read_table",
    "register",
    "rule_text",
    "split_windows",
    "tests_for_kind",
    "verdict",
]
