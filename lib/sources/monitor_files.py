"""Model Monitor baseline files: statistics.json and constraints.json, and all artifacts together."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pandas as pd

from lib.errors import InputError
from lib.sources.capture import Source, source_bytes

CheckType = Literal[
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
]


CHECK_TYPES: Final = (
    "missing_column_check",
    "extra_column_check",
    "completeness_check",
    "data_type_check",
    "categorical_values_check",
    "baseline_drift_check",
)


NUMERIC_TYPES: Final = ("Integral", "Fractional")


@dataclass(frozen=True)
class FeatureStatistics:
    """One feature of a ``statistics.json``.

    ``numeric_buckets`` holds ``(lower_bound, upper_bound, count)`` of the KLL histogram and
    ``categorical_buckets`` ``(value, count)``; moments are NaN for string features.
    ``kll_sketch`` holds the items of ``distribution.kll.sketch.data``, one tuple per compactor
    level: an item on level ``i`` stands for ``2**i`` values of the data.
    """

    name: str
    inferred_type: str
    num_present: float
    num_missing: float
    mean: float = math.nan
    std: float = math.nan
    min: float = math.nan
    max: float = math.nan
    distinct_count: float = math.nan
    numeric_buckets: tuple[tuple[float, float, float], ...] = ()
    categorical_buckets: tuple[tuple[str, float], ...] = ()
    kll_sketch: tuple[tuple[float, ...], ...] = ()

    @property
    def completeness(self) -> float:
        """Share of non-missing values in the baseline data."""
        total = self.num_present + self.num_missing
        return self.num_present / total if total > 0 else math.nan

    @property
    def kind(self) -> Literal["numeric", "categorical"]:
        """``"numeric"`` for Integral/Fractional features, else ``"categorical"``."""
        return "numeric" if self.inferred_type in NUMERIC_TYPES else "categorical"


@dataclass(frozen=True)
class Baseline:
    """A parsed ``statistics.json``: ``item_count`` rows and one ``FeatureStatistics`` per feature."""

    features: tuple[FeatureStatistics, ...]
    item_count: float = math.nan
    source: str = "statistics.json"

    @property
    def feature_names(self) -> list[str]:
        """Feature names in file order (use them to name positional capture columns)."""
        return [f.name for f in self.features]

    def feature(self, name: str) -> FeatureStatistics:
        """The statistics of one feature.

        Raises
        ------
        InputError
            If the baseline has no such feature (the hint lists the names).
        """
        for f in self.features:
            if f.name == name:
                return f
        raise InputError(
            f"{self.source} has no feature {name!r}.", hint=f"Features: {', '.join(self.feature_names)}."
        )

    @property
    def table(self) -> pd.DataFrame:
        """One readable row per feature."""
        return pd.DataFrame(
            [
                {
                    "feature": f.name,
                    "inferred_type": f.inferred_type,
                    "completeness": f.completeness,
                    "mean": f.mean,
                    "std": f.std,
                    "min": f.min,
                    "max": f.max,
                    "distinct_count": f.distinct_count,
                    "n_buckets": len(f.numeric_buckets) or len(f.categorical_buckets),
                }
                for f in self.features
            ]
        )


def _load_json(source: Source | Mapping[str, Any], expected: str) -> tuple[Any, str]:
    if isinstance(source, Mapping):
        return dict(source), expected
    data, label = source_bytes(source)
    try:
        return json.loads(data.decode("utf-8-sig")), label
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(
            f"{label}: is not valid JSON ({err}).", hint=f"Expected a Model Monitor {expected} file."
        ) from err


def _features(doc: Any, label: str, expected: str) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        found = f"keys {', '.join(sorted(map(str, doc)))}" if isinstance(doc, dict) else type(doc).__name__
        raise InputError(
            f"{label}: found {found}, but no 'features' list.",
            hint=f'Expected a Model Monitor {expected}: {{"version": 0, "features": [...], ...}}.',
        )
    feats = doc["features"]
    for i, f in enumerate(feats):
        if not isinstance(f, dict) or "name" not in f:
            raise InputError(
                f"{label}: feature #{i} has no 'name'.", hint=f"Expected a Model Monitor {expected}."
            )
    return feats


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def read_statistics(source: Source | Mapping[str, Any]) -> Baseline:
    """Read a Model Monitor baseline ``statistics.json``.

    Parameters
    ----------
    source
        Path, bytes, binary file-like (an upload) or the already-parsed JSON object.

    Raises
    ------
    InputError
        If the file is not JSON or not shaped like statistics.json (e.g. a constraints.json).
    """
    doc, label = _load_json(source, "statistics.json")
    feats = _features(doc, label, "statistics.json")
    if feats and not any(k in f for f in feats for k in ("numerical_statistics", "string_statistics")):
        raise InputError(
            f"{label}: the features have no numerical_statistics/string_statistics; "
            "this looks like a constraints.json.",
            hint="Upload the baseline's statistics.json here and constraints.json in its own slot.",
        )
    out = []
    for f in feats:
        num = f.get("numerical_statistics")
        txt = f.get("string_statistics")
        block = num if isinstance(num, dict) else txt if isinstance(txt, dict) else {}
        common = block.get("common", {}) if isinstance(block.get("common"), dict) else {}
        dist = block.get("distribution", {}) or {}
        kll = (dist.get("kll") or {}).get("buckets") or []
        sketch = ((dist.get("kll") or {}).get("sketch") or {}).get("data") or []
        cats = (dist.get("categorical") or {}).get("buckets") or []
        out.append(
            FeatureStatistics(
                name=str(f["name"]),
                inferred_type=str(f.get("inferred_type", "Unknown")),
                num_present=_num(common.get("num_present")),
                num_missing=_num(common.get("num_missing", 0)),
                mean=_num(block.get("mean")),
                std=_num(block.get("std_dev")),
                min=_num(block.get("min")),
                max=_num(block.get("max")),
                distinct_count=_num(block.get("distinct_count")),
                numeric_buckets=tuple(
                    (_num(b.get("lower_bound")), _num(b.get("upper_bound")), _num(b.get("count")))
                    for b in kll
                ),
                categorical_buckets=tuple((str(b.get("value")), _num(b.get("count"))) for b in cats),
                kll_sketch=tuple(
                    tuple(_num(v) for v in level) for level in sketch if isinstance(level, list)
                ),
            )
        )
    return Baseline(tuple(out), _num((doc.get("dataset") or {}).get("item_count")), label)


@dataclass(frozen=True)
class FeatureConstraint:
    """One feature of a ``constraints.json`` (``overrides`` = its ``monitoringConfigOverrides``)."""

    name: str
    inferred_type: str
    completeness: float = math.nan
    is_non_negative: bool | None = None
    domains: tuple[str, ...] | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Constraints:
    """A parsed ``constraints.json``: features and the ``monitoring_config`` thresholds."""

    features: tuple[FeatureConstraint, ...]
    evaluate_constraints: bool = True
    datatype_check_threshold: float = 1.0
    domain_content_threshold: float = 1.0
    perform_comparison: bool = True
    comparison_threshold: float = 0.1
    comparison_method: str = "Robust"
    categorical_comparison_threshold: float = 0.1
    categorical_drift_method: str = "LInfinity"
    source: str = "constraints.json"

    @property
    def feature_names(self) -> list[str]:
        """Constrained feature names in file order."""
        return [f.name for f in self.features]


def _enabled(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("enabled", "true", "1")


def _threshold(value: Any, default: float) -> float:
    v = _num(value)
    return default if math.isnan(v) else v


def read_constraints(source: Source | Mapping[str, Any]) -> Constraints:
    """Read a Model Monitor baseline ``constraints.json``.

    Raises
    ------
    InputError
        If the file is not JSON or has no ``features`` list.
    """
    doc, label = _load_json(source, "constraints.json")
    feats = _features(doc, label, "constraints.json")
    out = []
    for f in feats:
        nums = f.get("num_constraints") or {}
        strs = f.get("string_constraints") or {}
        domains = strs.get("domains")
        out.append(
            FeatureConstraint(
                name=str(f["name"]),
                inferred_type=str(f.get("inferred_type", "Unknown")),
                completeness=_num(f.get("completeness")),
                is_non_negative=nums.get("is_non_negative"),
                domains=tuple(str(d) for d in domains) if isinstance(domains, list) else None,
                overrides=dict(f.get("monitoringConfigOverrides") or {}),
            )
        )
    cfg = doc.get("monitoring_config") or {}
    dist = cfg.get("distribution_constraints") or {}
    return Constraints(
        features=tuple(out),
        evaluate_constraints=_enabled(cfg.get("evaluate_constraints"), True),
        datatype_check_threshold=_threshold(cfg.get("datatype_check_threshold"), 1.0),
        domain_content_threshold=_threshold(cfg.get("domain_content_threshold"), 1.0),
        perform_comparison=_enabled(dist.get("perform_comparison"), True),
        comparison_threshold=_threshold(dist.get("comparison_threshold"), 0.1),
        comparison_method=str(dist.get("comparison_method") or dist.get("comparion_method") or "Robust"),
        categorical_comparison_threshold=_threshold(dist.get("categorical_comparison_threshold"), 0.1),
        categorical_drift_method=str(dist.get("categorical_drift_method") or "LInfinity"),
        source=label,
    )
