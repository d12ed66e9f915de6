"""Chart builders: canonical frames in, Altair charts out.

Pure functions (no streamlit, no ``.configure_*``): the page decides how to show them and tests assert
on ``chart.to_dict()``. Interaction names are fixed so pages and tests can rely on them: ``zoom`` (x
brush on the overview strip) and ``pick_job`` (click a run in the legend to highlight it).
"""

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
_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S UTC"
# Label each tick by its own granularity: day boundaries show the date, others the time of day.
_AXIS_TIME_FORMAT: Final = {
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


def _chart_rows(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
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
    data = _chart_rows(rows, ["job", "metric", "timestamp", "value", "epoch"])
    data["split"] = data["metric"].map(_split_of).astype("str") if len(data) else pd.Series([], dtype="str")
    data["time_utc"] = (
        data["timestamp"].dt.strftime(_TIME_FORMAT) if len(data) else pd.Series([], dtype="str")
    )

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
            .axis(format=_AXIS_TIME_FORMAT, tickCount=8, labelOverlap=True),
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
            .axis(format=_AXIS_TIME_FORMAT, tickCount=8, labelOverlap=True),
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
    data = _chart_rows(frame, ["job", "metric", "x", "value", "smoothed", "epoch"])
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
    data = _chart_rows(table, ["job", "last", "best", "start"])
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


# ---------------------------------------------------------------- timing, cost, latency, Model Monitor

WINDOW_COLORS: Final = {"earlier": "#bab0ac", "baseline": "#4c78a8", "recent": "#f58518"}
PERCENTILE_DASH: Final = {"p50": [1, 0], "p90": [6, 3], "p99": [2, 2]}


def series_drift(
    series: pd.DataFrame,
    change_points: Sequence[int] = (),
    *,
    title: str,
    y_title: str,
    log_y: bool = False,
) -> alt.LayerChart:
    """A series with its windows, regime medians and change points marked.

    Parameters
    ----------
    series
        ``lib.timing.SeriesDrift.series`` (``label, time, position, value, window, segment,
        segment_median``). The x axis is ``time`` when every point has one, else ``position``.
    change_points
        Positions where a new regime starts: drawn as red vertical rules labelled "change".
    title, y_title
        Chart and y-axis titles.
    log_y
        Log-scaled y axis (latencies).
    """
    data = _chart_rows(series, ["label", "time", "position", "value", "window", "segment", "segment_median"])
    use_time = "time" in data.columns and len(data) > 0 and bool(data["time"].notna().all())
    x = (
        alt.X("time:T")
        .title("Start (UTC)" if "run" in y_title.lower() else "Time (UTC)")
        .axis(format=_AXIS_TIME_FORMAT)
        if use_time
        else alt.X("position:Q").title("Position in the series")
    )
    x_field = "time" if use_time else "position"
    y_scale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    windows = [w for w in WINDOW_COLORS if w in set(data.get("window", []))] or list(WINDOW_COLORS)
    color = (
        alt.Color("window:N").title("Window").scale(domain=windows, range=[WINDOW_COLORS[w] for w in windows])
    )
    tooltip = [
        alt.Tooltip("label:N").title("Point"),
        alt.Tooltip("value:Q").title(y_title).format(",.4~g"),
        alt.Tooltip("window:N").title("Window"),
        alt.Tooltip("segment_median:Q").title("Regime median").format(",.4~g"),
    ]
    base = alt.Chart(data)
    line = base.mark_line(color="#bab0ac", strokeWidth=1).encode(x=x, y=alt.Y("value:Q").scale(y_scale))
    dots = base.mark_circle(size=70, opacity=0.9).encode(
        x=x, y=alt.Y("value:Q").title(y_title).scale(y_scale), color=color, tooltip=tooltip
    )
    medians = base.mark_line(color="black", strokeDash=[5, 3], strokeWidth=1.5).encode(
        x=x, y=alt.Y("segment_median:Q").scale(y_scale), detail="segment:N"
    )
    layers: list[alt.Chart] = [line, medians, dots]
    cps = sorted(int(c) for c in change_points if 0 <= int(c) < len(data))
    if cps:
        marks = data.iloc[cps][[x_field, "label"]].assign(text="change")
        rules = (
            alt.Chart(marks)
            .mark_rule(color="#e45756", strokeWidth=2)
            .encode(
                x=alt.X(f"{x_field}:{'T' if use_time else 'Q'}"),
                tooltip=[alt.Tooltip("label:N").title("New regime from")],
            )
        )
        labels = (
            alt.Chart(marks)
            .mark_text(color="#e45756", align="left", dx=4, dy=-4, baseline="top")
            .encode(x=alt.X(f"{x_field}:{'T' if use_time else 'Q'}"), y=alt.value(0), text="text:N")
        )
        layers += [rules, labels]
    return alt.LayerChart(
        layer=layers,
        title=alt.Title(title, subtitle="Dashed: median of each regime · red rule: change point"),
        height=DETAIL_HEIGHT,
        width="container",
    )


def phase_bars(phases: pd.DataFrame) -> alt.Chart:
    """One horizontal bar per run, split into its secondary-status phases (``timing.phase_durations``)."""
    data = _chart_rows(phases, ["job", "start", "phase", "order", "seconds"])
    data["minutes"] = data["seconds"] / 60.0 if len(data) else pd.Series([], dtype="float64")
    order = list(dict.fromkeys(data.sort_values(["start", "job"])["job"])) if len(data) else []
    phase_order = list(dict.fromkeys(data.sort_values("order")["phase"])) if len(data) else []
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("sum(minutes):Q").title("Minutes").stack("zero"),
            y=alt.Y("job:N").title(None).sort(order).axis(labelLimit=320, labelOverlap=False),
            color=alt.Color("phase:N").title("Phase").sort(phase_order).scale(scheme="tableau10"),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("job:N").title("Run"),
                alt.Tooltip("phase:N").title("Phase"),
                alt.Tooltip("seconds:Q").title("Seconds").format(",.0f"),
            ],
        )
        .properties(
            title=alt.Title("Phases per run", subtitle="From SageMaker's secondary status transitions"),
            height=max(120, 28 * len(order)),
            width="container",
        )
    )


def cost_bars(costs: pd.DataFrame) -> alt.Chart:
    """Cost per run (``pricing.cost_table``), with what managed spot saved stacked on top in a light tint."""
    columns = ["job", "instance_type", "instance_count", "spot", "cost_usd", "spot_savings_usd", "billable_s"]
    data = _chart_rows(costs, columns)
    long = (
        pd.concat(
            [
                data.assign(part="paid", usd=data["cost_usd"], rank=0),
                data.assign(part="saved by spot", usd=data["spot_savings_usd"], rank=1),
            ],
            ignore_index=True,
        )
        if len(data)
        else data.assign(part=pd.Series([], dtype="str"), usd=pd.Series([], dtype="float64"), rank=0)
    )
    long = long.loc[long["usd"].notna() & ((long["part"] == "paid") | (long["usd"] > 0))]
    order = list(data["job"])
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("sum(usd):Q").title("USD").stack("zero"),
            y=alt.Y("job:N").title(None).sort(order).axis(labelLimit=320, labelOverlap=False),
            color=alt.Color("part:N")
            .title(None)
            .scale(domain=["paid", "saved by spot"], range=["#4c78a8", "#9ecae9"]),
            order=alt.Order("rank:Q"),
            tooltip=[
                alt.Tooltip("job:N").title("Run"),
                alt.Tooltip("instance_type:N").title("Instance"),
                alt.Tooltip("instance_count:Q").title("Count"),
                alt.Tooltip("part:N").title("Part"),
                alt.Tooltip("usd:Q").title("USD").format("$,.2f"),
            ],
        )
        .properties(
            title=alt.Title("Cost per run", subtitle="Billable seconds × instances × hourly price"),
            height=max(120, 28 * len(order)),
            width="container",
        )
    )


def latency_percentiles(
    percentiles: pd.DataFrame,
    *,
    metric: str = "ModelLatency",
    change_times: Sequence[object] = (),
    max_points: int = MAX_CHART_POINTS,
) -> alt.LayerChart:
    """p50/p90/p99 of one latency metric over time (``timing.latency_percentiles``), in milliseconds.

    Colour is the endpoint/variant, dash the percentile; ``change_times`` are drawn as red rules.
    More than ``max_points`` rows are thinned per line with ``runs.downsample`` (min/max/last kept).
    """
    sel = percentiles.loc[percentiles["metric"] == metric] if len(percentiles) else percentiles
    data = _chart_rows(sel, ["timestamp", "endpoint", "variant", "percentile", "value_ms", "n_points"])
    if len(data):
        data["series"] = (data["endpoint"] + "/" + data["variant"]).astype("str")
        # Weeks of 1-minute buckets would send tens of thousands of rows: thin each line (spikes kept).
        thin = runs.downsample(
            data.rename(columns={"series": "job", "percentile": "metric", "value_ms": "value"}),
            max_points=max_points,
        )
        data = thin.rename(columns={"job": "series", "metric": "percentile", "value": "value_ms"})
    else:
        data["series"] = pd.Series([], dtype="str")
    present = sorted(set(data.get("percentile", [])), key=lambda p: float(str(p)[1:]) if str(p)[1:] else 0)
    lines = (
        alt.Chart(data)
        .mark_line(strokeWidth=1.5)
        .encode(
            x=alt.X("timestamp:T").title("Time (UTC)").axis(format=_AXIS_TIME_FORMAT),
            y=alt.Y("value_ms:Q").title(f"{metric} (ms)").scale(zero=False),
            color=alt.Color("series:N").title("Endpoint/variant"),
            strokeDash=alt.StrokeDash("percentile:N")
            .title("Percentile")
            .sort(present)
            .scale(domain=present, range=[PERCENTILE_DASH.get(p, [1, 0]) for p in present]),
            tooltip=[
                alt.Tooltip("timestamp:T").title("Bucket (UTC)").format(_TIME_FORMAT),
                alt.Tooltip("series:N").title("Endpoint/variant"),
                alt.Tooltip("percentile:N").title("Percentile"),
                alt.Tooltip("value_ms:Q").title("ms").format(",.2f"),
                alt.Tooltip("n_points:Q").title("Points"),
            ],
        )
    )
    layers: list[alt.Chart] = [lines]
    if len(change_times):
        marks = pd.DataFrame({"timestamp": pd.to_datetime(list(change_times), utc=True), "text": "change"})
        layers.append(
            alt.Chart(marks)
            .mark_rule(color="#e45756", strokeWidth=2)
            .encode(
                x="timestamp:T",
                tooltip=[alt.Tooltip("timestamp:T").title("Change from").format(_TIME_FORMAT)],
            )
        )
    return alt.LayerChart(
        layer=layers,
        title=alt.Title(
            f"{metric} percentiles", subtitle="Solid p50 · dashed p90 · dotted p99 · red: change point"
        ),
        height=DETAIL_HEIGHT,
        width="container",
    )


def baseline_vs_current(distributions: pd.DataFrame, feature: str) -> alt.Chart:
    """Baseline and current share per bucket of one feature (``monitor.baseline_distributions``)."""
    sel = distributions.loc[distributions["feature"] == feature] if len(distributions) else distributions
    data = _chart_rows(sel, ["bucket", "baseline_share", "current_share", "baseline_count", "current_count"])
    order = list(dict.fromkeys(data["bucket"])) if len(data) else []
    shares = ["baseline_share", "current_share"]
    long = (
        data.melt(id_vars=["bucket"], value_vars=shares, var_name="side", value_name="share")
        if len(data)
        else pd.DataFrame({"bucket": pd.Series([], dtype="str"), "side": pd.Series([], dtype="str"),
                           "share": pd.Series([], dtype="float64")})
    )  # fmt: skip
    long["side"] = long["side"].str.removesuffix("_share").astype("str")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("bucket:N").title(None).sort(order).axis(labelAngle=-30, labelLimit=160),
            xOffset=alt.XOffset("side:N").sort(["baseline", "current"]),
            y=alt.Y("share:Q").title("Share of rows").axis(format="%"),
            color=alt.Color("side:N")
            .title(None)
            .scale(domain=["baseline", "current"], range=["#4c78a8", "#f58518"]),
            tooltip=[
                alt.Tooltip("bucket:N").title("Bucket"),
                alt.Tooltip("side:N").title("Data"),
                alt.Tooltip("share:Q").title("Share").format(".1%"),
            ],
        )
        .properties(
            title=alt.Title(
                f"{feature}: baseline against current", subtitle="Share of rows per baseline bucket"
            ),
            height=260,
            width="container",
        )
    )


# ---- drift charts (Input drift / Prediction drift pages) ------------------------------------------

#: Colours of the two sides of every drift chart (reference blue, current orange).
DRIFT_SIDES: Final = ("reference", "current")
DRIFT_COLORS: Final = ("#4c78a8", "#f58518")


def _side_color() -> alt.Color:
    return alt.Color("side:N").title(None).scale(domain=list(DRIFT_SIDES), range=list(DRIFT_COLORS))


def drift_overlay(overlay: pd.DataFrame, column: str, *, mode: str = "histogram") -> alt.Chart:
    """Reference against current from binned shares (:func:`lib.drift.binned_overlay`), never raw rows.

    Numbers (``bin_start`` present): overlaid histogram bars (``mode="histogram"``) or a binned
    ECDF step line (``mode="ecdf"``). Categories: side-by-side bars per category.
    """
    if mode not in ("histogram", "ecdf"):
        raise InputError(f"Unknown overlay mode {mode!r}.", hint="Use 'histogram' or 'ecdf'.")
    data = overlay.copy()
    data["side"] = data["side"].astype("str")
    numeric = bool(len(data)) and data["bin_start"].notna().all()
    tooltip = [
        alt.Tooltip("bin:N").title("Bin" if numeric else "Category"),
        alt.Tooltip("side:N").title("Data"),
        alt.Tooltip("count:Q").title("Rows").format(","),
        alt.Tooltip("share:Q").title("Share").format(".1%"),
    ]
    if numeric and mode == "ecdf":
        chart = (
            alt.Chart(data)
            .mark_line(interpolate="step-after", strokeWidth=2)
            .encode(
                x=alt.X("bin_end:Q").title(column).scale(zero=False),
                y=alt.Y("cumulative_share:Q").title("Share of rows ≤ value").axis(format="%"),
                color=_side_color(),
                tooltip=[*tooltip, alt.Tooltip("cumulative_share:Q").title("Cumulative").format(".1%")],
            )
        )
        subtitle = "Binned empirical CDF: the vertical gap is what the KS test measures"
    elif numeric:
        chart = (
            alt.Chart(data)
            .mark_bar(opacity=0.55, binSpacing=0)
            .encode(
                x=alt.X("bin_start:Q").title(column).scale(zero=False),
                x2="bin_end:Q",
                y=alt.Y("share:Q").title("Share of rows").axis(format="%").stack(None),
                y2=alt.datum(0),
                color=_side_color(),
                tooltip=tooltip,
            )
        )
        subtitle = "Share of each side's non-missing values per bin (outer 0.5 % folded into the end bins)"
    else:
        order = list(dict.fromkeys(data["bin"].astype("str"))) if len(data) else []
        chart = (
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=alt.X("bin:N").title(None).sort(order).axis(labelAngle=-30, labelLimit=160),
                xOffset=alt.XOffset("side:N").sort(list(DRIFT_SIDES)),
                y=alt.Y("share:Q").title("Share of rows").axis(format="%"),
                color=_side_color(),
                tooltip=tooltip,
            )
        )
        subtitle = "Share of each side's non-missing rows per category"
    return chart.properties(
        title=alt.Title(f"{column}: reference against current", subtitle=subtitle),
        height=300,
        width="container",
    )


def drift_heatmap(table: pd.DataFrame, *, max_effect: float | None = None) -> alt.LayerChart:
    """Window × column heat map of effect sizes (``WindowReport.table``); drifted cells are marked.

    Colour: effect size (capped at ``max_effect``, default twice the largest threshold). A dot marks
    cells where the verdict rule (BH-corrected across the whole grid) says drift; the tooltip gives
    the verdict's reason.
    """
    cols = ["window", "window_start", "column", "effect_size", "effect_threshold", "p_adjusted",
            "status", "reason", "window_rows", "drifted"]  # fmt: skip
    data = table.drop_duplicates(["window", "column"])[[c for c in cols if c in table.columns]].copy()
    order = list(dict.fromkeys(data.sort_values("window_start", kind="stable")["window"]))
    columns_order = (
        data.groupby("column", sort=False)["effect_size"].mean().sort_values(ascending=False).index.tolist()
        if len(data)
        else []
    )
    top = max_effect if max_effect is not None else 2 * float(data["effect_threshold"].max() or 0.1)
    data["effect_shown"] = data["effect_size"].clip(upper=top)
    data["window_start"] = data["window_start"].astype("str")
    x = alt.X("column:N").title(None).sort(columns_order).axis(labelAngle=-30, labelLimit=160, orient="top")
    y = alt.Y("window:O").title(None).sort(order)
    tooltip = [
        alt.Tooltip("window:N").title("Window"),
        alt.Tooltip("column:N").title("Column"),
        alt.Tooltip("effect_size:Q").title("Effect").format(".3f"),
        alt.Tooltip("p_adjusted:Q").title("Adjusted p").format(".2g"),
        alt.Tooltip("window_rows:Q").title("Rows in window").format(","),
        alt.Tooltip("reason:N").title("Verdict"),
    ]
    cells = (
        alt.Chart(data)
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=x,
            y=y,
            color=alt.Color("effect_shown:Q").title("Effect").scale(scheme="orangered", domain=[0, top]),
            tooltip=tooltip,
        )
    )
    marks = (
        alt.Chart(data)
        .transform_filter(alt.datum.drifted)
        .mark_point(shape="circle", filled=True, size=40, color="black")
        .encode(x=x, y=y, tooltip=tooltip)
    )
    return alt.LayerChart(
        layer=[cells, marks],
        title=alt.Title(
            "Drift per window and column",
            subtitle="Colour: effect size · black dot: drift by the rule (BH across the whole grid)",
        ),
        width="container",
        height=alt.Step(22),
    )


def drift_importance(importance: pd.DataFrame) -> alt.Chart:
    """Which columns the domain classifier leaned on (shares summing to 1), largest first."""
    data = importance[["column", "importance"]].copy()
    order = data.sort_values("importance", ascending=False, kind="stable")["column"].tolist()
    return (
        alt.Chart(data)
        .mark_bar(color=DRIFT_COLORS[1])
        .encode(
            x=alt.X("importance:Q").title("Share of the classifier's weight").axis(format="%"),
            y=alt.Y("column:N").title(None).sort(order).axis(labelLimit=200),
            tooltip=[
                alt.Tooltip("column:N").title("Column"),
                alt.Tooltip("importance:Q").title("Share").format(".1%"),
            ],
        )
        .properties(
            title=alt.Title(
                "What separates current from reference rows", subtitle="|coefficient| × feature sd"
            ),
            width="container",
            height=alt.Step(20),
        )
    )


def prediction_performance(performance: pd.DataFrame) -> alt.LayerChart:
    """Realised accuracy (or MAE) per window with 95 % intervals; the reference level as a band.

    ``performance`` is ``PredictionReport.performance`` (a ``"reference"`` row, then windows).
    """
    metric = str(performance["metric"].iloc[0]) if len(performance) else "accuracy"
    title = "Accuracy" if metric == "accuracy" else "Mean absolute error"
    fmt = ".1%" if metric == "accuracy" else ".4g"
    ref = performance.loc[performance["window"] == "reference"]
    cur = performance.loc[performance["window"] != "reference"].copy()
    cur["window_start"] = cur["window_start"].astype("str")
    order = cur["window"].tolist()
    x = alt.X("window:O").title(None).sort(order).axis(labelAngle=-30)
    y_axis = alt.Axis(format="%") if metric == "accuracy" else alt.Axis()
    tooltip = [
        alt.Tooltip("window:N").title("Window"),
        alt.Tooltip("n:Q").title("Labelled rows").format(","),
        alt.Tooltip("value:Q").title(title).format(fmt),
        alt.Tooltip("low:Q").title("95% low").format(fmt),
        alt.Tooltip("high:Q").title("95% high").format(fmt),
    ]
    base = alt.Chart(cur)
    layers: list[alt.Chart] = [
        base.mark_errorbar(color=DRIFT_COLORS[1]).encode(
            x=x, y=alt.Y("low:Q").title(title).axis(y_axis).scale(zero=False), y2="high:Q"
        ),
        base.mark_line(color=DRIFT_COLORS[1], point=alt.OverlayMarkDef(color=DRIFT_COLORS[1])).encode(
            x=x, y="value:Q", tooltip=tooltip
        ),
    ]
    if len(ref):
        ref_data = ref[["value", "low", "high", "n"]].copy()
        layers.insert(0, alt.Chart(ref_data).mark_rect(color=DRIFT_COLORS[0], opacity=0.15).encode(
            y="low:Q", y2="high:Q"))  # fmt: skip
        ref_tip = alt.Tooltip("value:Q").title(f"Reference {title.lower()}").format(fmt)
        layers.insert(1, alt.Chart(ref_data).mark_rule(color=DRIFT_COLORS[0], strokeDash=[6, 3]).encode(
            y="value:Q", tooltip=[ref_tip]))  # fmt: skip
    return alt.LayerChart(
        layer=layers,
        title=alt.Title(
            f"Realised {title.lower()} per window",
            subtitle="Orange: current windows with 95% intervals · blue band: the reference's level",
        ),
        width="container",
        height=280,
    )
