"""Load from AWS: connect with a profile; find SageMaker training jobs and load their curves, or load an
endpoint's data capture and Model Monitor baseline for the drift pages."""

import streamlit as st

from lib import ui
from lib.sources.aws import load as live
from lib.sources.aws import training_jobs
from lib.ui import aws_page

ui.setup_page("Load from AWS")
st.title("Load from AWS")
st.caption(
    "Reads SageMaker training jobs and their CloudWatch metrics (and, if you like, their training logs) "
    "straight from your AWS account. Credentials come only from your usual AWS setup (environment "
    "variables, `~/.aws` profiles, SSO, instance role): they are never typed in, stored or shown here."
)

# ---- 1 · Connect
st.subheader("1 · Connect")
profiles, profile_error = aws_page.aws_profiles()
if profile_error is not None:
    ui.show_error(profile_error)
aws_page.aws_form_restore(profiles)
left, mid, right = st.columns([2, 2, 3])
with left:
    profile = st.selectbox(
        "AWS profile",
        profiles,
        key="aws_profile",
        on_change=aws_page.aws_on_profile_change,
        help="Profiles from your AWS config and credentials files. The default chain uses the "
        "AWS_* environment variables, the default profile or the instance/container role.",
    )
with mid:
    region = st.selectbox(
        "Region",
        aws_page.aws_region_options(st.session_state.aws_region),
        index=None,
        placeholder="Choose a region",
        key="aws_region",
        on_change=aws_page.aws_remember,
        args=("aws_region",),
        help="Where your training jobs run. Preset from AWS_REGION / AWS_DEFAULT_REGION or the profile.",
    )
with right:
    endpoint = aws_page.aws_endpoint_input()
aws_page.aws_stopped_notice()
st.caption(aws_page.aws_action_caption("Connect"))
if st.button("Connect", icon=":material/link:", type="primary", key="aws_connect_button"):
    with ui.friendly_errors(stop=False):
        aws_page.aws_connect(profile, region, endpoint)

conn = st.session_state.get("aws_connection")
if conn is None:
    st.info(
        "Choose a profile and region, then **Connect**. No AWS setup yet? Run `aws configure` or "
        "`aws sso login` in a terminal and reload this page.",
        icon=":material/info:",
    )
    st.stop()
st.success(
    f"Connected to account **{conn['account']}** as {ui.md_escape(conn['arn'])} "
    f"({conn['region']}{', endpoint ' + ui.md_escape(conn['endpoint']) if conn['endpoint'] else ''}).",
    icon=":material/verified_user:",
)
if aws_page.aws_connection_differs(profile, region, endpoint):
    st.warning("The settings above changed: press **Connect** to use them.", icon=":material/sync:")

jobs_tab, endpoint_tab = st.tabs(["Training jobs", "Endpoint drift"])
# the endpoint tab is drawn first: the training jobs tab ends the run with st.stop() until jobs are found
with endpoint_tab:
    aws_page.aws_endpoint_drift()

with jobs_tab:
    # ---- 2 · Find jobs
    st.subheader("2 · Find training jobs")
    c1, c2, c3, c4, c5 = st.columns([3, 2, 2, 2, 1])
    with c1:
        name_contains = st.text_input(
            "Name contains",
            key="aws_name_contains",
            on_change=aws_page.aws_remember,
            args=("aws_name_contains",),
            help="Case-insensitive part of the job name.",
        )
    with c2:
        status = st.selectbox(
            "Status",
            training_jobs.JOB_STATUSES,
            index=None,
            placeholder="Any status",
            key="aws_status",
            on_change=aws_page.aws_remember,
            args=("aws_status",),
            help="Only jobs in this state.",
        )
    with c3:
        created_after = st.date_input(
            "Created on or after",
            value=None,
            key="aws_created_after",
            on_change=aws_page.aws_remember,
            args=("aws_created_after",),
            help="UTC day; empty = no limit.",
        )
    with c4:
        created_before = st.date_input(
            "Created on or before",
            value=None,
            key="aws_created_before",
            on_change=aws_page.aws_remember,
            args=("aws_created_before",),
            help="UTC day; empty = no limit.",
        )
    with c5:
        max_jobs = st.number_input(
            "At most",
            min_value=1,
            max_value=10_000,
            step=10,
            key="aws_max_jobs",
            on_change=aws_page.aws_remember,
            args=("aws_max_jobs",),
            help="Newest jobs first.",
        )
    st.caption(aws_page.aws_action_caption("Find jobs"))
    if st.button("Find jobs", icon=":material/search:", key="aws_find_button"):
        with ui.friendly_errors(stop=False):
            aws_page.aws_find(name_contains, status, created_after, created_before, int(max_jobs))

    found = st.session_state.get("aws_found")
    if found is None:
        st.info("Set the filters (or leave them empty) and press **Find jobs**.", icon=":material/info:")
        st.stop()
    aws_page.aws_show_warnings(st.session_state.get("aws_found_warnings", []))
    if found.empty:
        st.info("No training jobs match these filters in this region. Widen them and search again.")
        st.stop()
    table = found[list(live.JOB_LIST_COLUMNS)]
    st.caption(f"{len(found)} training job{'s' if len(found) != 1 else ''}, newest first.")
    st.dataframe(table, width="stretch", hide_index=True, column_config=aws_page.aws_jobs_columns())
    ui.csv_download(
        table, file_name="sagemaker-training-jobs.csv", label="Download job list", key="aws_jobs_csv"
    )

    # ---- 3 · Load
    st.subheader("3 · Load")
    chosen = st.multiselect(
        "Jobs to load",
        list(found["job"]),
        key="aws_jobs_chosen",
        on_change=aws_page.aws_remember,
        args=("aws_jobs_chosen",),
        placeholder="Choose jobs",
        help="All listed jobs are chosen at first.",
    )
    metric_names = st.multiselect(
        "Metrics",
        training_jobs.defined_metric_names(found),
        key="aws_metric_names",
        on_change=aws_page.aws_remember,
        args=("aws_metric_names",),
        accept_new_options=True,
        placeholder="Each job's own metric definitions",
        help="Default: the metrics the jobs define (MetricDefinitions). Type a name to add another; "
        "empty = each job's own.",
    )
    o1, o2 = st.columns(2)
    with o1:
        include_logs = st.checkbox(
            "Include training logs (per-epoch curves)",
            key="aws_include_logs",
            on_change=aws_page.aws_remember,
            args=("aws_include_logs",),
            help="Also read the jobs' CloudWatch log streams. Where the logs have a metric, their per-epoch "
            "values are shown instead of CloudWatch's per-minute averages (one curve each, with epochs).",
        )
    with o2:
        instance_metrics = st.checkbox(
            "Include instance metrics (CPU, GPU, memory, disk)",
            key="aws_instance_metrics",
            on_change=aws_page.aws_remember,
            args=("aws_instance_metrics",),
            help="Utilisation of the training instances, averaged across each job's hosts.",
        )
    if st.button(
        "Load", icon=":material/cloud_download:", type="primary", disabled=not chosen, key="aws_load_button"
    ):
        with ui.friendly_errors(stop=False):
            aws_page.aws_load_into_session(chosen, metric_names, include_logs, instance_metrics)
    st.caption(
        aws_page.aws_action_caption("Load") + " Complete results are kept for 10 minutes: loading the same "
        "jobs again makes no new AWS calls."
    )
    aws_page.aws_load_report()
