"""CSV exports: TrainingJobAnalytics, Logs Insights, Loggly grid, generic long and wide tables.

Headers are matched forgivingly (``TrainingJobName`` = ``training_job_name`` = ``job``), the
separator is sniffed from the header (``,`` ``;`` tab ``|``) and decimal commas are accepted. The
fast path is pandas' pyarrow CSV reader; malformed files fall back to the Python engine, which
skips (and counts) broken rows.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from lib.sources import summaries
from lib.sources.base import (
    Context,
    Parsed,
    fail,
    find_column,
    finish,
    normalise_header,
    parse_times,
    parse_values,
    plural,
    stream_job_host,
)
from lib.sources.csv_table import (
    MAX_COLUMNS,
    first_line,
    read_header,
    read_table,
    sniff_separator,
    unique_names,
)
from lib.sources.logs import hits_to_metrics, join_lines, scan_text

JOB_ALIASES: Final = ("job", "trainingjobname", "jobname", "trainingjob", "run", "runname")


METRIC_ALIASES: Final = ("metric", "metricname", "metrics")


TIME_ALIASES: Final = ("timestamp", "time", "datetime", "date", "ts", "eventtime")


VALUE_ALIASES: Final = ("value", "average", "avg", "mean", "val")


EPOCH_ALIASES: Final = ("epoch", "iteration", "iter", "step")


HOST_ALIASES: Final = ("host", "hostname", "instance")


def parse_csv(text: str, raw: bytes, ctx: Context) -> Parsed | None:
    """Parse a CSV whose header names a known export; ``None`` if the header is not recognised."""
    header = first_line(text)
    sep = sniff_separator(header)
    columns = read_header(header, sep)
    if columns is None:
        if header.count(sep) + 1 > MAX_COLUMNS:
            raise fail(
                ctx, f"this table has more than {MAX_COLUMNS:,} columns, too many to be a metrics export."
            )
        return None
    names, dupes = unique_names(columns)
    norm = {normalise_header(c) for c in columns}
    notes: list[str] = []
    if dupes:
        notes.append(f"Column(s) {', '.join(dupes)} appear more than once; the first of each was used.")

    if "trainingjobname" in norm and "finalobjectivevalue" in norm:
        return summaries.parse_tuning(raw, sep, names, ctx, notes)
    if "trialcomponentname" in norm or ("sourcearn" in norm and any(" - Last" in c for c in columns)):
        return summaries.parse_experiments(raw, sep, names, ctx, notes)
    if "message" in norm and any(c.startswith("@") for c in columns):
        return _parse_insights(raw, sep, names, ctx, notes)
    if {"metricname", "value", "timestamp"} <= norm and (
        columns[0] == ""
        or normalise_header(columns[0])
        in {
            "unnamed0",
            "index",
        }
    ):
        return _parse_long(raw, sep, names, ctx, notes, fmt="training_job_analytics")
    metric_col = find_column(names, METRIC_ALIASES)
    value_col = find_column(names, VALUE_ALIASES)
    if metric_col is not None and value_col is not None:
        fmt = "loggly_csv" if any(c.lower().startswith("json.") for c in columns) else "long_csv"
        return _parse_long(raw, sep, names, ctx, notes, fmt=fmt)
    return None


def _job_column(table: pd.DataFrame, ctx: Context, notes: list[str]) -> tuple[pd.Series, pd.Series | None]:
    """Job (and host) per row: a job column, else a Loggly ``host`` "job/algo-1", else the file stem."""
    names = list(table.columns)
    job_col = find_column(names, JOB_ALIASES)
    host_col = find_column(names, HOST_ALIASES)
    job = pd.Series(pd.NA, index=table.index, dtype="str")
    host = None
    if job_col is not None:
        job = table[job_col].astype("str").where(lambda s: s.str.len() > 0)
    if host_col is not None:
        host_text = table[host_col].astype("str").where(lambda s: s.str.len() > 0)
        split = host_text.str.split("/", n=1)
        job = job.where(job.notna(), split.str[0])
        host = split.str[1].where(
            host_text.str.contains("/", regex=False).fillna(False).astype(bool), host_text
        )
    missing = job.isna()
    if missing.all():
        notes.append(f"No job column: job name taken from the file name ({ctx.stem}).")
    elif missing.any():
        notes.append(f"{plural(int(missing.sum()), 'row')} without a job name were given the file name.")
    return job.fillna(ctx.stem), host


def _parse_long(
    raw: bytes, sep: str, names: list[str], ctx: Context, notes: list[str], *, fmt: str
) -> Parsed:
    table = read_table(raw, sep, names, notes)
    if table.empty:
        raise fail(ctx, "this CSV has a header but no data rows.")
    metric_col = find_column(names, METRIC_ALIASES)
    value_col = find_column(names, VALUE_ALIASES)
    time_col = find_column(names, TIME_ALIASES)
    epoch_col = find_column(names, EPOCH_ALIASES)
    assert metric_col is not None  # checked by parse_csv
    assert value_col is not None
    if fmt == "training_job_analytics":
        job, host = pd.Series(ctx.stem, index=table.index, dtype="str"), None
        notes.append(f"TrainingJobAnalytics files carry no job name: used the file name ({ctx.stem}).")
    else:
        job, host = _job_column(table, ctx, notes)
    frame = pd.DataFrame(
        {
            "job": job,
            "metric": table[metric_col].astype("str"),
            "value": parse_values(table[value_col]),
        }
    )
    require_time = True
    if time_col is not None:
        timestamps, elapsed = parse_times(table[time_col])
        frame["timestamp"] = timestamps
        if elapsed is not None:
            frame["elapsed_s"] = elapsed
            require_time = False
            notes.append("Times are seconds since each metric's first point (no clock time in the file).")
    else:
        frame["timestamp"] = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns, UTC]")
        require_time = False
        notes.append("No time column: rows are ordered by epoch only.")
    if epoch_col is not None:
        frame["epoch"] = pd.to_numeric(table[epoch_col], errors="coerce").round().astype("Int64")
    if host is not None and host.notna().any():
        frame["host"] = host
    missing_metric = frame["metric"].isna() | (frame["metric"].str.len() == 0)
    if missing_metric.any():
        notes.append(f"{plural(int(missing_metric.sum()), 'row')} without a metric name were skipped.")
        frame = frame.loc[~missing_metric]
    return Parsed(fmt, finish(frame, ctx, notes, require_time=require_time), notes=notes)


def _parse_insights(raw: bytes, sep: str, names: list[str], ctx: Context, notes: list[str]) -> Parsed:
    table = read_table(raw, sep, names, notes, as_text=True)
    if table.empty:
        raise fail(ctx, "this Logs Insights export has a header but no rows.")
    message_col = next(c for c in names if normalise_header(c) == "message")
    time_col = next((c for c in names if normalise_header(c) == "timestamp"), None)
    stream_col = next((c for c in names if normalise_header(c) == "logstream"), None)
    text, _ = join_lines(table[message_col].fillna(""))
    hits, n_long = scan_text(text, metric_definitions=ctx.metric_definitions)
    if n_long:
        notes.append(f"{plural(n_long, 'message')} too long to search for metrics were skipped.")
    if hits.empty:
        raise fail(
            ctx,
            "this is a Logs Insights export, but no @message holds a metric line.",
            hint="Query the training log group, or add metric definitions for your algorithm.",
        )
    positions = pd.RangeIndex(len(table))
    if stream_col is not None:
        job, host = stream_job_host(table[stream_col].fillna(ctx.stem))
        job = pd.Series(job.to_numpy(), index=positions)
        host = pd.Series(host.to_numpy(), index=positions)
    else:
        job, host = pd.Series(ctx.stem, index=positions, dtype="str"), None
        notes.append(f"No @logStream column: job name taken from the file name ({ctx.stem}).")
    timestamps = None
    if time_col is not None:
        timestamps = pd.Series(parse_times(table[time_col])[0].to_numpy(), index=positions)
    frame = hits_to_metrics(hits, job=job, host=host, timestamps=timestamps)
    return Parsed("logs_insights_csv", finish(frame, ctx, notes, require_time=False), notes=notes)


def parse_wide(text: str, raw: bytes, ctx: Context) -> Parsed | None:
    """A wide table: one time (or epoch) column, optional job column, one numeric column per metric."""
    header = first_line(text)
    sep = sniff_separator(header)
    columns = read_header(header, sep)
    if columns is None or len(columns) < 2:
        return None
    names, dupes = unique_names(columns)
    time_col = find_column(names, TIME_ALIASES)
    epoch_col = find_column(names, EPOCH_ALIASES)
    if time_col is None and epoch_col is None:
        return None
    notes: list[str] = []
    if dupes:
        notes.append(f"Column(s) {', '.join(dupes)} appear more than once; the first of each was used.")
    table = read_table(raw, sep, names, notes)
    if table.empty:
        raise fail(ctx, "this CSV has a header but no data rows.")
    job, host = _job_column(table, ctx, notes)
    skip = {time_col, epoch_col, find_column(names, JOB_ALIASES), find_column(names, HOST_ALIASES)}
    skip |= {c for c in names if c.startswith("unnamed") or normalise_header(c) in {"", "unnamed0", "index"}}
    skip |= {n for n, c in zip(names, columns, strict=True) if n != (c or "unnamed")}  # later duplicates
    candidates = [c for c in names if c not in skip]
    # Columns pyarrow already read as numbers need no per-column parsing (wide files can have
    # thousands of columns); only text columns go through the forgiving parser.
    numeric = [c for c in candidates if pd.api.types.is_numeric_dtype(table[c].dtype)]
    metric_values: dict[str, np.ndarray] = {}
    if numeric:
        block = table[numeric].to_numpy(dtype="float64", na_value=np.nan)
        metric_values = {c: block[:, i] for i, c in enumerate(numeric)}
    ignored = []
    for col in candidates:
        if col in metric_values:
            continue
        values = parse_values(table[col])
        filled = table[col].notna().sum()
        if filled and values.notna().sum() >= 0.5 * filled:
            metric_values[col] = values.to_numpy(dtype="float64")
        else:
            ignored.append(col)
    metric_values = {c: metric_values[c] for c in candidates if c in metric_values}
    if not metric_values:
        return None
    if ignored:
        shown = ", ".join(ignored[:5]) + (" ..." if len(ignored) > 5 else "")
        notes.append(f"Non-numeric column(s) ignored: {shown}.")
    if time_col is not None:
        timestamps, elapsed = parse_times(table[time_col])
    else:
        timestamps = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns, UTC]")
        elapsed = None
    epoch = (
        pd.to_numeric(table[epoch_col], errors="coerce").round().astype("Int64")
        if epoch_col is not None
        else pd.Series(pd.NA, index=table.index, dtype="Int64")
    )
    n = len(table)
    frame = pd.DataFrame(
        {
            "job": np.tile(job.to_numpy(dtype=object), len(metric_values)),
            "metric": np.repeat(np.array(list(metric_values), dtype=object), n),
            "timestamp": pd.Series(
                np.tile(timestamps.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]"), len(metric_values))
            ).dt.tz_localize("UTC"),
            "value": np.concatenate(list(metric_values.values())),
            "epoch": pd.arrays.IntegerArray(
                np.tile(epoch.to_numpy(dtype="int64", na_value=0), len(metric_values)),
                np.tile(epoch.isna().to_numpy(), len(metric_values)),
            ),
        }
    )
    if host is not None and host.notna().any():
        frame["host"] = np.tile(host.to_numpy(dtype=object), len(metric_values))
    require_time = time_col is not None and elapsed is None
    if elapsed is not None:
        frame["elapsed_s"] = np.tile(elapsed.to_numpy(dtype="float64"), len(metric_values))
    if time_col is None:
        notes.append("No time column: rows are ordered by epoch only.")
    return Parsed("wide_csv", finish(frame, ctx, notes, require_time=require_time), notes=notes)
