"""Input drift: has the data the model sees moved away from its reference? Column by column, as a whole,
and window by window."""

import streamlit as st

from lib import drift, ui
from lib.ui import drift_page

ui.setup_page("Input drift", uses_metrics=False)

st.title("Input drift")
st.caption(
    "Compares each input column of the current data with the reference: a statistical test, an effect "
    "size and one verdict rule. Ids, timestamps, the prediction and the label are left out."
)

data = drift_page.drift_data_ui()
kinds = drift_page.drift_kinds(data.reference, data.reference_digest, tuple(data.shared))
roles = drift_page.drift_roles_ui(data, kinds)

with st.expander("Verdict rule, column types and tests", icon=":material/tune:"):
    rule = drift_page.drift_rule_ui("drift_input")
    st.divider()
    kind_overrides, test_overrides = drift_page.drift_columns_ui(data, kinds, roles)

options: drift_page.DriftOptions = {
    "rule": (rule["alpha"], rule["numeric"], rule["categorical"]),
    "kinds": tuple(sorted(kind_overrides.items())),
    "tests": tuple(sorted(test_overrides.items())),
    "roles": roles,
    "names": (data.reference_label, data.current_label),
}
with ui.friendly_errors(), st.spinner("Testing every column…"):
    report = drift_page.drift_report(data, options, page="drift_input")

drifted, columns = len(report.drifted_columns), report.table["column"].nunique()
unsure = report.table.loc[report.table["status"] == "could not tell", "column"].nunique()
flagged = report.signals.loc[report.signals["flagged"], "column"].nunique()
m1, m2, m3, m4 = st.columns(4)
m1.metric("Columns drifted", f"{drifted} of {columns}", help="By the verdict rule below")
m2.metric("Could not tell", unsure, help="Too few rows to see an effect as large as the threshold")
m3.metric("Data-quality signals", flagged, help="Missing values, type mix, unseen categories, out of range")
m4.metric("Rows", f"{report.n_reference:,} → {report.n_current:,}", help="Reference → current")
(st.warning if drifted else st.success)(ui.md_escape(report.summary), icon=":material/compare_arrows:")
st.caption(f"**Verdict rule.** {ui.md_escape(report.rule)}")

tested = list(dict.fromkeys(report.table.loc[report.table["status"] != "not tested", "column"]))
tested_kinds = tuple((c, report.kinds[c]) for c in tested)
state = st.session_state
opened = state.setdefault("drift_input_opened", {})  # windows chosen per data: the export uses them


def multivariate() -> drift.MultivariateResult:
    """The domain classifier and PCA check on the tested columns (cached on the data's digests)."""
    return drift_page.drift_multivariate(
        data.reference,
        data.current,
        digests=data.digests,
        columns=tuple(tested),
        kinds=tested_kinds,
        alpha=report.alpha,
    )


def window_grid(split: drift_page.Split) -> drift.WindowReport:
    """Every window × column of the current data (cached on the data's digests and the split)."""
    opened[data.signature, "windows"] = split
    return drift_page.drift_windows(
        data.reference, data.current, digests=data.digests, split=split, **options
    )


mv = windows = None  # set by the Multivariate and Over time tabs when computed; the export includes them
# Only the open tab runs (on_change="rerun" makes ``.open`` known): the classifier and the window grid
# are computed when their tab is opened, not on every visit.
columns_tab, signals_tab, multi_tab, time_tab, export_tab = st.tabs(
    ["Columns", "Signals", "Multivariate", "Over time", "Export"], key="drift_input_tab", on_change="rerun"
)

with columns_tab:
    if columns_tab.open:
        st.dataframe(
            drift_page.drift_summary_frame(report.table),
            column_config=drift_page.drift_table_columns(),
            hide_index=True,
            width="stretch",
        )
        ui.csv_download(report.table, file_name="drift-columns.csv", key="drift_input_table_csv")
        pick, mode_col = st.columns([2, 1])
        with pick:
            column = st.selectbox(
                "Column to look at",
                tested,
                key=f"drift_input_column_{data.signature}",
                help="Sorted as the table: drifted first, then by effect size.",
            )
        kind = report.kinds.get(column, "numeric")
        with mode_col:
            mode = st.segmented_control(
                "Chart",
                ["histogram", "ecdf"],
                default="histogram",
                key="drift_input_mode",
                format_func=lambda m: {"histogram": "Histogram", "ecdf": "ECDF"}[m],
                disabled=kind != "numeric",
                help="For numbers: shares per bin, or the cumulative share (what the KS test compares).",
            )
        overlay = drift.binned_overlay(data.reference, data.current, column, kind)
        chart = ui.show_chart("drift_overlay", overlay, column, mode=mode or "histogram")
        row = report.table.loc[report.table["column"] == column].iloc[0]
        st.caption(ui.md_escape(f"{column}: {row['reason']}"))
        ui.chart_downloads(chart, base_name=f"drift-{column}", key="drift_input_overlay")

with signals_tab:
    if signals_tab.open:
        st.caption(
            "Flags of their own, next to the verdict: a change in the missing-value rate, values that are "
            "not numbers in a numeric column, categories never seen in the reference, values outside the "
            "reference range."
        )
        signals = report.signals.sort_values("flagged", ascending=False, kind="stable")
        only_flagged = st.toggle("Only flagged", value=True, key="drift_input_only_flagged")
        shown = signals.loc[signals["flagged"]] if only_flagged else signals
        if shown.empty:
            st.success("No data-quality signal is flagged.", icon=":material/check:")
        else:
            st.dataframe(
                shown,
                hide_index=True,
                width="stretch",
                column_config={
                    "column": st.column_config.TextColumn("Column", pinned=True),
                    "signal": st.column_config.TextColumn("Signal"),
                    "reference": st.column_config.NumberColumn("Reference", format="percent"),
                    "current": st.column_config.NumberColumn("Current", format="percent"),
                    "flagged": st.column_config.CheckboxColumn("Flagged"),
                    "message": st.column_config.TextColumn("What we saw", width="large"),
                },
            )
        ui.csv_download(report.signals, file_name="drift-signals.csv", key="drift_input_signals_csv")

with multi_tab:
    if multi_tab.open:
        st.caption(
            "Can a classifier tell current rows from reference rows? A held-out AUC near 0.5 means no; "
            "PCA reconstruction error catches changed correlations that leave each column intact."
        )
        if st.checkbox("Run the domain classifier", value=True, key="drift_input_multivariate"):
            with ui.friendly_errors(stop=False), st.spinner("Training the domain classifier…"):
                mv = multivariate()
                verdict, checks = drift_page.drift_multivariate_checks(mv)
                (st.warning if mv.drifted else st.success)(ui.md_escape(verdict), icon=":material/hub:")
                a, b, c = st.columns(3)
                a.metric("Held-out AUC", f"{mv.auc:.3f}", help="0.5: indistinguishable; 1: fully separable")
                b.metric(
                    "95% interval",
                    f"{mv.auc_low:.3f} – {mv.auc_high:.3f}",
                    help="From random relabellings of the rows: covers 0.5 in about 95% of no-drift cases",
                )
                c.metric(
                    "PCA error ratio",
                    "—" if mv.pca_ratio is None else f"{mv.pca_ratio:.2f}",
                    help=f"Current ÷ held-out reference reconstruction error (numeric columns); fires at "
                    f"≥ {mv.pca_ratio_threshold:g} with p < {mv.check_level:g}",
                )
                st.dataframe(
                    checks,
                    hide_index=True,
                    width="stretch",
                    column_config={
                        "check": st.column_config.TextColumn("Check", pinned=True),
                        "value": st.column_config.TextColumn("Result"),
                        "threshold": st.column_config.TextColumn("Fires when"),
                        "p_value": st.column_config.NumberColumn("p", format="%.2g"),
                        "fired": st.column_config.CheckboxColumn("Fired"),
                    },
                )
                st.caption(ui.md_escape(mv.classifier_reason + " " + mv.pca_reason))
                importance = ui.show_chart("drift_importance", mv.importance)
                ui.chart_downloads(
                    importance, base_name="drift-classifier-importance", key="drift_input_importance"
                )
                ui.csv_download(
                    mv.importance, file_name="drift-importance.csv", key="drift_input_importance_csv"
                )

with time_tab:
    if time_tab.open:
        split = drift_page.drift_split_ui("drift_input_windows", roles[2], len(data.current))
        with ui.friendly_errors(stop=False), st.spinner("Testing every window × column…"):
            windows = window_grid(split)
            caption, small = drift_page.drift_windows_summary(windows)
            st.caption(caption)
            if small is not None:
                st.info(ui.md_escape(small), icon=":material/hourglass_empty:")
            heat = ui.show_chart("drift_heatmap", windows.table)
            ui.chart_downloads(heat, base_name="drift-heatmap", key="drift_input_heatmap")
            ui.csv_download(windows.table, file_name="drift-windows.csv", key="drift_input_windows_csv")

with export_tab:
    if export_tab.open:
        st.caption(
            "The report as a small self-contained HTML page, as JSON, or the per-column table as CSV. "
            "The HTML report includes the multivariate check and the window heat map (with the windows "
            "chosen on the Over time tab)."
        )
        default_split: drift_page.Split = (None, None, drift_page.DEFAULT_WINDOWS)
        with ui.friendly_errors(stop=False), st.spinner("Completing the report…"):  # cached if seen
            if state.get("drift_input_multivariate", True):
                mv = multivariate()
            windows = window_grid(opened.get((data.signature, "windows"), default_split))
        drift_page.drift_exports(
            report, key="drift_input_export", data=data, windows=windows, multivariate=mv
        )
