"""Training-run charts: accuracy over time (the sawtooth), runs overlaid by epoch, final values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import altair as alt
import pandas as pd

from lib.analysis import runs
from lib.errors import InputError

#: Rows above this are thinned with ``runs.downsample`` before they are embedded in a chart.
MAX_CHART_POINTS: Final = 5000


FADED: Final = 0.12


DETAIL_HEIGHT: Final = 320


OVERVIEW_HEIGHT: Final = 60


TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S UTC"


# Label each tick by its own granularity: day boundaries show the date, others the time of day.
AXIS_TIME_FORMAT: Final = {
    "year": "%Y",
    "quarter": "%b %Y",
    "month": "%b %Y",
    "week": "%b %d",
    "date": "%b %d",
    "hours": "%H:%M",
    "minutes": "%H:%M",
    "seconds": "%H:%M:%S",
    "milliseconds": "%H:%M:%S.%L",
}


def _split_of(metric: str) -> str:
    """``validation:accuracy`` -> ``validation``; names without a channel prefix are their own split."""
    return metric.split(":", 1)[0] if ":" in metric else metric


def chart_rows(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Only the columns a chart needs, in JSON-friendly dtypes (no nullable ints, no pd.NA)."""
    out = pd.DataFrame(index=frame.index)
    for col in columns:
        if col not in frame.columns:
            continue
        series = frame[col]
        if isinstance(series.dtype, pd.Int64Dtype | pd.Float64Dtype):
            out[col] = series.astype("float64")
        elif isinstance(series.dtype, pd.StringDtype) or series.dtype == object:
            out[col] = series.astype("str")
        else:
            out[col] = series
    return out.reset_index(drop=True)


def _between_runs(data: pd.DataFrame) -> pd.DataFrame:
    """Per metric, one two-point segment from each run's last point to the next run's first point."""
    columns = {"timestamp": "datetime64[ns, UTC]", "value": "float64", "metric": "str", "segment": "str"}
    if data.empty:
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})
    ends = (
        data.sort_values("timestamp")
        .groupby(["metric", "job"], sort=False)
        .agg(t0=("timestamp", "first"), v0=("value", "first"), t1=("timestamp", "last"), v1=("value", "last"))
        .reset_index()
        .sort_values(["metric", "t0"])
    )
    rows = []
    for metric, runs_of_metric in ends.groupby("metric", sort=False):
        ordered = runs_of_metric.reset_index(drop=True)
        for k in range(len(ordered) - 1):
            seg = f"{metric}#{k}"
            rows.append((ordered.at[k, "t1"], ordered.at[k, "v1"], metric, seg))
            rows.append((ordered.at[k + 1, "t0"], ordered.at[k + 1, "v0"], metric, seg))
    out = pd.DataFrame(rows, columns=list(columns))
    return out.astype(columns) if len(out) else _between_runs(data.iloc[0:0])


def _run_colors(n_runs: int) -> alt.Scale:
    """category10 while it has enough distinct colours, tableau20 beyond (no repeated colour)."""
    return alt.Scale(scheme="category10" if n_runs <= 10 else "tableau20")


def accuracy_over_time(
    frame: pd.DataFrame,
    *,
    metrics: Sequence[str] = ("train:accuracy", "validation:accuracy"),
    title: str = "Accuracy over time",
    max_points: int = MAX_CHART_POINTS,
) -> alt.VConcatChart:
    """Every run's metrics against wall-clock time, with a zoomable overview strip.

    Each run climbs while it trains and the next starts after a flat stretch, so repeated training
    draws a sawtooth: a slope is a run, a gap is the time between runs. Colour is the run, dash
    is the metric (train solid, validation dashed). Drag on the strip below to zoom (``zoom``);
    click a run in the legend to fade the others (``pick_job``).

    Parameters
    ----------
    frame
        Canonical metrics frame (other metrics are ignored).
    metrics
        Metric names to draw.
    title
        Chart title.
    max_points
        Longer data is thinned per series with ``runs.downsample`` (spikes kept).
    """
    rows = frame.loc[frame["metric"].isin(list(metrics)) & frame["timestamp"].notna()]
    rows = runs.downsample(rows, max_points=max_points, x="timestamp")
    data = chart_rows(rows, ["job", "metric", "timestamp", "value", "epoch"])
    data["split"] = data["metric"].map(_split_of).astype("str") if len(data) else pd.Series([], dtype="str")
    data["time_utc"] = data["timestamp"].dt.strftime(TIME_FORMAT) if len(data) else pd.Series([], dtype="str")

    zoom = alt.selection_interval(encodings=["x"], name="zoom")
    pick_job = alt.selection_point(fields=["job"], bind="legend", name="pick_job")
    metric_order = [m for m in metrics if m in set(data["metric"])] or list(metrics)
    n_runs = data["job"].nunique()
    color = (
        alt.Color("job:N")
        .title("Run")
        .scale(_run_colors(n_runs))
        .legend(orient="bottom", columns=2, labelLimit=320)
    )
    dash = (
        alt.StrokeDash("metric:N")
        .title("Metric")
        .legend(symbolType="stroke", symbolStrokeWidth=2, orient="bottom")
        .sort(metric_order)
        .scale(
            domain=metric_order, range=[[1, 0], [6, 3], [2, 2], [8, 2, 2, 2]][: len(metric_order)] or [[1, 0]]
        )
    )
    base = alt.Chart(data)
    detail = (
        base.mark_line(clip=True, strokeWidth=1.6, point=alt.OverlayMarkDef(size=14, filled=True))
        .encode(
            x=alt.X("timestamp:T")
            .title("Time (UTC)")
            .scale(type="utc", domain=zoom)
            .axis(format=AXIS_TIME_FORMAT, tickCount=8, labelOverlap=True),
            y=alt.Y("value:Q").title("Value").scale(zero=False),
            color=color,
            strokeDash=dash,
            detail="metric:N",
            opacity=alt.when(pick_job).then(alt.value(1.0)).otherwise(alt.value(FADED)),
            tooltip=[
                alt.Tooltip("job:N").title("Run"),
                alt.Tooltip("metric:N").title("Metric"),
                alt.Tooltip("time_utc:N").title("Time"),
                alt.Tooltip("value:Q").title("Value").format(".4f"),
                alt.Tooltip("epoch:Q").title("Epoch").format("d"),
            ],
        )
        .properties(height=DETAIL_HEIGHT, width="container")
        .add_params(pick_job)
    )
    # The sawtooth's flat stretches: from each run's last point, its final value held until the next
    # run's first point, then the drop to where that run starts (grey, behind the runs).
    hold = (
        alt.Chart(_between_runs(data))
        .mark_line(interpolate="step-after", clip=True, strokeWidth=1, color="#9aa4b2")
        .encode(
            x=alt.X("timestamp:T").scale(type="utc", domain=zoom),
            y=alt.Y("value:Q").scale(zero=False),
            detail="segment:N",
            opacity=alt.value(0.7),
        )
    )
    overview = (
        base.mark_line(strokeWidth=1)
        .encode(
            x=alt.X("timestamp:T")
            .title("Drag here to zoom; double-click to reset")
            .scale(type="utc")
            .axis(format=AXIS_TIME_FORMAT, tickCount=8, labelOverlap=True),
            y=alt.Y("value:Q").title(None).axis(None).scale(zero=False),
            color=alt.Color("job:N").scale(_run_colors(n_runs)).legend(None),
            detail="metric:N",
            opacity=alt.value(0.6),
        )
        .properties(height=OVERVIEW_HEIGHT, width="container")
        .add_params(zoom)
    )
    subtitle = f"{', '.join(metrics)}; a rising slope is a run, a flat grey stretch the time between runs"
    top = alt.layer(hold, detail).properties(height=DETAIL_HEIGHT, width="container")
    return alt.vconcat(top, overview, spacing=8).properties(
        title=alt.Title(title, subtitle=subtitle),
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding", resize=True),
    )


def runs_overlay(
    frame: pd.DataFrame,
    *,
    metric: str,
    x_kind: str | None = None,
    smoothed: bool = False,
    title: str | None = None,
) -> alt.LayerChart:
    """Runs laid over each other from their own start (epoch or elapsed time), to compare curves.

    Parameters
    ----------
    frame
        Output of ``runs.align_runs`` (needs ``x``), after ``runs.smooth`` when ``smoothed``.
    metric
        Name for the y axis and title.
    x_kind
        ``"epoch"`` or ``"elapsed_s"`` (shown in minutes); defaults to the frame's ``x_kind`` column.
    smoothed
        Draw the raw values faintly (opacity 0.25) under a ``smoothed`` line.

    Raises
    ------
    InputError
        If ``x`` (or ``smoothed`` when asked for) is missing.
    """
    if "x" not in frame.columns:
        raise InputError("The frame has no 'x' column.", hint="Pass it through runs.align_runs first.")
    if smoothed and "smoothed" not in frame.columns:
        raise InputError("The frame has no 'smoothed' column.", hint="Pass it through runs.smooth first.")
    if x_kind is None:
        x_kind = str(frame["x_kind"].iloc[0]) if "x_kind" in frame.columns and len(frame) else "epoch"
    data = chart_rows(frame, ["job", "metric", "x", "value", "smoothed", "epoch"])
    if x_kind == "epoch":
        x_field, x_title, x_format = "x", "Epoch", "d"
    else:
        data["x_min"] = data["x"] / 60.0 if len(data) else pd.Series([], dtype="float64")
        x_field, x_title, x_format = "x_min", "Elapsed time since the run's first point (min)", ".1f"

    pick_job = alt.selection_point(fields=["job"], bind="legend", name="pick_job")
    x = alt.X(f"{x_field}:Q").title(x_title)
    tooltip = [
        alt.Tooltip("job:N").title("Run"),
        alt.Tooltip(f"{x_field}:Q").title(x_title).format(x_format),
        alt.Tooltip("value:Q").title(metric).format(".4f"),
    ]
    if smoothed:
        tooltip.append(alt.Tooltip("smoothed:Q").title("Smoothed").format(".4f"))
    color = (
        alt.Color("job:N")
        .title("Run")
        .scale(_run_colors(data["job"].nunique()))
        .legend(orient="bottom", columns=2, labelLimit=320, symbolOpacity=1.0)
    )
    base = alt.Chart(data).encode(x=x, color=color, tooltip=tooltip)
    raw_opacity = 0.25 if smoothed else 1.0
    raw = (
        base.mark_line(strokeWidth=1.2, point=not smoothed and len(data) <= 2000)
        .encode(
            y=alt.Y("value:Q").title(metric).scale(zero=False),
            opacity=alt.when(pick_job).then(alt.value(raw_opacity)).otherwise(alt.value(FADED * raw_opacity)),
        )
        .add_params(pick_job)
    )
    layers: list[alt.Chart] = [raw]
    if smoothed:
        layers.append(
            base.mark_line(strokeWidth=2.2).encode(
                y=alt.Y("smoothed:Q").title(metric),
                opacity=alt.when(pick_job).then(alt.value(1.0)).otherwise(alt.value(FADED)),
            )
        )
    heading = title or f"{metric} by {'epoch' if x_kind == 'epoch' else 'elapsed time'}, runs overlaid"
    return alt.LayerChart(
        layer=layers,
        title=alt.Title(heading, subtitle="Click a run in the legend to highlight it"),
        height=DETAIL_HEIGHT,
        width="container",
    )


def final_values(
    table: pd.DataFrame, flags: pd.DataFrame | None = None, *, metric: str | None = None
) -> alt.LayerChart:
    """One dot per run at its final value, flagged runs marked, with the median as a rule.

    Parameters
    ----------
    table
        Output of ``runs.runs_table`` (runs listed top to bottom in start order).
    flags
        Output of ``runs.flag_runs``; runs with a final-value flag are drawn in red with the
        explanation in the tooltip.
    metric
        Axis title; defaults to ``table.attrs["metric"]``.
    """
    name = metric or str(table.attrs.get("metric", "final value"))
    data = chart_rows(table, ["job", "last", "best", "start"])
    explanation = pd.Series("", index=data.index, dtype="str")
    if flags is not None and len(flags):
        value_flags = flags.loc[flags["flag"].str.contains("final value", regex=False)]
        by_job = value_flags.drop_duplicates("job").set_index("job")["explanation"]
        explanation = data["job"].map(by_job).fillna("").astype("str") if len(data) else explanation
    data["flagged"] = (explanation != "").map({True: "flagged", False: "typical"}).astype("str")
    data["explanation"] = explanation
    order = list(data.sort_values("start")["job"]) if len(data) else []
    y = alt.Y("job:N").title(None).sort(order).axis(labelLimit=320)
    dots = (
        alt.Chart(data)
        .mark_circle(size=90, opacity=0.9)
        .encode(
            x=alt.X("last:Q").title(f"Final {name}").scale(zero=False),
            y=y,
            color=alt.Color("flagged:N")
            .title(None)
            .scale(domain=["typical", "flagged"], range=["#4c78a8", "#e45756"]),
            tooltip=[
                alt.Tooltip("job:N").title("Run"),
                alt.Tooltip("last:Q").title("Final").format(".4f"),
                alt.Tooltip("best:Q").title("Best").format(".4f"),
                alt.Tooltip("explanation:N").title("Flag"),
            ],
        )
    )
    median = alt.Chart(data).mark_rule(strokeDash=[4, 4], color="gray").encode(x="median(last):Q")
    return alt.LayerChart(
        layer=[median, dots],
        title=alt.Title(f"Final {name} per run", subtitle="Dashed line: median over runs"),
        height=max(120, 22 * len(data)),
        width="container",
    )
