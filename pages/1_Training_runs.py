"""Training runs: accuracy per run over time and by epoch, the runs table and plain-words flags."""

from datetime import datetime, timedelta

import streamlit as st

from lib import charts, ui
from lib.analysis import runs
from lib.ui import runs_page

ui.setup_page("Training runs")
st.title("Training runs")

metrics = st.session_state.metrics
if metrics.empty:
    st.info("No metrics loaded yet. Load export files on the Data page.", icon=":material/info:")
    st.page_link("app.py", label="Go to the Data page", icon=":material/folder_open:")
    st.stop()

names = runs.metric_names(metrics)
all_jobs = sorted(metrics["job"].unique())
lo, hi = runs.time_bounds(metrics)

left, mid, right = st.columns([2, 3, 3])
with left:
    metric = st.selectbox(
        "Metric",
        names,
        **ui.kept_widget("runs_metric", runs.default_metric(metrics), options=names),
        help="Any metric in the loaded data. Training and validation counterparts are drawn together.",
    )
    pair = st.toggle(
        "Train + validation",
        **ui.kept_widget("runs_pair", True),
        help="Draw e.g. train:accuracy next to validation:accuracy when both exist.",
    )
with mid:
    chosen_jobs = st.multiselect(
        "Runs",
        all_jobs,
        **ui.kept_widget("runs_jobs", [], options=all_jobs),
        placeholder=f"All {len(all_jobs)} runs",
        help="Leave empty for every run, or pick the runs to compare.",
    )
with right:
    time_range: tuple[datetime, datetime] | None
    if lo is not None and hi is not None and lo < hi:
        time_range = st.slider(
            "Time range (UTC)",
            min_value=lo,
            max_value=hi,
            value=(lo, hi),
            step=max(timedelta(minutes=1), (hi - lo) / 400),
            format="YYYY-MM-DD HH:mm",
            key="runs_time",
            help="Limit the charts and the table to runs with points in this window.",
        )
    else:
        time_range = None

view = runs.select_view(
    metrics,
    st.session_state.jobs,
    metric=metric,
    jobs=chosen_jobs or all_jobs,
    time_range=time_range,
    with_counterpart=pair,
)
if view.metrics.empty:
    st.warning("No points match these filters. Widen the time range or pick more runs.")
    st.stop()

tab_time, tab_epoch, tab_table = st.tabs(
    [":material/timeline: Over time", ":material/stacked_line_chart: By epoch", ":material/table: Runs table"]
)

with tab_time:
    st.caption(
        "Each slope is a run; flat stretches are the time between runs. Drag across the lower strip to zoom, "
        "click a legend entry to pick runs (shift-click for several)."
        + (
            f" Downsampled to {view.shown_points:,} of {view.total_points:,} points."
            if view.downsampled
            else ""
        )
    )
    if view.untimed_jobs:
        st.info(
            f"{len(view.untimed_jobs)} of the runs shown carry no clock times (relative-time exports such as "
            "TrainingJobAnalytics CSVs, or logs without time stamps), so they are not on this chart: "
            "see them in **By epoch** and the runs table.",
            icon=":material/schedule:",
        )
    time_chart = charts.accuracy_over_time(view.chart_metrics, metrics=view.metric_list)
    st.altair_chart(time_chart, width="stretch")
    ui.chart_downloads(time_chart, base_name=f"runs-over-time-{metric}", key="time_chart")

with tab_epoch:
    smoothing = st.slider(
        "Smoothing (points in the moving window)",
        min_value=1,
        max_value=15,
        **ui.kept_widget("runs_smoothing", 1),
        help="1 = raw. With smoothing, the raw curve stays faintly visible.",
    )
    overlay = runs.overlay_view(view.metrics, metric=metric, window=smoothing)
    st.caption(f"Runs overlaid by {overlay.x_label}.")
    epoch_chart = charts.runs_overlay(
        overlay.frame, metric=metric, x_kind=overlay.x_kind, smoothed=smoothing > 1
    )
    st.altair_chart(epoch_chart, width="stretch")
    ui.chart_downloads(epoch_chart, base_name=f"runs-overlay-{metric}", key="epoch_chart")

with tab_table:
    st.dataframe(
        view.table, width="stretch", hide_index=True, column_config=runs_page.runs_table_columns(metric)
    )
    ui.csv_download(view.table, file_name=f"runs-{metric}.csv", label="Download runs table", key="table_csv")

st.subheader("Flags")
if view.flags.empty:
    st.success(ui.md_literal(view.flag_summary), icon=":material/verified:")
else:
    st.warning(ui.md_literal(view.flag_summary), icon=":material/flag:")
    st.dataframe(view.flags, width="stretch", hide_index=True)

ui.csv_download(
    view.metrics, file_name=f"metrics-{metric}.csv", label="Download the data shown (full)", key="data_csv"
)
