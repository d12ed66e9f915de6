"""Data: load SageMaker training-metric exports (or explore the demo) and see what was read."""

import streamlit as st

from lib import demo, ui
from lib.ui import data_page

ui.setup_page("Data")

st.title("Data")  # the same word as in the sidebar
st.caption("Training metrics from your export files, or the demo.")
if st.session_state.is_demo:
    st.info(
        f"**You are looking at demo data.** {demo.DEMO_DESCRIPTION}\n\n{demo.DEMO_STORY}\n\n"
        "To see your own runs, drop export files below: SageMaker `TrainingJobAnalytics` CSVs, "
        "CloudWatch CLI JSON, Logs Insights CSV exports, raw training logs, Loggly events or any long/wide "
        "metrics CSV. Your files stay in this browser session only.",
        icon=":material/science:",
    )

uploads = st.file_uploader(
    "Drop export files (several at once are merged)",
    accept_multiple_files=True,
    key=data_page.uploader_key(),
    help="The format is detected from each file's content. " + data_page.formats_help(),
)

with st.expander("Custom metric definitions for your own training logs"):
    st.caption(
        "As in SageMaker's `MetricDefinitions`: a metric name and a regular expression whose first group "
        "is the value. Applied to training-log files uploaded after you edit them, together with the "
        "built-in line shapes (image classification, XGBoost, Linear Learner)."
    )
    definitions = st.data_editor(
        data_page.metric_definitions_frame(),
        num_rows="dynamic",
        key="metric_definitions_editor",
        width="stretch",
        column_config={
            "name": st.column_config.TextColumn("Name", help="e.g. validation:f1"),
            "regex": st.column_config.TextColumn("Regex", help=r"e.g. val_f1=([0-9.]+)"),
        },
    )

with ui.friendly_errors():
    parsed_definitions = data_page.parse_metric_definitions(definitions)

data_page.ingest_uploads(uploads or [], parsed_definitions)
data_page.upload_report(uploads or [])
data_page.loaded_sources_summary()
