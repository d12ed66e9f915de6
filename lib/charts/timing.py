"""Timing, cost, latency and Model Monitor charts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

import altair as alt
import pandas as pd

from lib.analysis import runs
from lib.charts.runs import AXIS_TIME_FORMAT, DETAIL_HEIGHT, MAX_CHART_POINTS, TIME_FORMAT, chart_rows

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
        ``lib.analysis.series.SeriesDrift.series`` (``label, time, position, value, window, segment,
        segment_median``). The x axis is ``time`` when every point has one, else ``position``.
    change_points
        Positions where a new regime starts: drawn as red vertical rules labelled "change".
    title, y_title
        Chart and y-axis titles.
    log_y
        Log-scaled y axis (latencies).
    """
    data = chart_rows(series, ["label", "time", "position", "value", "window", "segment", "segment_median"])
    use_time = "time" in data.columns and len(data) > 0 and bool(data["time"].notna().all())
    x = (
        alt.X("time:T")
        .title("Start (UTC)" if "run" in y_title.lower() else "Time (UTC)")
        .axis(format=AXIS_TIME_FORMAT)
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
    data = chart_rows(phases, ["job", "start", "phase", "order", "seconds"])
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
    data = chart_rows(costs, columns)
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
    change_times: Sequence[dt.datetime] = (),
    max_points: int = MAX_CHART_POINTS,
) -> alt.LayerChart:
    """p50/p90/p99 of one latency metric over time (``timing.latency_percentiles``), in milliseconds.

    Colour is the endpoint/variant, dash the percentile; ``change_times`` are drawn as red rules.
    More than ``max_points`` rows are thinned per line with ``runs.downsample`` (min/max/last kept).
    """
    sel = percentiles.loc[percentiles["metric"] == metric] if len(percentiles) else percentiles
    data = chart_rows(sel, ["timestamp", "endpoint", "variant", "percentile", "value_ms", "n_points"])
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
            x=alt.X("timestamp:T").title("Time (UTC)").axis(format=AXIS_TIME_FORMAT),
            y=alt.Y("value_ms:Q").title(f"{metric} (ms)").scale(zero=False),
            color=alt.Color("series:N").title("Endpoint/variant"),
            strokeDash=alt.StrokeDash("percentile:N")
            .title("Percentile")
            .sort(present)
            .scale(domain=present, range=[PERCENTILE_DASH.get(p, [1, 0]) for p in present]),
            tooltip=[
                alt.Tooltip("timestamp:T").title("Bucket (UTC)").format(TIME_FORMAT),
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
                tooltip=[alt.Tooltip("timestamp:T").title("Change from").format(TIME_FORMAT)],
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
    data = chart_rows(sel, ["bucket", "baseline_share", "current_share", "baseline_count", "current_count"])
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


def violations_history(counts: pd.DataFrame) -> alt.Chart:
    """Violations per feature per monitoring execution, stacked (``ViolationsHistory.counts()``:
    ``execution, feature_name, violations, checks``); every execution is on the axis, in order,
    those without violations too."""
    data = chart_rows(counts, ["execution", "feature_name", "violations", "checks"])
    data = data.loc[data["violations"] > 0] if len(data) else data
    order = list(dict.fromkeys(counts["execution"])) if len(counts) else []
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("execution:N")
            .title("Execution")
            .scale(domain=order)
            .axis(labelAngle=-30, labelLimit=200),
            y=alt.Y("sum(violations):Q").title("Violations").axis(tickMinStep=1),
            color=alt.Color("feature_name:N").title("Feature"),
            tooltip=[
                alt.Tooltip("execution:N").title("Execution"),
                alt.Tooltip("feature_name:N").title("Feature"),
                alt.Tooltip("violations:Q").title("Violations"),
                alt.Tooltip("checks:N").title("Checks"),
            ],
        )
        .properties(
            title=alt.Title("Violations per execution", subtitle="Stacked by feature"),
            height=260,
            width="container",
        )
    )
