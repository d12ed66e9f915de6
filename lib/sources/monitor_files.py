"""Model Monitor files: baseline statistics.json and constraints.json, and constraint_violations.json.

Each reader refuses the other Model Monitor files with a message naming what the file is and
where it belongs (:func:`monitor_file_kind` tells them apart by their keys).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Final, Literal, cast

import pandas as pd

from lib.errors import InputError
from lib.sources.files import Source, gunzip, parse_json, source_bytes

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
    if data[:2] == b"\x1f\x8b":
        data = gunzip(data, label)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{label}: is not valid JSON ({err}).", hint=f"Expected a Model Monitor {expected} file."
        ) from err
    return parse_json(text, label, hint=f"Expected a Model Monitor {expected} file."), label


#: What each Model Monitor file is, and where it belongs (for refusal messages).
_KINDS: Final = {
    "statistics": (
        "a statistics.json (Model Monitor baseline statistics)",
        "Put it in the statistics slot (baseline statistics.json).",
    ),
    "constraints": (
        "a constraints.json (Model Monitor baseline constraints)",
        "Put it in the constraints slot (baseline constraints.json).",
    ),
    "constraint violations": (
        "a constraint_violations.json (the result of a monitoring run, not a baseline)",
        "Read it as a violations history (read_violations); the baseline slots take "
        "statistics.json and constraints.json.",
    ),
    "model quality statistics": (
        "a model-quality statistics.json (regression/classification metrics, no features)",
        "Only data-quality baselines (with a 'features' list) can be checked here.",
    ),
    "model quality constraints": (
        "a model-quality constraints.json (metric thresholds, no features)",
        "Only data-quality baselines (with a 'features' list) can be checked here.",
    ),
}
_MODEL_QUALITY_KEYS: Final = (
    "regression_metrics",
    "binary_classification_metrics",
    "multiclass_classification_metrics",
)
_MODEL_QUALITY_CONSTRAINTS: Final = (
    "regression_constraints",
    "binary_classification_constraints",
    "multiclass_classification_constraints",
)


def monitor_file_kind(doc: Any) -> str | None:
    """Which Model Monitor JSON file a parsed document is, by its keys.

    Parameters
    ----------
    doc
        A parsed JSON document.

    Returns
    -------
    str or None
        ``"statistics"`` (features with ``numerical_statistics``/``string_statistics``),
        ``"constraints"`` (features with ``completeness``/``num_constraints``/
        ``string_constraints``, or a ``monitoring_config``), ``"constraint violations"`` (a
        ``violations`` list), ``"model quality statistics"`` / ``"model quality constraints"``
        (``regression_metrics`` ... / ``regression_constraints`` ...), else ``None``.
    """
    if not isinstance(doc, Mapping):
        return None
    if isinstance(doc.get("violations"), list):
        return "constraint violations"
    feats = doc.get("features")
    if isinstance(feats, list):
        dicts = [f for f in feats if isinstance(f, Mapping)]
        if any("numerical_statistics" in f or "string_statistics" in f for f in dicts):
            return "statistics"
        constraint_keys = ("completeness", "num_constraints", "string_constraints")
        if "monitoring_config" in doc or any(k in f for f in dicts for k in constraint_keys):
            return "constraints"
        return None
    if any(k in doc for k in _MODEL_QUALITY_KEYS):
        return "model quality statistics"
    if any(k in doc for k in _MODEL_QUALITY_CONSTRAINTS):
        return "model quality constraints"
    return None


def _refuse_other_kind(doc: Any, label: str, expected: str, accepted: str) -> None:
    kind = monitor_file_kind(doc)
    if kind is None or kind == accepted:
        return
    what, where = _KINDS[kind]
    raise InputError(f"{label}: this looks like {what}, not a {expected}.", hint=where)


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


def _obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else ``{}`` (a list or a number where an object belongs)."""
    return value if isinstance(value, dict) else {}


def _objs(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list (anything else in it, or a non-list, gives nothing)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _count(value: Any, label: str, feature: str, what: str) -> float:
    """A count from the file; a negative one is refused (it would turn weights and shares negative)."""
    n = _num(value)
    if n < 0:
        raise InputError(
            f"{label}: feature {feature!r} has a negative {what} ({n:g}).",
            hint="Counts in a Model Monitor statistics.json are never negative; regenerate the baseline.",
        )
    return n


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer beyond any float
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
        If the file is not JSON or not shaped like statistics.json; a constraints.json,
        constraint_violations.json or model-quality statistics.json is named as such.
    """
    doc, label = _load_json(source, "statistics.json")
    _refuse_other_kind(doc, label, "statistics.json", "statistics")
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
        common = _obj(block.get("common"))
        dist = _obj(block.get("distribution"))
        kll = _obj(dist.get("kll"))
        sketch = _obj(kll.get("sketch")).get("data")
        name = str(f["name"])
        out.append(
            FeatureStatistics(
                name=name,
                inferred_type=str(f.get("inferred_type", "Unknown")),
                num_present=_count(common.get("num_present"), label, name, "num_present"),
                num_missing=_count(common.get("num_missing", 0), label, name, "num_missing"),
                mean=_num(block.get("mean")),
                std=_num(block.get("std_dev")),
                min=_num(block.get("min")),
                max=_num(block.get("max")),
                distinct_count=_count(block.get("distinct_count"), label, name, "distinct_count"),
                numeric_buckets=tuple(
                    (
                        _num(b.get("lower_bound")),
                        _num(b.get("upper_bound")),
                        _count(b.get("count"), label, name, "bucket count"),
                    )
                    for b in _objs(kll.get("buckets"))
                ),
                categorical_buckets=tuple(
                    (str(b.get("value")), _count(b.get("count"), label, name, "category count"))
                    for b in _objs(_obj(dist.get("categorical")).get("buckets"))
                ),
                kll_sketch=tuple(  # keep a level's place even if it is malformed: it sets the weight
                    tuple(_num(v) for v in level) if isinstance(level, list) else ()
                    for level in (sketch if isinstance(sketch, list) else [])
                ),
            )
        )
    item_count = _num(_obj(doc.get("dataset")).get("item_count"))
    if item_count < 0:
        raise InputError(f"{label}: dataset.item_count is negative ({item_count:g}).")
    return Baseline(tuple(out), item_count, label)


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

    Parameters
    ----------
    source
        Path, bytes, binary file-like (an upload) or the already-parsed JSON object.

    Raises
    ------
    InputError
        If the file is not JSON or has no ``features`` list; a statistics.json,
        constraint_violations.json or model-quality file is named as such.
    """
    doc, label = _load_json(source, "constraints.json")
    _refuse_other_kind(doc, label, "constraints.json", "constraints")
    feats = _features(doc, label, "constraints.json")
    out = []
    for f in feats:
        nums = _obj(f.get("num_constraints"))
        strs = _obj(f.get("string_constraints"))
        domains = strs.get("domains")
        out.append(
            FeatureConstraint(
                name=str(f["name"]),
                inferred_type=str(f.get("inferred_type", "Unknown")),
                completeness=_num(f.get("completeness")),
                is_non_negative=nums.get("is_non_negative"),
                domains=tuple(str(d) for d in domains) if isinstance(domains, list) else None,
                overrides=_obj(f.get("monitoringConfigOverrides")),
            )
        )
    cfg = _obj(doc.get("monitoring_config"))
    dist = _obj(cfg.get("distribution_constraints"))
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


VIOLATION_COLUMNS: Final = ("feature_name", "constraint_check_type", "description")


def read_violations(source: Source | Mapping[str, Any] | Sequence[Source]) -> pd.DataFrame:
    """Read ``constraint_violations.json`` files (the output of monitoring executions).

    Parameters
    ----------
    source
        One file (path, bytes, upload or parsed JSON object) or a list of them, one per
        execution, oldest first.

    Returns
    -------
    pandas.DataFrame
        One row per violation: ``feature_name, constraint_check_type, description`` (empty when
        a custom container writes none), then any other scalar keys the entries carry (e.g.
        ``sentence``). With several files, a first column ``execution`` names the run each row
        comes from: the file name, or where every file has the same name (as in S3:
        ``<schedule>/yyyy/mm/dd/hh/constraint_violations.json``) the path part that differs, or
        ``#<n> <name>`` by position; rows keep the order of the files. A run without violations
        gives no rows.

    Raises
    ------
    InputError
        If a file is not JSON or has no ``violations`` list (a statistics or constraints file is
        named as such).
    """
    many = isinstance(source, list | tuple)
    items = list(source) if isinstance(source, list | tuple) else [cast(Source | Mapping[str, Any], source)]
    if not items:
        raise InputError("No constraint_violations.json given.")
    frames, labels = [], []
    for item in items:
        doc, label = _load_json(item, "constraint_violations.json")
        kind = monitor_file_kind(doc)
        if kind != "constraint violations":
            if kind is not None:
                what = _KINDS[kind][0]
            elif isinstance(doc, dict):
                what = f"JSON with keys {', '.join(sorted(map(str, doc))) or 'none'}"
            else:
                what = f"a JSON {type(doc).__name__}"
            raise InputError(
                f"{label}: this is {what}, not a constraint_violations.json.",
                hint='Expected {"violations": [{"feature_name", "constraint_check_type", '
                '"description"}, ...]}.',
            )
        rows = [v for v in doc["violations"] if isinstance(v, Mapping)]
        table = pd.DataFrame(
            [{k: v for k, v in row.items() if not isinstance(v, dict | list)} for row in rows]
        )
        for col in VIOLATION_COLUMNS:
            if col not in table.columns:
                table[col] = "" if col == "description" else pd.NA
        extra = [c for c in table.columns if c not in VIOLATION_COLUMNS]
        table["description"] = table["description"].fillna("").astype("str")
        frames.append(table[[*VIOLATION_COLUMNS, *extra]])
        labels.append(label)
    if not many:
        return frames[0].reset_index(drop=True)
    names = _execution_names(items, labels)
    out = pd.concat(
        [f.assign(execution=name) for f, name in zip(frames, names, strict=True)], ignore_index=True
    )
    if out.empty:
        out["execution"] = pd.Series(dtype="str")
    return out[["execution", *[c for c in out.columns if c != "execution"]]]


def _execution_names(items: Sequence[object], labels: list[str]) -> list[str]:
    if len(set(labels)) == len(labels):
        return labels
    paths = [Path(str(i)) if isinstance(i, str | PathLike) else None for i in items]
    if all(p is not None for p in paths):
        parents = [p.parent.parts for p in paths if p is not None]
        common = 0
        while all(len(q) > common and q[common] == parents[0][common] for q in parents):
            common += 1
        names = ["/".join(q[common:]) or labels[i] for i, q in enumerate(parents)]
        if len(set(names)) == len(names):
            return names
    return [f"#{i + 1} {label}" for i, label in enumerate(labels)]


# ------------------------------------------------------------------------------------------------
# Model Monitor files dropped where metrics exports are expected (lib.sources.load_export).
# ------------------------------------------------------------------------------------------------

_PAGE: Final = "open it on the Model Monitor page"


def _is_capture_record(item: Any) -> bool:
    return isinstance(item, Mapping) and isinstance(item.get("captureData"), Mapping)


def metrics_upload_error(doc: Any, name: str) -> InputError | None:
    """The error for a Model Monitor JSON file uploaded as a metrics export, else ``None``.

    Parameters
    ----------
    doc
        The parsed JSON document (a list for JSON Lines).
    name
        The file name to show.

    Returns
    -------
    InputError or None
        ``"<name>: this is a Model Monitor <statistics/constraints/constraint violations/data
        capture> file: open it on the Model Monitor page."`` (model-quality files are named as
        such: the page reads data-quality baselines only).
    """
    first = doc[0] if isinstance(doc, list) and doc else None
    if _is_capture_record(doc) or _is_capture_record(first):
        kind = "data capture"
    else:
        kind = monitor_file_kind(doc) or ""
    if not kind:
        return None
    if kind.startswith("model quality"):
        return InputError(
            f"{name}: this is a Model Monitor {kind} file, not a metrics export.",
            hint="Driftwatch's Model Monitor page reads data-quality files (statistics.json, "
            "constraints.json, constraint_violations.json, data capture).",
        )
    return InputError(f"{name}: this is a Model Monitor {kind} file: {_PAGE}.")


#: Time columns of inference data (Model Monitor datasets, drift tables), not of metrics.
_DATASET_TIME: Final = ("eventtime", "inferencetime")


def dataset_upload_error(columns: Sequence[str], name: str) -> InputError | None:
    """The error for a dataset CSV (one row per inference) uploaded as a metrics export.

    A header with an ``event_time``/``inference_time`` column, no job, epoch or step column and
    no SageMaker-style metric name (``train:loss``) is inference data, such as a Model Monitor
    dataset: its feature columns are not metrics over time.

    Parameters
    ----------
    columns
        The CSV header's column names.
    name
        The file name to show.

    Returns
    -------
    InputError or None
    """
    keys = [re.sub(r"[^a-z0-9:]", "", str(c).lower()) for c in columns]
    time = next((c for c, k in zip(columns, keys, strict=True) if k in _DATASET_TIME), None)
    run_keys = {"job", "trainingjobname", "jobname", "epoch", "iteration", "step", "metric"}
    if time is None or any(k in run_keys or ":" in k for k in keys):
        return None
    return InputError(
        f"{name}: this is a dataset (one row per inference, time in {time!r}), not metrics over "
        "time: open it on the Input drift page (reference/current data) or the Model Monitor page.",
        hint="The training-runs page reads metric exports: TrainingJobAnalytics CSV, CloudWatch "
        "JSON, training logs ...",
    )
