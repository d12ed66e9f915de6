"""Drift charts: binned overlays, the window heat map, classifier importances, prediction performance."""

from __future__ import annotations

from typing import Final

import altair as alt
import pandas as pd

from lib.errors import InputError

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


#: Colour of grid cells whose window is too small to judge.
TOO_SMALL_COLOR: Final = "#d9d9d9"


def drift_heatmap(table: pd.DataFrame, *, max_effect: float | None = None) -> alt.LayerChart:
    """Column × window heat map of effect sizes (``WindowReport.table``), time running left to right.

    Colour: effect size (capped at ``max_effect``, default twice the largest threshold); grey: the
    window is too small to judge. A dot marks cells where the verdict rule (BH-corrected across the
    whole grid) says drift; the tooltip gives the verdict's reason.
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
    data["too_small"] = data["status"] == "too small to judge" if "status" in data else False
    data["window_start"] = data["window_start"].astype("str")
    x = alt.X("window:O").title("Window (time →)").sort(order).axis(labelAngle=-40, labelLimit=140)
    y = alt.Y("column:N").title(None).sort(columns_order).axis(labelLimit=160)
    tooltip = [
        alt.Tooltip("window:N").title("Window"),
        alt.Tooltip("column:N").title("Column"),
        alt.Tooltip("effect_size:Q").title("Effect").format(".3f"),
        alt.Tooltip("p_adjusted:Q").title("Adjusted p").format(".2g"),
        alt.Tooltip("window_rows:Q").title("Rows in window").format(","),
        alt.Tooltip("reason:N").title("Verdict"),
    ]
    effect = alt.Color("effect_shown:Q").title("Effect").scale(scheme="orangered", domain=[0, top])
    cells = (
        alt.Chart(data)
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=x,
            y=y,
            color=alt.when(alt.datum.too_small).then(alt.value(TOO_SMALL_COLOR)).otherwise(effect),
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
            "Drift per column and window",
            subtitle="Colour: effect size · black dot: drift by the rule (BH across the whole grid) · "
            "grey: window too small to judge",
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
