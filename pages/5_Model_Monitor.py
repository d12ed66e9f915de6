"""Model Monitor artifacts: data capture, baseline statistics and constraints, constraint checks, and the
violations of past monitoring executions."""

import streamlit as st

from lib import demo, ui
from lib.analysis import monitor_checks
from lib.sources import capture
from lib.ui import monitor_page

ui.setup_page("Model Monitor")
monitor_page.monitor_state()
st.title("Model Monitor")  # the same words as in the sidebar

state = st.session_state
left, mid, right, last = st.columns([2, 1, 1, 1])
with left:
    capture_files = st.file_uploader(
        "Data capture files (.jsonl, .jsonl.gz, or one .zip of the hourly folders)",
        type=["jsonl", "json", "gz", "zip"],
        accept_multiple_files=True,
        key=monitor_page.monitor_uploader_key("capture"),
        help="From s3://<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/. Several files are combined.",
    )
    monitor_page.monitor_ingest("capture", capture_files)
with mid:
    stats_file = st.file_uploader(
        "Baseline statistics.json (optional)",
        type=["json"],
        key=monitor_page.monitor_uploader_key("statistics"),
        help="From the baselining job's output; names the captured CSV columns and gives the drift baseline.",
    )
    monitor_page.monitor_ingest("statistics", stats_file)
with right:
    cons_file = st.file_uploader(
        "Baseline constraints.json (optional)",
        type=["json"],
        key=monitor_page.monitor_uploader_key("constraints"),
        help="From the baselining job's output; needed for the constraint checks.",
    )
    monitor_page.monitor_ingest("constraints", cons_file)
with last:
    violation_files = st.file_uploader(
        "constraint_violations.json (optional, one per execution)",
        type=["json"],
        accept_multiple_files=True,
        key=monitor_page.monitor_uploader_key("violations"),
        help="From a monitoring schedule's output, s3://<output>/<schedule>/yyyy/mm/dd/hh/. Several files "
        "(oldest first) give a history over executions.",
    )
    monitor_page.monitor_ingest("violations", violation_files)
for slot, err in state.monitor_errors.items():
    ui.show_error(err)
    st.caption(f"The {slot} file was not used; what was loaded before is still shown.")

art = monitor_page.monitor_artifacts(tuple(sorted(state.monitor_files.items())))
if art.is_demo:
    st.info(
        f"**You are looking at demo artifacts**: a synthetic data capture of `{demo.DEMO_ENDPOINT}` (the "
        "churn model of every demo) on 6 May 2024, 13:00-15:00 UTC, 16 records of which three are broken, "
        "checked against a baseline of its April 2024 traffic (the Input drift demo's reference); the "
        "violations history is computed from them. Upload your own files above.",
        icon=":material/science:",
    )
elif st.button("Forget the uploads and show the demo again", icon=":material/restart_alt:"):
    monitor_page.monitor_reset()
    st.rerun()

# Only the open tab runs and is drawn (on_change="rerun" makes ``.open`` known): the checks (a drift
# report) and the charts of the other tabs are computed when their tab is opened.
tab_capture, tab_checks, tab_history, tab_baseline = st.tabs(
    monitor_page.TABS, key="monitor_tab", on_change="rerun"
)

with tab_capture:
    if tab_capture.open:
        result = art.capture
        if result is None:
            st.info(
                "Upload data capture files to see the captured inputs and predictions.",
                icon=":material/info:",
            )
        else:
            frame = result.frame
            c1, c2, c3 = st.columns(3)
            c1.metric("Records read", f"{result.n_records:,}", help="JSON lines in the capture files")
            c2.metric("Bad records", f"{result.n_bad:,}", help="Lines that gave no row (see the problems)")
            c3.metric("Rows (inferences)", f"{len(frame):,}", help="Batch requests give several rows")
            for note in result.notes:
                st.info(ui.md_escape(note), icon=":material/info:")
            if result.problems:
                problems_title = f"{len(result.problems)} problem(s) while reading"
                with st.expander(problems_title, expanded=result.n_bad > 0):
                    st.markdown("\n".join(f"- {ui.md_escape(p)}" for p in result.problems))
            st.caption(f"From {ui.md_escape(art.capture_label)}.")
            st.dataframe(frame, width="stretch", hide_index=True)
            ui.csv_download(frame, file_name="captured-data.csv", key="monitor_capture_csv")
            st.subheader("Summary")
            summary = capture.capture_summary(frame)
            st.dataframe(summary, width="stretch", hide_index=True)
            ui.csv_download(summary, file_name="capture-summary.csv", key="monitor_summary_csv")
            st.button(
                "Use as current data for drift",
                on_click=monitor_page.monitor_use_capture_for_drift,
                args=(frame, art.capture_label),
                icon=":material/input:",
                key="monitor_use_capture",
                help="The drift pages then compare these captured inputs and predictions with the reference.",
            )
            if state.get("drift_current_label", "").startswith("Model Monitor capture"):
                st.success(
                    f"Current drift data: {ui.md_escape(state.drift_current_label)}.", icon=":material/check:"
                )

with tab_checks:
    if tab_checks.open:
        if art.capture is None or art.constraints is None:
            st.info(
                "Constraint checks need data capture files and a constraints.json (statistics.json adds the "
                "baseline drift check).",
                icon=":material/info:",
            )
        else:
            violations = art.check()
            assert violations is not None
            n_checks = int((violations.table["status"] != "skipped").sum())
            if len(violations):
                st.warning(
                    f"**{len(violations)} violation(s)** in {n_checks} checks, "
                    "as Model Monitor reports them.",
                    icon=":material/rule:",
                )
            else:
                st.success(f"All {n_checks} checks passed.", icon=":material/verified:")
            st.dataframe(
                violations.table,
                width="stretch",
                hide_index=True,
                column_config={
                    "feature_name": st.column_config.TextColumn("Feature", pinned=True),
                    "constraint_check_type": st.column_config.TextColumn("Check"),
                    "status": st.column_config.TextColumn("Status"),
                    "observed": st.column_config.NumberColumn("Observed", format="%.4f"),
                    "threshold": st.column_config.NumberColumn("Threshold", format="%.4f"),
                    "description": st.column_config.TextColumn("Description", width="large"),
                },
            )
            left, right = st.columns(2)
            with left:
                st.download_button(
                    "Download constraint_violations.json",
                    data=violations.to_json(),
                    file_name="constraint_violations.json",
                    mime="application/json",
                    key="monitor_violations_json",
                    on_click="ignore",
                    icon=":material/download:",
                    help="Same shape as the file a monitoring schedule writes.",
                )
            with right:
                ui.csv_download(violations.table, file_name="constraint-checks.csv", key="monitor_checks_csv")
            st.caption(
                "Rules: completeness, data type, categorical domain and baseline distance (KLL buckets, "
                "L∞ for categories) as in the prebuilt Model Monitor container; "
                "see `lib/analysis/monitor_checks.py`."
            )
            agreement = monitor_page.monitor_drift_agreement(tuple(sorted(state.monitor_files.items())))
            if len(agreement):
                st.markdown("**Same capture and baseline on the Input drift page**")
                agreement_text, few_records = monitor_page.monitor_agreement_summary(agreement)
                box = st.warning if few_records else st.info
                box(ui.md_escape(agreement_text), icon=":material/compare_arrows:")
                st.dataframe(
                    agreement.drop(columns=["drift_reason"]),
                    width="stretch",
                    hide_index=True,
                    column_config={
                        "feature_name": st.column_config.TextColumn("Feature", pinned=True),
                        "model_monitor": st.column_config.TextColumn("Model Monitor"),
                        "distance": st.column_config.NumberColumn("Distance", format="%.4f"),
                        "threshold": st.column_config.NumberColumn("Threshold", format="%.4f"),
                        "n_current": st.column_config.NumberColumn("Records", format="%d"),
                        "chance_distance": st.column_config.NumberColumn(
                            "Chance (95%)",
                            format="%.3f",
                            help="Distance two samples of one distribution reach",
                        ),
                        "drift_status": st.column_config.TextColumn("Input drift verdict"),
                        "agree": st.column_config.CheckboxColumn("Agree"),
                        "why": st.column_config.TextColumn("Why", width="large"),
                    },
                )

with tab_history:
    if tab_history.open:
        history = monitor_page.monitor_history(tuple(sorted(state.monitor_files.items())))
        if history is None:
            st.info(
                "Upload constraint_violations.json files (one per monitoring execution) to see which "
                "features were flagged, run after run; or data capture files and a constraints.json to "
                "compute the checks per hour.",
                icon=":material/info:",
            )
        else:
            st.caption(ui.md_escape(monitor_page.monitor_history_source(history)))
            totals = history.totals()
            if len(history.executions) > 1:
                history_chart = ui.show_chart("timing.violations_history", history.counts())
                ui.chart_downloads(history_chart, base_name="violations-history", key="monitor_history_chart")
            st.dataframe(
                totals,
                width="stretch",
                hide_index=True,
                column_config={
                    "execution": st.column_config.TextColumn("Execution", pinned=True),
                    "violations": st.column_config.NumberColumn("Violations", format="%d"),
                    "features": st.column_config.NumberColumn("Features flagged", format="%d"),
                },
            )
            if len(history):
                st.dataframe(
                    history.table,
                    width="stretch",
                    hide_index=True,
                    column_config={
                        "execution": st.column_config.TextColumn("Execution", pinned=True),
                        "feature_name": st.column_config.TextColumn("Feature"),
                        "constraint_check_type": st.column_config.TextColumn("Check"),
                        "description": st.column_config.TextColumn("Description", width="large"),
                    },
                )
            else:
                st.success("No violations in any execution.", icon=":material/verified:")
            ui.csv_download(history.table, file_name="violations-history.csv", key="monitor_history_csv")

with tab_baseline:
    if tab_baseline.open:
        baseline = art.baseline
        if baseline is None:
            st.info(
                "Upload a baseline statistics.json to compare captured data with it.", icon=":material/info:"
            )
        else:
            st.dataframe(baseline.table, width="stretch", hide_index=True)
            ui.csv_download(baseline.table, file_name="baseline-statistics.csv", key="monitor_baseline_csv")
            current = art.capture.frame if art.capture is not None else None
            dists = monitor_checks.baseline_distributions(baseline, current)
            features = list(dict.fromkeys(dists["feature"]))
            if features:
                feature = st.selectbox("Feature", features, key="monitor_feature")
                dist_chart = ui.show_chart("baseline_vs_current", dists, feature)
                ui.chart_downloads(
                    dist_chart, base_name=f"baseline-vs-current-{feature}", key="monitor_dist_chart"
                )
                ui.csv_download(dists, file_name="baseline-distributions.csv", key="monitor_dists_csv")
            st.button(
                "Use baseline as drift reference",
                on_click=monitor_page.monitor_use_baseline_for_drift,
                args=(baseline,),
                icon=":material/anchor:",
                key="monitor_use_baseline",
                help="A synthetic sample drawn from the baseline histograms "
                "(per column; no joint information).",
            )
            if state.get("drift_reference_label", "").startswith("Model Monitor baseline"):
                st.success(
                    f"Drift reference: {ui.md_escape(state.drift_reference_label)}.", icon=":material/check:"
                )
