"""Training runs: accuracy per run over time and by epoch, the runs table and plain-words flags."""

from datetime import datetime, timedelta

import streamlit as st

from lib import charts, ui
from lib.analysis import runs
from lib.format import plural
from lib.ui import runs_page

ui.setup_page("Training runs")
st.title("Training runs")

# A TrainingJobAnalytics export counts seconds from the start: with the job's start known (a job
# description, a jobs list or an AWS load), its runs get clock times and join the time chart.
metrics = runs_page.anchored_metrics(st.session_state.metrics, st.session_state.jobs)
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
        placeholder=f"All {plural(len(all_jobs), 'run')}" if len(all_jobs) != 1 else "The only run",
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

no_clock = len(view.untimed_jobs) == view.metrics["job"].nunique()
# Only the open tab runs and is drawn (on_change="rerun" makes ``.open`` known): the browser compiles
# one chart on arrival, not the hidden tab's chart and table too.
tab_time, tab_epoch, tab_table = st.tabs(
    runs_page.TABS, default=runs_page.TABS[1] if no_clock else None, key="runs_tab", on_change="rerun"
)

with tab_time:
    if tab_time.open:
        if no_clock:
            st.info(
                "None of the runs shown has clock times "
                f"({plural(len(view.untimed_jobs), 'run')} from relative-time exports such as "
                "TrainingJobAnalytics CSVs, or logs without time stamps), so there is nothing to draw over "
                "time: the page opened on **By epoch**. Add the jobs' `describe-training-job` or "
                "`list-training-jobs` JSON on the Data page (or load them from AWS) to place them at "
                "their real start times.",
                icon=":material/schedule:",
            )
        else:
            time_axis = runs_page.time_axis_ui(runs.default_time_axis(view.chart_metrics))
            st.caption(
                "Each slope is a run; grey steps are the time between runs. "
                "Drag across the lower strip to zoom, click a legend entry to pick runs "
                "(shift-click for several)."
                + (
                    f" Downsampled to {view.shown_points:,} of {view.total_points:,} points."
                    if view.downsampled
                    else ""
                )
            )
            if view.untimed_jobs:
                st.info(
                    f"{plural(len(view.untimed_jobs), 'run')} shown "
                    f"{'carries' if len(view.untimed_jobs) == 1 else 'carry'} no clock times (relative-time "
                    "exports such as TrainingJobAnalytics CSVs, or logs without time stamps), so not on this "
                    "chart: see **By epoch** and the runs table, or add the jobs' description JSON to place "
                    "them.",
                    icon=":material/schedule:",
                )
            chart_args = {
                "metrics": view.metric_list,
                "metric": metric,
                "flags": view.flags,
                "time_axis": time_axis,
            }
            ui.show_chart("accuracy_over_time", view.chart_metrics, **chart_args)
            ui.chart_downloads(
                ui.LazyChart(
                    lambda: charts.accuracy_over_time(view.chart_metrics, **chart_args, static=True)
                ),
                base_name=f"runs-over-time-{metric}",
                key="time_chart",
            )

with tab_epoch:
    if tab_epoch.open:
        smoothing = runs_page.smoothing_ui()
        overlay = runs.overlay_view(
            view.metrics,
            metric=metric,
            window=smoothing.window,
            method=smoothing.method,
            weight=smoothing.weight,
        )
        st.caption(f"Runs overlaid by {overlay.x_label}.")
        overlay_args = {
            "metric": metric,
            "x_kind": overlay.x_kind,
            "smoothed": smoothing.active,
            "flags": view.flags,
            "smoothing_label": smoothing.label,
        }
        ui.show_chart("runs_overlay", overlay.frame, **overlay_args)
        ui.chart_downloads(
            ui.LazyChart(lambda: charts.runs_overlay(overlay.frame, **overlay_args, static=True)),
            base_name=f"runs-overlay-{metric}",
            key="epoch_chart",
        )

with tab_table:
    if tab_table.open:
        st.dataframe(
            runs_page.runs_table_view(view.table, view.flags),
            width="stretch",
            hide_index=True,
            column_config=runs_page.runs_table_columns(metric),
        )
        ui.csv_download(
            view.table, file_name=f"runs-{metric}.csv", label="Download runs table", key="table_csv"
        )

st.subheader("Flags")
if view.flags.empty:
    st.success(ui.md_literal(view.flag_summary), icon=":material/verified:")
else:
    st.warning(ui.md_literal(view.flag_summary), icon=":material/flag:")
    st.dataframe(view.flags, width="stretch", hide_index=True)

ui.csv_download(
    view.metrics, file_name=f"metrics-{metric}.csv", label="Download the data shown (full)", key="data_csv"
)
