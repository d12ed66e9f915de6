"""Loggly: what ``cloudwatch-metrics-to-loggly`` posts (bulk JSON lines) and the events API returns.

Each event is one CloudWatch datapoint: ``{timestamp, sampleCount, average, sum, minimum, maximum,
metricName, namespace, <dimension>}`` with the dimension name's first letter lower-cased. The value
is ``average`` (there is no ``value`` field); ``trainingJobName`` names the job, or ``host``
``"<job>/algo-1"`` gives job and host. The older Lambda posted capitalised keys and a ``Label``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from lib.sources.base import Context, Parsed, as_list, fail, finish, parse_times, plural, split_host

_STANDARD: Final = {
    "timestamp",
    "samplecount",
    "average",
    "sum",
    "minimum",
    "maximum",
    "metricname",
    "namespace",
    "unit",
    "label",
    "responsemetadata",
}


def is_loggly_event(item: object) -> bool:
    """A Loggly metric event: has a metric name (or old-style Label) and an average."""
    if not isinstance(item, Mapping):
        return False
    keys = {str(k).lower() for k in item}
    return "average" in keys and ("metricname" in keys or "label" in keys)


def _row(event: Mapping[str, Any], stem: str) -> dict[str, Any]:
    lower = {str(k).lower(): v for k, v in event.items()}
    job, host = None, None
    if lower.get("trainingjobname"):
        job = str(lower["trainingjobname"])
    elif lower.get("host"):
        job, host = split_host(lower["host"])
    else:
        dims = [k for k in lower if k not in _STANDARD]
        job = str(lower[dims[0]]) if dims and lower[dims[0]] not in (None, "") else None
    return {
        "job": job if job else stem,
        "from_stem": not job,
        "metric": str(lower.get("metricname") or lower.get("label") or ""),
        "timestamp": lower.get("timestamp"),
        "value": lower.get("average"),
        "host": host,
    }


def parse_events(events: list[Any], ctx: Context, fmt: str) -> Parsed:
    """Loggly metric events (dicts) -> canonical metrics."""
    rows = [_row(e, ctx.stem) for e in events if is_loggly_event(e)]
    notes: list[str] = []
    if not rows:
        raise fail(ctx, "these Loggly events hold no CloudWatch metric datapoints (metricName + average).")
    if len(rows) < len(events):
        notes.append(f"{plural(len(events) - len(rows), 'event')} without metricName/average were skipped.")
    frame = pd.DataFrame(rows)
    stemmed = int(frame.pop("from_stem").sum())
    if stemmed:
        notes.append(f"{plural(stemmed, 'event')} name no job: used the file name ({ctx.stem}).")
    frame["timestamp"] = parse_times(frame["timestamp"].astype("object"))[0]
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    if frame["host"].isna().all():
        frame = frame.drop(columns="host")
    else:
        frame["host"] = frame["host"].astype("str")
    return Parsed(fmt, finish(frame, ctx, notes), notes=notes)


def parse_events_api(doc: Mapping[str, Any], ctx: Context) -> Parsed:
    """``/apiv2/events`` JSON: ``events[].event.json`` holds the posted datapoint."""
    items = []
    for event in as_list(doc.get("events")):
        if not isinstance(event, Mapping):
            continue
        body = event.get("event")
        payload = body.get("json") if isinstance(body, Mapping) else None
        if isinstance(payload, Mapping):
            if "timestamp" not in payload and event.get("timestamp") is not None:
                payload = {**payload, "timestamp": event["timestamp"]}
            items.append(payload)
    return parse_events(items, ctx, "loggly_events")


def looks_like_events_api(doc: object) -> bool:
    """``{"events": [{"event": {"json": ...}}]}``."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("events"), list):
        return False
    return any(isinstance(e, Mapping) and isinstance(e.get("event"), Mapping) for e in doc["events"][:50])
