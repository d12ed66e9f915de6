"""Endpoint latency exports (CloudWatch CLI JSON / console CSV) -> the latency frame."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from typing import Any, Final, cast

import numpy as np
import pandas as pd

from lib.errors import InputError
from lib.schema import to_utc, utc_timestamp
from lib.sources.files import Source, csv_cells, parse_json, source_bytes, source_list

LATENCY_NAMESPACE: Final = "AWS/SageMaker"


LATENCY_DIMENSIONS: Final = ("EndpointName", "VariantName")


LATENCY_METRICS: Final = ("ModelLatency", "OverheadLatency")


PERCENTILES: Final = ("p50", "p90", "p99")
LATENCY_COLUMNS: Final = ("timestamp", "endpoint", "variant", "metric", "stat", "value_us")


_STAT_RE: Final = re.compile(
    r"^(p\d{1,2}(?:\.\d+)?|average|avg|mean|minimum|min|maximum|max|sum|samplecount)$", re.I
)


_STAT_NAMES: Final = {
    "average": "Average",
    "avg": "Average",
    "mean": "Average",
    "minimum": "Minimum",
    "min": "Minimum",
    "maximum": "Maximum",
    "max": "Maximum",
    "sum": "Sum",
    "samplecount": "SampleCount",
}


_UNIT_TO_US: Final = {"microseconds": 1.0, "milliseconds": 1e3, "seconds": 1e6}


_SKIP_STATS: Final = ("Sum", "SampleCount")


def normalise_stat(token: str) -> str:
    t = token.strip()
    return t.lower() if t.lower().startswith("p") else _STAT_NAMES.get(t.lower(), t)


def empty_latency() -> pd.DataFrame:
    """An empty tidy latency frame (``LATENCY_COLUMNS``)."""
    return latency_frame([])


def _float(value: Any) -> float:
    """A number from the export; NaN (the row is dropped) for anything else, huge integers included."""
    if isinstance(value, bool):
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return float("nan")


def latency_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(LATENCY_COLUMNS))
    out = pd.DataFrame(
        {
            # one at a time: a hostile stamp (1e300, a bare number, year 99999) becomes NaT, dropped below
            "timestamp": to_utc(pd.Series([utc_timestamp(v) for v in frame["timestamp"]], dtype=object)),
            "endpoint": frame["endpoint"].astype("str"),
            "variant": frame["variant"].astype("str"),
            "metric": frame["metric"].astype("str"),
            "stat": frame["stat"].astype("str"),
            "value_us": pd.to_numeric(frame["value_us"], errors="coerce").astype("float64"),
        }
    )
    out = out.loc[out["timestamp"].notna() & np.isfinite(out["value_us"].to_numpy())]
    return out.sort_values(["endpoint", "variant", "metric", "stat", "timestamp"], kind="stable").reset_index(
        drop=True
    )


def _parse_label(label: str, query_id: str) -> tuple[str, str, str, str]:
    """(metric, stat, endpoint, variant) from a label (``"ep AllTraffic ModelLatency p90"``)."""
    tokens = label.split()
    stat = next((normalise_stat(t) for t in tokens if _STAT_RE.match(t)), None)
    rest = [t for t in tokens if not _STAT_RE.match(t)]
    if stat is None:
        stat = next(
            (normalise_stat(t) for t in re.split(r"[_\-\s]+", query_id) if _STAT_RE.match(t)), "Average"
        )
    metric = next((t for t in rest if t in LATENCY_METRICS or t.endswith("Latency")), None)
    if metric is None:
        return (" ".join(rest) or query_id or "value"), stat, "", ""
    others = [t for t in rest if t != metric]
    endpoint = others[0] if others else ""
    variant = others[1] if len(others) > 1 else ""
    return metric, stat, endpoint, variant


def _latency_json(doc: Any, name: str, endpoint: str, variant: str) -> list[dict[str, Any]]:
    if isinstance(doc, list):
        return [r for part in doc for r in _latency_json(part, name, endpoint, variant)]
    if not isinstance(doc, dict):
        raise InputError(
            f"{name}: found a JSON {type(doc).__name__}, not a CloudWatch export.",
            hint="Expected the output of `aws cloudwatch get-metric-statistics` (Datapoints) or "
            "`get-metric-data` (MetricDataResults).",
        )
    rows: list[dict[str, Any]] = []
    if "Datapoints" in doc:
        metric = str(doc.get("Label") or "ModelLatency")
        points = doc["Datapoints"] if isinstance(doc["Datapoints"], list) else []
        for dp in (p for p in points if isinstance(p, dict)):
            factor = _UNIT_TO_US.get(str(dp.get("Unit", "Microseconds")).lower(), 1.0)
            stats_here = {k: v for k, v in dp.items() if k in ("Average", "Minimum", "Maximum")}
            extended = dp.get("ExtendedStatistics")
            if isinstance(extended, dict):
                stats_here.update({normalise_stat(k): v for k, v in extended.items()})
            for stat, value in stats_here.items():
                rows.append(
                    {
                        "timestamp": dp.get("Timestamp"),
                        "endpoint": endpoint,
                        "variant": variant,
                        "metric": metric,
                        "stat": stat,
                        "value_us": _float(value) * factor,
                    }
                )
        return rows
    if "MetricDataResults" in doc:
        results = doc["MetricDataResults"] if isinstance(doc["MetricDataResults"], list) else []
        for res in (r for r in results if isinstance(r, dict)):
            metric, stat, ep, var = _parse_label(str(res.get("Label", "")), str(res.get("Id", "")))
            if stat in _SKIP_STATS:
                continue
            stamps, values = res.get("Timestamps"), res.get("Values")
            if not isinstance(stamps, list) or not isinstance(values, list):
                continue
            for ts, value in zip(stamps, values, strict=False):
                rows.append(
                    {
                        "timestamp": ts,
                        "endpoint": ep or endpoint,
                        "variant": var or variant,
                        "metric": metric,
                        "stat": stat,
                        "value_us": _float(value),
                    }
                )
        return rows
    raise InputError(
        f"{name}: the JSON has keys {', '.join(sorted(map(str, doc))) or '(none)'}, not a CloudWatch export.",
        hint="Expected 'Datapoints' (get-metric-statistics) or 'MetricDataResults' (get-metric-data).",
    )


_CSV_ALIASES: Final = {
    "timestamp": ("timestamp", "time", "datetime", "date", "@timestamp"),
    "metric": ("metric", "metric_name", "metricname"),
    "value": ("value", "value_us", "latency", "latency_us", "value_ms", "latency_ms"),
    "endpoint": ("endpoint", "endpointname", "endpoint_name"),
    "variant": ("variant", "variantname", "variant_name"),
    "stat": ("stat", "statistic"),
}


def _latency_csv(data: bytes, name: str, endpoint: str, variant: str) -> list[dict[str, Any]]:
    csv_cells(data, name)
    try:
        frame = pd.read_csv(io.BytesIO(data))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(f"{name}: could not be read as CSV ({err}).") from err
    lower = {str(c).strip().lower(): c for c in frame.columns}
    found = {
        key: next((lower[a] for a in aliases if a in lower), None) for key, aliases in _CSV_ALIASES.items()
    }
    ts_col, value_col = found["timestamp"], found["value"]
    if ts_col is None:
        raise InputError(
            f"{name}: no timestamp column; found columns {', '.join(map(str, frame.columns))}.",
            hint="Expected columns timestamp, metric, value [, endpoint, variant] (value in microseconds).",
        )
    wide = [c for c in frame.columns if str(c).endswith("Latency")]
    if value_col is None and wide:
        # A wide export: one column per metric.
        frame = frame.melt(
            id_vars=[c for c in frame.columns if c not in wide], value_vars=wide, var_name="_m"
        )
        found["metric"], value_col = "_m", "value"
    if value_col is None:
        raise InputError(
            f"{name}: no value column; found columns {', '.join(map(str, frame.columns))}.",
            hint="Expected columns timestamp, metric, value [, endpoint, variant] (value in microseconds).",
        )
    factor = 1e3 if str(value_col).lower().endswith("_ms") else 1.0
    n = len(frame)

    def column(key: str, default: str) -> pd.Series:
        col = found[key]
        return frame[col].astype("str") if col is not None else pd.Series([default] * n, index=frame.index)

    values = pd.to_numeric(frame[value_col], errors="coerce") * factor
    rows = pd.DataFrame(
        {
            "timestamp": frame[ts_col],
            "endpoint": column("endpoint", endpoint),
            "variant": column("variant", variant),
            "metric": column("metric", "ModelLatency"),
            "stat": column("stat", "Average").map(normalise_stat),
            "value_us": values,
        }
    ).to_dict("records")
    return cast(list[dict[str, Any]], rows)  # labels are the str keys above (pandas-stubs: Hashable)


def read_latency_export(
    source: Source | Sequence[Source],
    name: str | None = None,
    *,
    endpoint: str = "",
    variant: str = "",
) -> pd.DataFrame:
    """Read endpoint latency exported from CloudWatch into a tidy frame.

    Accepted: ``aws cloudwatch get-metric-statistics`` JSON (``Datapoints`` with ``Average``/
    ``Minimum``/``Maximum`` and ``ExtendedStatistics`` such as ``p50``/``p90``/``p99``; ``Unit``
    honoured), ``get-metric-data`` JSON (``MetricDataResults``; metric, statistic, endpoint and
    variant read from each ``Label`` such as ``"my-endpoint AllTraffic ModelLatency p90"``), or a
    CSV with ``timestamp, metric, value [, endpoint, variant, stat]`` (value in microseconds, or a
    ``value_ms`` column) or a wide CSV with one ``…Latency`` column per metric. Several sources
    are concatenated.

    Parameters
    ----------
    source
        Path, bytes, binary file-like (an upload), or a list of them.
    name
        File name for messages (default: the path or upload name).
    endpoint, variant
        Used where the export does not say (get-metric-statistics output carries no dimensions).

    Returns
    -------
    pandas.DataFrame
        Columns ``timestamp`` (UTC), ``endpoint``, ``variant``, ``metric``, ``stat``, ``value_us``.

    Raises
    ------
    InputError
        Naming the file, what was found and what was expected.
    """
    rows: list[dict[str, Any]] = []
    for src in source_list(source):
        data, label = source_bytes(src, name)
        text = data.lstrip()
        if text[:1] in (b"{", b"["):
            try:
                doc = json.loads(data.decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                raise InputError(f"{label}: looks like JSON but does not parse ({err}).") from err
            except (RecursionError, ValueError):  # too deep, or an integer of thousands of digits
                doc = parse_json(data.decode("utf-8-sig"), label)  # raises the InputError that says which
            rows.extend(_latency_json(doc, label, endpoint, variant))
        else:
            rows.extend(_latency_csv(data, label, endpoint, variant))
    return latency_frame(rows)
