"""Timing & cost: how long runs take and what they cost, whether that drifts, and endpoint latency."""

import streamlit as st

from lib import ui
from lib.analysis import latency as latency_stats
from lib.analysis import pricing, timing
from lib.ui import timing_page

ui.setup_page("Timing & cost")
timing_page.timing_state()
st.title("Timing & cost")

jobs = st.session_state.jobs
if jobs.empty:
    st.info("No training jobs loaded yet. Load exports on the Data page.", icon=":material/info:")
    st.page_link("app.py", label="Go to the Data page", icon=":material/folder_open:")
    st.stop()

# Only the open tab runs and is drawn (on_change="rerun" makes ``.open`` known): the browser draws the
# cost and phase charts on arrival, not the hidden tabs' drift and latency charts too.
tab_runs, tab_drift, tab_latency = st.tabs(timing_page.TABS, key="timing_tab", on_change="rerun")

# ------------------------------------------------------------------ runs & cost
with tab_runs:
    if tab_runs.open:
        # The editor is sent only while the box is open (on_change="rerun" makes ``.open`` known): a
        # closed box no longer makes the browser load the data-grid code before the first chart.
        prices_box = st.expander(
            "Price table (USD per instance-hour) — edit to match your region and contract",
            key="timing_prices_box",
            on_change="rerun",
        )
        with prices_box:
            if prices_box.open:
                st.caption(pricing.PRICES_SOURCE)
                st.data_editor(
                    timing_page.timing_price_base(jobs),
                    key=timing_page.timing_prices_key(),
                    on_change=timing_page.timing_commit_prices,
                    num_rows="dynamic",
                    width="stretch",
                    hide_index=True,
                    column_config=timing_page.timing_price_columns(),
                )
                st.button(
                    "Reset to the built-in prices",
                    on_click=timing_page.timing_reset_prices,
                    icon=":material/restart_alt:",
                )
        table = None
        with ui.friendly_errors(stop=False):
            table = timing.runs_cost_table(
                jobs, st.session_state.metrics, timing_page.timing_price_base(jobs)
            )
        if table is None:
            st.caption("Costs below use the built-in prices until the price table is fixed.")
            table = timing.runs_cost_table(jobs, st.session_state.metrics)
        totals = pricing.cost_summary(table)
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Total cost", f"${totals.total_usd:,.2f}", help="Sum over runs with a price")
        c2.metric(
            "On-demand equivalent",
            f"${totals.on_demand_usd:,.2f}",
            help="Training seconds at on-demand price",
        )
        c3.metric(
            "Spot savings",
            f"${totals.spot_savings_usd:,.2f}",
            f"{totals.savings_pct:.0f}% of on-demand" if totals.spot_savings_usd > 0 else None,
            delta_arrow="off",
            help="On-demand cost minus what managed spot runs were billed",
        )
        c4.metric("Billable instance-hours", f"{totals.billable_hours:,.1f}")
        st.caption(
            "**cost = billable seconds ÷ 3600 × instance count × USD per hour** (see the last column)."
        )
        if totals.n_unpriced:
            st.warning(
                f"{totals.n_unpriced} run(s) have no cost: their instance type has no price (enter it in the "
                "price table above) or their run time or instance count is unknown.",
                icon=":material/warning:",
            )
        cost_chart = ui.show_chart("cost_bars", table)
        ui.chart_downloads(cost_chart, base_name="cost-per-run", key="timing_cost_chart")

        phases = timing.phase_durations(table)
        if phases.empty:
            st.info(
                "No phase durations in the loaded runs (Starting, Downloading, Training, Uploading come from "
                "SageMaker's secondary status transitions): load the runs from AWS to see them.",
                icon=":material/info:",
            )
        else:
            phase_chart = ui.show_chart("phase_bars", phases)
            ui.chart_downloads(phase_chart, base_name="phases-per-run", key="timing_phase_chart")

        st.subheader("Per run")
        st.dataframe(table, width="stretch", hide_index=True, column_config=timing_page.timing_runs_columns())
        ui.csv_download(
            table, file_name="timing-and-cost.csv", label="Download runs table", key="timing_runs_csv"
        )

# ------------------------------------------------------------------ timing drift
with tab_drift:
    if tab_drift.open:
        timings = timing.run_timings(jobs, st.session_state.metrics)
        measures = timing.timing_measures(timings)
        if not measures or len(timings) < 5:
            st.info("Timing drift needs at least five runs with durations.", icon=":material/info:")
        else:
            left, mid, right = st.columns([3, 3, 2])
            measure = left.selectbox(
                "Measure",
                list(measures),
                format_func=lambda m: measures[m],
                key="timing_measure",
                help="Which duration of each run to follow "
                "(seconds per epoch comes from epoch-stamped metrics).",
            )
            n_runs = int(timings[measure].notna().sum())
            recent = mid.slider(
                "Recent window (runs)",
                min_value=2,
                max_value=max(3, n_runs - 2),
                value=min(max(2, n_runs // 3), max(3, n_runs - 2)),
                key="timing_recent",
                help="The last runs, compared with all runs before them (Mann-Whitney U test).",
            )
            alpha = right.select_slider(
                "Significance level", options=[0.01, 0.05, 0.1], value=0.05, key="timing_alpha"
            )
            drift = timing.duration_drift(timings, measure, recent=recent, alpha=alpha)
            (st.warning if drift.comparison.significant or drift.change_points else st.success)(
                ui.md_escape(drift.summary), icon=":material/insights:"
            )
            slow = timing.timing_outliers(timings, "seconds_per_epoch")
            if len(slow):
                st.warning(ui.md_escape(" ".join(slow["explanation"])), icon=":material/hourglass_top:")
            drift_chart = ui.show_chart(
                "series_drift",
                drift.series,
                drift.change_points,
                title=f"{measures[measure]} per run",
                y_title=measures[measure],
            )
            ui.chart_downloads(drift_chart, base_name=f"timing-drift-{measure}", key="timing_drift_chart")
            for sentence in drift.explanations:
                st.markdown(f"- {ui.md_escape(sentence)}")
            st.caption(
                "Change points: optimal segmentation (PELT) of the log durations with a robust noise scale; "
                "the effect is the ratio of medians, recent over baseline."
            )
            ui.csv_download(drift.series, file_name=f"timing-drift-{measure}.csv", key="timing_drift_csv")

# ------------------------------------------------------------------ endpoint latency
with tab_latency:
    if tab_latency.open:
        st.caption(
            f"Showing **{ui.md_escape(st.session_state.timing_latency_label)}**. SageMaker publishes "
            "`ModelLatency` and `OverheadLatency` in microseconds (namespace `AWS/SageMaker`, dimensions "
            "`EndpointName`, `VariantName`); shown here in milliseconds."
        )
        with st.expander("Load endpoint latency"):
            upload = st.file_uploader(
                "CloudWatch export: JSON of `aws cloudwatch get-metric-statistics` or `get-metric-data`, "
                "or CSV",
                type=["json", "csv"],
                key="timing_latency_upload",
                help="CSV columns: timestamp, metric, value (µs) [, endpoint, variant, stat].",
            )
            timing_page.timing_latency_upload(upload)
            conn = timing_page.timing_aws_connection()
            if conn is None:
                st.caption("To load live from CloudWatch, connect on the Load from AWS page first.")
                aws_page = ui.page_link_for("Load from AWS")
                if aws_page is not None:
                    st.page_link(aws_page.path, label="Load from AWS", icon=aws_page.icon)
            else:
                with st.form("timing_latency_form"):
                    a, b, c = st.columns([3, 2, 2])
                    endpoint = a.text_input("Endpoint name", key="timing_endpoint")
                    variant = b.text_input("Variant", value="AllTraffic", key="timing_variant")
                    hours = c.number_input(
                        "Last hours", min_value=1, max_value=24 * 63, value=72, key="timing_hours"
                    )
                    submitted = st.form_submit_button(
                        "Load from CloudWatch", icon=":material/cloud_download:"
                    )
                timing_page.timing_latency_deadline_note()
                if submitted:
                    with ui.friendly_errors(stop=False):
                        timing_page.timing_load_latency_into_session(endpoint, variant, int(hours))
            if not st.session_state.timing_latency_label.startswith("demo") and st.button(
                "Back to the demo latency", icon=":material/restart_alt:"
            ):
                del st.session_state["timing_latency"]
                st.rerun()

        latency = st.session_state.timing_latency
        for note in latency.attrs.get("warnings", ()):
            st.warning(ui.md_escape(note))
        series_names = sorted(set(zip(latency["endpoint"], latency["variant"], strict=True)))
        left, mid, right, far = st.columns(4)
        picked = left.selectbox(
            "Endpoint / variant",
            series_names,
            format_func=lambda ev: f"{ev[0] or '(unnamed)'} / {ev[1] or '(unnamed)'}",
            key="timing_lat_series",
        )
        metric = mid.selectbox(
            "Metric",
            sorted(set(latency["metric"])),
            key="timing_lat_metric",
            help="ModelLatency: time in your model",
        )
        percentile = right.selectbox(
            "Percentile tested",
            list(latency_stats.PERCENTILES),
            index=1,
            key="timing_lat_pct",
            help="Used for drift",
        )
        freq = far.selectbox(
            "Bucket", ["5min", "15min", "1h", "6h", "1D"], index=2, key="timing_lat_freq", help="Time bucket"
        )
        pcts = latency_stats.latency_percentiles(
            latency.loc[(latency["endpoint"] == picked[0]) & (latency["variant"] == picked[1])], freq=freq
        )
        lat_drift = None
        with ui.friendly_errors(stop=False):
            lat_drift = latency_stats.latency_drift(
                pcts,
                metric=metric,
                percentile=percentile,
                endpoint=picked[0],
                variant=picked[1],
                what="buckets",
            )
        change_times = (
            list(lat_drift.series["time"].iloc[list(lat_drift.change_points)])
            if lat_drift is not None
            else []
        )
        lat_chart = ui.show_chart("latency_percentiles", pcts, metric=metric, change_times=change_times)
        ui.chart_downloads(lat_chart, base_name=f"latency-{metric}", key="timing_latency_chart")
        if lat_drift is not None:
            (st.warning if lat_drift.comparison.significant or lat_drift.change_points else st.success)(
                ui.md_escape(f"{metric} {percentile}: {lat_drift.summary}"), icon=":material/insights:"
            )
            for sentence in lat_drift.explanations:
                st.markdown(f"- {ui.md_escape(sentence)}")
        ui.csv_download(pcts, file_name=f"latency-percentiles-{metric}.csv", key="timing_latency_csv")
