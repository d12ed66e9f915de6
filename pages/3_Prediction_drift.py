"""Prediction drift: has the model's output moved, and where labels exist, has it got worse?"""

import streamlit as st

from lib import drift, ui
from lib.ui import drift_page, gate

ui.setup_page("Prediction drift", uses_metrics=False)

st.title("Prediction drift")
st.caption(
    "The class mix or score distribution of the model's output, current against reference, under the "
    "same verdict rule as the inputs; with labels, realised accuracy (or error) per window."
)

data = drift_page.drift_data_ui()
gate.release()  # the uploads are read (in this session's turn); the next session may go
kinds = drift_page.drift_kinds(data.reference, data.reference_digest, tuple(data.shared))
prediction, label, timestamp = drift_page.drift_roles_ui(data, kinds, require_prediction=True)
if prediction is None:
    st.info(
        "No column both tables share can be a prediction. Upload tables with the model's output "
        "(a class or a score) in both.",
        icon=":material/search_off:",
    )
    st.stop()

with st.expander("Verdict rule, test and windows", icon=":material/tune:"):
    rule = drift_page.drift_rule_ui("drift_pred")
    a, b = st.columns(2)
    with a:
        kind = st.selectbox(
            "Prediction kind",
            ["numeric", "categorical", "boolean"],
            index=["numeric", "categorical", "boolean"].index(kinds.get(prediction, "numeric"))
            if kinds.get(prediction) in ("numeric", "categorical", "boolean")
            else 0,
            key=f"drift_pred_kind_{data.signature}_{prediction}",
            help="Scores are numeric; classes are categorical (or boolean).",
        )
        test = st.selectbox(
            "Test",
            [drift_page.DRIFT_AUTO, *drift.tests_for_kind(kind)],
            key=f"drift_pred_test_{kind}",
            format_func=lambda n: n if n == drift_page.DRIFT_AUTO else f"{drift.TESTS[n].label} ({n})",
            help="Auto: KS for scores, chi-square (or Fisher's exact) for classes.",
        )
    with b:
        score_threshold = st.slider(
            "Score threshold for accuracy",
            0.0,
            1.0,
            0.5,
            0.05,
            key="drift_pred_score_threshold",
            help="Scores in [0, 1] with binary labels count as a positive prediction at or above this.",
        )
    split = drift_page.drift_split_ui("drift_pred_windows", timestamp, len(data.current))

with ui.friendly_errors(), st.spinner("Comparing the predictions…"):
    result = drift_page.drift_prediction(
        data.reference,
        data.current,
        digests=data.digests,
        prediction=prediction,
        label=label,
        timestamp=timestamp,
        split=split,
        rule=(rule["alpha"], rule["numeric"], rule["categorical"]),
        kind=kind,
        test=None if test == drift_page.DRIFT_AUTO else test,
        score_threshold=score_threshold,
        names=(data.reference_label, data.current_label),
    )

change = result.performance_change
if change is not None:  # with labels, realised performance leads: it is what the user cares about
    worse = change["verdict"] == "worse"
    (st.error if worse else st.info)(ui.md_escape(str(change["message"])), icon=":material/speed:")
row = result.drift.table.iloc[0]
m1, m2, m3, m4 = st.columns(4)
m1.metric("Verdict", drift_page.DRIFT_STATUS_BADGES.get(row["status"], row["status"]))
m2.metric("Effect", f"{row['effect_size']:.3f}", help=f"Threshold {row['effect_threshold']:.3f}")
m3.metric("Smallest detectable", f"{row['min_detectable_effect']:.3f}", help="At these sample sizes")
m4.metric("Adjusted p", "—" if row["p_adjusted"] != row["p_adjusted"] else f"{row['p_adjusted']:.2g}")
(st.warning if row["drifted"] else st.success)(
    ui.md_escape(f"{prediction}: {row['reason']}"), icon=":material/insights:"
)
st.caption(f"**Verdict rule.** {ui.md_escape(result.drift.rule)}")

# Only the open tab is drawn (on_change="rerun" makes ``.open`` known); the export is built when asked.
mix_tab, perf_tab, export_tab = st.tabs(
    ["Score distribution" if result.kind == "numeric" else "Class mix", "Realised performance", "Export"],
    key="drift_pred_tab",
    on_change="rerun",
)
with mix_tab:
    if mix_tab.open:
        mode = "histogram"
        if result.kind == "numeric":
            mode = (
                st.segmented_control(
                    "Chart",
                    ["histogram", "ecdf"],
                    default="histogram",
                    key="drift_pred_mode",
                    format_func=lambda m: {"histogram": "Histogram", "ecdf": "ECDF"}[m],
                )
                or "histogram"
            )
        chart = ui.show_chart("drift_overlay", result.overlay, prediction, mode=mode)
        ui.chart_downloads(chart, base_name=f"prediction-drift-{prediction}", key="drift_pred_overlay")
        ui.csv_download(result.overlay, file_name="prediction-bins.csv", key="drift_pred_overlay_csv")

with perf_tab:
    if perf_tab.open:
        if result.performance is None:
            st.info(
                "Choose a label column (ground truth) to see realised accuracy per window. Labels often "
                "arrive later than predictions: a current table with a label column is enough.",
                icon=":material/label_off:",
            )
        else:
            perf = result.performance
            if len(perf) > 1:
                perf_chart = ui.show_chart("prediction_performance", perf)
                ui.chart_downloads(perf_chart, base_name="prediction-performance", key="drift_pred_perf")
            st.dataframe(
                perf,
                hide_index=True,
                width="stretch",
                column_config={
                    "window": st.column_config.TextColumn("Window", pinned=True),
                    "window_start": st.column_config.DatetimeColumn("Start (UTC)", format="YYYY-MM-DD HH:mm"),
                    "n": st.column_config.NumberColumn("Labelled rows", format="%d"),
                    "metric": st.column_config.TextColumn("Metric"),
                    "value": st.column_config.NumberColumn("Value", format="%.3f"),
                    "low": st.column_config.NumberColumn("95% low", format="%.3f"),
                    "high": st.column_config.NumberColumn("95% high", format="%.3f"),
                },
            )
            ui.csv_download(perf, file_name="prediction-performance.csv", key="drift_pred_perf_csv")

with export_tab:
    if export_tab.open:
        st.caption("The prediction-drift report as a small self-contained HTML page, JSON or CSV.")
        drift_page.drift_exports(
            result.drift, key="drift_pred_export", base_name="prediction-drift-report", data=data
        )
