"""Training-run charts: accuracy over time (the sawtooth), runs overlaid by epoch, final values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

import altair as alt
import pandas as pd

from lib.analysis import runs
from lib.errors import InputError
from lib.format import duration

#: Rows above this are thinned with ``runs.downsample`` before they are embedded in a chart.
MAX_CHART_POINTS: Final = 5000


FADED: Final = 0.12
#: Opacity of the raw curve under a smoothed one.
RAW_OPACITY: Final = 0.25
#: The bulk marks (every run's line and points) carry no per-point ARIA label: Vega built one text per
#: point (run, metric, time, value) on every draw, a third of the chart's drawing time in the browser,
#: for a list no screen reader can use at hundreds of points. The chart's title and subtitle, the
#: legends, the tooltips and the flagged runs' labels ("Flagged run <job>: <flag>") stay.
BULK_ARIA: Final = False
#: Pixels of room left at both ends of an x axis, so a run's first and last points are not cut.
X_PADDING: Final = 12
#: The flag marker: drawn at a flagged run's last point and before its name in the legend.
FLAG_ICON: Final = "⚑"
FLAG_COLOR: Final = "#d62728"


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


def _between_runs(data: pd.DataFrame, x: str = "timestamp") -> pd.DataFrame:
    """One two-point segment from each run's last point to the next run's first point (one metric)."""
    x_type = "datetime64[ns, UTC]" if x == "timestamp" else "float64"
    columns = {x: x_type, "value": "float64", "metric": "str", "segment": "str", "idle": "str"}
    if data.empty:
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})
    ends = (
        data.sort_values([x, "timestamp"])
        .groupby(["metric", "job"], sort=False)
        .agg(
            t0=(x, "first"),
            v0=("value", "first"),
            t1=(x, "last"),
            v1=("value", "last"),
            s0=("timestamp", "first"),
            s1=("timestamp", "last"),
        )
        .reset_index()
        .sort_values(["metric", "t0"])
    )
    rows = []
    for metric, runs_of_metric in ends.groupby("metric", sort=False):
        ordered = runs_of_metric.reset_index(drop=True)
        for k in range(len(ordered) - 1):
            seg = f"{metric}#{k}"
            idle_s = (
                pd.Timestamp(ordered["s0"].iloc[k + 1]) - pd.Timestamp(ordered["s1"].iloc[k])
            ).total_seconds()
            idle = duration(max(0.0, idle_s))
            rows.append((ordered.at[k, "t1"], ordered.at[k, "v1"], metric, seg, idle))
            rows.append((ordered.at[k + 1, "t0"], ordered.at[k + 1, "v0"], metric, seg, idle))
    out = pd.DataFrame(rows, columns=list(columns))
    return out.astype(columns) if len(out) else _between_runs(data.iloc[0:0], x)


def _run_colors(n_runs: int) -> alt.Scale:
    """category10 while it has enough distinct colours, tableau20 beyond (no repeated colour)."""
    return alt.Scale(scheme="category10" if n_runs <= 10 else "tableau20")


#: Container widths (px) below which the run legend drops to one column / its labels get shorter.
NARROW_LEGEND_PX: Final = 640


def _run_legend(n_runs: int, flagged: Sequence[str] = ()) -> alt.Legend:
    """The run legend below the plot (never over it): every run listed, flagged ones with a ⚑.

    Two columns (three beyond 16 runs) where the page is wide; one column, labels cut to the width,
    in a narrow container (``containerSize()``; it is 0 in a file export, which keeps the columns).
    """
    columns = 2 if n_runs <= 16 else 3
    limit = 300 if columns == 2 else 200
    width = "containerSize()[0]"
    narrow = f"({width} > 0 && {width} < {NARROW_LEGEND_PX})"
    label_expr = "datum.label"
    if flagged:
        names = json.dumps(sorted(flagged))  # a JSON array is a valid Vega expression literal
        label_expr = f"indexof({names}, datum.label) >= 0 ? '{FLAG_ICON} ' + datum.label : datum.label"
    return alt.Legend(
        orient="bottom",
        direction="vertical",
        columns=alt.ExprRef(expr=f"{narrow} ? 1 : {columns}"),
        labelLimit=alt.ExprRef(expr=f"{narrow} ? max(120, {width} - 60) : {limit}"),
        symbolLimit=0,
        symbolOpacity=1.0,
        labelExpr=label_expr,
    )


def _metric_title(metrics: Sequence[str], metric: str | None) -> str:
    """The y-axis title: the metric, or ``accuracy (train, validation)`` for a train/validation pair."""
    if metric is not None and len(metrics) <= 1:
        return metric
    suffixes = {m.split(":", 1)[1] if ":" in m else m for m in metrics}
    if len(suffixes) == 1 and len(metrics) > 1:
        return f"{suffixes.pop()} ({', '.join(_split_of(m) for m in metrics)})"
    return metric or ", ".join(metrics) or "value"


def _flag_words(flags: pd.DataFrame | None) -> dict[str, str]:
    """Run -> its flags' words (``"unusually low final value; runs further apart"``)."""
    if flags is None or flags.empty:
        return {}
    return {
        str(job): "; ".join(dict.fromkeys(group["flag"])) for job, group in flags.groupby("job", sort=False)
    }


def _flag_markers(data: pd.DataFrame, words: dict[str, str], *, x: str, metric: str | None) -> pd.DataFrame:
    """One row per flagged run at its last point (of ``metric`` when it has one): where the marker goes."""
    columns = {"job": "str", x: "float64", "value": "float64", "flag": "str", "x_label": "str", "aria": "str"}
    rows = data.loc[data["job"].isin(list(words))]
    if metric is not None and (rows["metric"] == metric).any():
        rows = rows.loc[rows["metric"] == metric]
    if rows.empty:
        out = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items() if c != x})
        out[x] = pd.Series([], dtype=data[x].dtype if x in data.columns else "float64")
        return out
    last = rows.sort_values(x, kind="stable").groupby("job", sort=False).tail(1).copy()
    last["flag"] = last["job"].map(words).astype("str")
    label_col = "time_utc" if "time_utc" in last.columns else x
    last["x_label"] = last[label_col].astype("str")
    # What a screen reader (and a browser test) reads on the ring: "Flagged run <job>: <words>".
    last["aria"] = ("Flagged run " + last["job"].astype("str") + ": " + last["flag"]).astype("str")
    return last[["job", x, "value", "flag", "x_label", "aria"]].reset_index(drop=True)


def _marker_layers(markers: pd.DataFrame, x: alt.X, y: alt.Y) -> list[alt.Chart]:
    """A red ring and a ⚑ above each flagged run's last point; the flag's words in the tooltip."""
    tooltip = [alt.Tooltip("job:N").title("Run"), alt.Tooltip("flag:N").title("Flag")]
    ring = (
        alt.Chart(markers)
        .mark_point(shape="circle", size=260, filled=False, strokeWidth=2.5, color=FLAG_COLOR, clip=True)
        .encode(x=x, y=y, tooltip=tooltip, description="aria:N")
    )
    icon = (
        alt.Chart(markers)
        .mark_text(text=FLAG_ICON, dy=-16, fontSize=16, color=FLAG_COLOR, clip=True)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    return [ring, icon]


def accuracy_over_time(
    frame: pd.DataFrame,
    *,
    metrics: Sequence[str] = ("train:accuracy", "validation:accuracy"),
    metric: str | None = None,
    flags: pd.DataFrame | None = None,
    time_axis: runs.TimeAxis = "clock",
    static: bool = False,
    title: str = "Accuracy over time",
    max_points: int = MAX_CHART_POINTS,
) -> alt.VConcatChart:
    """Every run's metrics against time, with a zoomable overview strip and flagged runs marked.

    Each run climbs while it trains and the next starts after a flat stretch, so repeated training
    draws a sawtooth: a slope is a run, a grey step the time between runs (one connector, drawn on
    ``metric``). Colour is the run; validation is a thick solid line, training a thin dashed one. Drag
    on the strip below to zoom (``zoom``); click a run in the legend to fade the others
    (``pick_job``). Flagged runs get a red ring and ⚑ at their last point (tooltip: the flag's words)
    and a ⚑ in the legend.

    Parameters
    ----------
    frame
        Canonical metrics frame (other metrics are ignored).
    metrics
        Metric names to draw.
    metric
        The chosen metric: the y-axis title (for a single metric), the connector and the markers
        follow it. Defaults to the last of ``metrics`` (validation, in the page's order).
    flags
        Output of ``runs.flag_runs``; its runs are marked.
    time_axis
        ``"clock"`` (UTC) or ``"runs"`` (``runs.run_time_axis``: idle time compressed so each run
        has visible width; ticks at run starts show their dates).
    static
        For PNG/SVG files: no overview strip and no interaction hints.
    title
        Chart title.
    max_points
        Longer data is thinned per series with ``runs.downsample`` (spikes kept).
    """
    metrics = list(metrics)
    chosen = metric if metric is not None else (metrics[-1] if metrics else None)
    rows = frame.loc[frame["metric"].isin(metrics) & frame["timestamp"].notna()]
    rows = runs.downsample(rows, max_points=max_points, x="timestamp")
    data = chart_rows(rows, ["job", "metric", "timestamp", "value", "epoch"])
    data["split"] = data["metric"].map(_split_of).astype("str") if len(data) else pd.Series([], dtype="str")
    data["time_utc"] = data["timestamp"].dt.strftime(TIME_FORMAT) if len(data) else pd.Series([], dtype="str")

    if time_axis == "runs":
        axis = runs.run_time_axis(data)
        data["run_h"] = axis.position_h.round(6)
        x_field, x_type = "run_h", "quantitative"
        positions = [round(float(p), 6) for p in axis.starts["position_h"]]
        labels = [f"{t:%b %d %H:%M}" for t in axis.starts["start"]]
        x_axis = alt.Axis(
            values=positions,
            labelExpr=f"{json.dumps(labels)}[indexof({json.dumps(positions)}, datum.value)]",
            labelOverlap="greedy",
            labelAngle=0,
        )
        x_title = "Run starts (UTC); idle time between runs compressed"
        x_scale = alt.Scale(zero=False, nice=False, padding=X_PADDING)
    else:
        x_field, x_type = "timestamp", "temporal"
        x_axis = alt.Axis(format=AXIS_TIME_FORMAT, tickCount=8, labelOverlap=True)
        x_title = "Time (UTC)"
        x_scale = alt.Scale(type="utc", padding=X_PADDING)

    zoom = alt.selection_interval(encodings=["x"], name="zoom")
    pick_job = alt.selection_point(fields=["job"], bind="legend", name="pick_job")
    present = set(data["metric"])
    metric_order = [m for m in metrics if m in present] or metrics
    words = _flag_words(flags)
    n_runs = data["job"].nunique()
    color = (
        alt.Color("job:N").title("Run").scale(_run_colors(n_runs)).legend(_run_legend(n_runs, list(words)))
    )
    dashes = [[5, 3] if _split_of(m) == "train" else [1, 0] for m in metric_order]
    widths = [1.2 if _split_of(m) == "train" else 2.4 for m in metric_order]
    opacities = [0.55 if _split_of(m) == "train" else 1.0 for m in metric_order]
    # Above the plot, next to the title: the key to the line styles stays in view on a narrow page.
    metric_legend = alt.Legend(symbolType="stroke", orient="top", direction="horizontal", title=None)
    dash = (
        alt.StrokeDash("metric:N").title("Metric").sort(metric_order).scale(domain=metric_order, range=dashes)
    )
    width = (
        alt.StrokeWidth("metric:N")
        .title("Metric")
        .sort(metric_order)
        .scale(domain=metric_order, range=widths)
    )
    detail_scale = alt.Scale(**{**x_scale.to_dict(), **({} if static else {"domain": {"param": "zoom"}})})
    x_detail = alt.X(f"{x_field}:{x_type[0].upper()}").title(x_title).scale(detail_scale).axis(x_axis)
    y = alt.Y("value:Q").title(_metric_title(metric_order, chosen)).scale(zero=False)
    base = alt.Chart(data)
    detail = (
        base.mark_line(
            clip=True, aria=BULK_ARIA, point=alt.OverlayMarkDef(size=10, filled=True, aria=BULK_ARIA)
        )
        .encode(
            x=x_detail,
            y=y,
            color=color,
            strokeDash=dash.legend(metric_legend),
            strokeWidth=width.legend(metric_legend),
            detail="metric:N",
            # Training lighter than validation (besides thin dashes vs thick solid), picked runs on top.
            opacity=alt.when(pick_job)
            .then(alt.Opacity("metric:N").scale(domain=metric_order, range=opacities).legend(None))
            .otherwise(alt.value(FADED)),
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
    # run's first point, then the drop to where that run starts (grey, behind the runs). One metric
    # only, so a train/validation pair gets one connector, not two.
    connected = data.loc[data["metric"] == chosen] if chosen in present else data.iloc[0:0]
    hold = (
        alt.Chart(_between_runs(connected, x_field))
        .mark_line(interpolate="step-after", clip=True, strokeWidth=1, color="#9aa4b2", aria=BULK_ARIA)
        .encode(
            x=alt.X(f"{x_field}:{x_type[0].upper()}").scale(detail_scale),
            y=alt.Y("value:Q").scale(zero=False),
            detail="segment:N",
            opacity=alt.value(0.7),
            tooltip=[alt.Tooltip("idle:N").title("Idle between runs")],
        )
    )
    layers: list[alt.Chart] = [hold, detail]
    if words:
        markers = _flag_markers(data, words, x=x_field, metric=chosen)
        layers += _marker_layers(markers, alt.X(f"{x_field}:{x_type[0].upper()}").scale(detail_scale), y)
    top = alt.layer(*layers).properties(height=DETAIL_HEIGHT, width="container")
    subtitle = ["A rising slope is a run, a grey step the time between runs"]
    if words:
        subtitle.append(f"{FLAG_ICON} marks a flagged run (its flag in the tooltip)")
    autosize = alt.AutoSizeParams(type="fit-x", contains="padding", resize=True)
    if static:
        return alt.vconcat(top).properties(title=alt.Title(title, subtitle=subtitle), autosize=autosize)
    overview = (
        base.mark_line(strokeWidth=1, aria=BULK_ARIA)
        .encode(
            x=alt.X(f"{x_field}:{x_type[0].upper()}")
            .title("Drag here to zoom; double-click to reset")
            .scale(x_scale)
            .axis(x_axis),
            y=alt.Y("value:Q").title(None).axis(None).scale(zero=False),
            color=alt.Color("job:N").scale(_run_colors(n_runs)).legend(None),
            detail="metric:N",
            opacity=alt.value(0.6),
        )
        .properties(height=OVERVIEW_HEIGHT, width="container")
        .add_params(zoom)
    )
    return alt.vconcat(top, overview, spacing=8).properties(
        title=alt.Title(title, subtitle=subtitle), autosize=autosize
    )


def runs_overlay(
    frame: pd.DataFrame,
    *,
    metric: str,
    x_kind: str | None = None,
    smoothed: bool = False,
    flags: pd.DataFrame | None = None,
    static: bool = False,
    title: str | None = None,
    smoothing_label: str | None = None,
) -> alt.LayerChart:
    """Runs laid over each other from their own start (epoch or elapsed time), to compare curves.

    The plot keeps ``DETAIL_HEIGHT`` pixels whatever the number of runs: the legend goes below it and
    the chart fits the page's width only (``autosize`` ``fit-x``; with Streamlit's default ``fit``
    a long legend squeezed the plot to a strip).

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
    flags
        Output of ``runs.flag_runs``; flagged runs get a ring and ⚑ at their last point and in the legend.
    static
        For PNG/SVG files: no interaction hint in the subtitle.
    smoothing_label
        Words for the subtitle, e.g. ``"EMA, weight 0.6"``.

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
    x = alt.X(f"{x_field}:Q").title(x_title).scale(padding=X_PADDING, zero=False, nice=False)
    tooltip = [
        alt.Tooltip("job:N").title("Run"),
        alt.Tooltip(f"{x_field}:Q").title(x_title).format(x_format),
        alt.Tooltip("value:Q").title(metric).format(".4f"),
    ]
    if smoothed:
        tooltip.append(alt.Tooltip("smoothed:Q").title("Smoothed").format(".4f"))
    words = _flag_words(flags)
    n_runs = data["job"].nunique()
    color = (
        alt.Color("job:N").title("Run").scale(_run_colors(n_runs)).legend(_run_legend(n_runs, list(words)))
    )
    base = alt.Chart(data).encode(x=x, color=color, tooltip=tooltip)
    raw_opacity = RAW_OPACITY if smoothed else 1.0
    y = alt.Y("value:Q").title(metric).scale(zero=False)
    raw = (
        base.mark_line(
            strokeWidth=1.2,
            aria=BULK_ARIA,
            point=alt.OverlayMarkDef(aria=BULK_ARIA) if not smoothed and len(data) <= 2000 else False,
        )
        .encode(
            y=y,
            opacity=alt.when(pick_job).then(alt.value(raw_opacity)).otherwise(alt.value(FADED * raw_opacity)),
        )
        .add_params(pick_job)
    )
    layers: list[alt.Chart] = [raw]
    value_field = "value"
    if smoothed:
        value_field = "smoothed"
        layers.append(
            base.mark_line(strokeWidth=2.2, aria=BULK_ARIA).encode(
                y=alt.Y("smoothed:Q").title(metric),
                opacity=alt.when(pick_job).then(alt.value(1.0)).otherwise(alt.value(FADED)),
            )
        )
    if words:
        at_end = data.assign(value=data[value_field]) if len(data) else data
        markers = _flag_markers(at_end, words, x=x_field, metric=None)
        layers += _marker_layers(markers, alt.X(f"{x_field}:Q"), alt.Y("value:Q"))
    heading = title or f"{metric} by {'epoch' if x_kind == 'epoch' else 'elapsed time'}, runs overlaid"
    notes = []
    if smoothed:
        notes.append(
            f"smoothed ({smoothing_label}), raw values faint behind"
            if smoothing_label
            else "smoothed, raw values faint behind"
        )
    if words:
        notes.append(f"{FLAG_ICON} marks a flagged run")
    if not static:
        notes.append("click a run in the legend to highlight it")
    lines = [note[:1].upper() + note[1:] for note in notes]  # one line each: no "…" on a narrow page
    return alt.LayerChart(
        layer=layers,
        title=alt.Title(heading, subtitle=lines or ""),
        height=DETAIL_HEIGHT,
        width="container",
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding", resize=True),
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
