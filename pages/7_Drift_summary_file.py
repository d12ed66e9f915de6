"""Drift summary file: a dataset comparison's summaries (from the Spark job or the CLI) as a report."""

import streamlit as st

from lib import ui
from lib.ui import drift_page

ui.setup_page("Drift summary file")

st.title("Drift summary file")
st.caption(
    "Datasets too large for this page are compared elsewhere: `driftwatch datasets … --summary` on one "
    "machine, or the Spark job on EMR or SageMaker Processing. Open its `summaries.json` here: the same "
    "tests and verdict rule run on the summaries."
)
upload = st.file_uploader("summaries.json", type="json", key="summary_file_upload")
if upload is None:
    st.info("Upload a `summaries.json` written by `driftwatch datasets --summary` or `lib/spark/job.py`.")
    st.stop()
with ui.friendly_errors():
    report = drift_page.summary_file_report(upload.getvalue())

drifted, columns = len(report.drifted_columns), report.table["column"].nunique()
m1, m2 = st.columns(2)
m1.metric("Columns drifted", f"{drifted} of {columns}", help="By the verdict rule below")
m2.metric("Rows", f"{report.n_reference:,} → {report.n_current:,}", help="Reference → current")
(st.warning if drifted else st.success)(ui.md_escape(report.summary), icon=":material/compare_arrows:")
st.caption(f"**Verdict rule.** {ui.md_escape(report.rule)}")
st.dataframe(
    drift_page.drift_summary_frame(report.table),
    column_config=drift_page.drift_table_columns(),
    hide_index=True,
    width="stretch",
)
flagged = report.signals.loc[report.signals["flagged"]]
if len(flagged):
    st.subheader("Data-quality signals")
    st.dataframe(flagged[["column", "signal", "message"]], hide_index=True, width="stretch")
drift_page.drift_exports(report, key="summary_file_exports", base_name="drift-report")
