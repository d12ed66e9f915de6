"""The Load from AWS page: connect with a profile, find jobs, load them (cached)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import pandas as pd
import streamlit as st

from lib.errors import AppError
from lib.sources.aws import load as live
from lib.sources.aws import session as aws
from lib.sources.aws import training_jobs
from lib.ui.frame import md_escape, merge_into_session, source_entry

if TYPE_CHECKING:  # only the type: sessions are made by lib.sources.aws.session
    import boto3

AWS_DEFAULT_CHAIN: Final = "(default credential chain)"


def aws_profiles() -> tuple[list[str], AppError | None]:
    """Profile choices (``AWS_DEFAULT_CHAIN`` first) and the error if the AWS config is unreadable."""

    try:
        return [AWS_DEFAULT_CHAIN, *aws.list_profiles()], None
    except AppError as err:
        return [AWS_DEFAULT_CHAIN], err


def aws_profile_name(choice: str | None) -> str | None:
    """The profile to pass to boto3 for a profile choice (None for the default chain)."""
    return None if choice in (None, AWS_DEFAULT_CHAIN) else choice


def aws_form_restore(profiles: list[str]) -> None:
    """Give every AWS widget its remembered value, or a sensible default (env, profile, config).

    ``aws_form`` (a plain key) is the source of truth: widgets write to it in ``on_change``
    (:func:`aws_remember`) and it is written back to the widget keys before they are drawn, the
    recipe that survives visits to other pages (TESTING.md pitfall 2).
    """

    state = st.session_state
    saved: dict[str, Any] = state.setdefault("aws_form", {})
    if "aws_profile" not in saved or saved["aws_profile"] not in profiles:
        env_profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
        saved["aws_profile"] = env_profile if env_profile in profiles else AWS_DEFAULT_CHAIN
    defaults: dict[str, Callable[[], Any]] = {
        "aws_region": lambda: aws.default_region(aws_profile_name(saved["aws_profile"])),
        "aws_endpoint": aws.default_endpoint_url,
        "aws_name_contains": str,
        "aws_status": lambda: None,
        "aws_created_after": lambda: None,
        "aws_created_before": lambda: None,
        "aws_max_jobs": lambda: 100,
        "aws_include_logs": lambda: False,
        "aws_instance_metrics": lambda: False,
    }
    for key, make in defaults.items():
        if key not in saved:
            saved[key] = make()
    for key, value in saved.items():
        state[key] = value


def aws_remember(key: str) -> None:
    """``on_change`` of every AWS widget: remember its new value in ``aws_form``."""
    st.session_state.aws_form[key] = st.session_state[key]


def _aws_set(key: str, value: Any) -> None:
    st.session_state[key] = value
    st.session_state.aws_form[key] = value


def aws_on_profile_change() -> None:
    """A newly picked profile brings its own region (unless the environment fixes one)."""

    aws_remember("aws_profile")
    region = aws.default_region(aws_profile_name(st.session_state.aws_profile))
    if region:
        _aws_set("aws_region", region)


def aws_region_options(current: str | None) -> list[str]:
    """Regions botocore knows for SageMaker, plus ``current`` if it is not one of them."""

    regions = list(aws.known_regions())
    return regions if not current or current in regions else [current, *regions]


def aws_session(profile: str | None, region: str | None) -> boto3.Session:
    """A new boto3 session for (profile, region) on every call: never cached, never shared.

    boto3 Sessions are not thread-safe, and Streamlit runs each browser session's script in a thread
    of its own: a Session kept in ``st.cache_resource`` would be used by all of them at once. So each
    user action (connect, find, a load that misses ``st.cache_data``) makes its own Session, and the
    library makes its clients from it in that thread. What is worth keeping (the loaded frames) is
    cached by ``st.cache_data`` in :func:`aws_load` and ``timing_page.timing_load_latency``.
    """

    return aws.make_session(profile, region)


def aws_connect(choice: str | None, region: str | None, endpoint: str) -> None:
    """Check the settings with STS GetCallerIdentity; remember the connection (never the keys).

    ``aws_connection`` (also read by other pages) holds ``profile`` (a name or None), ``region``,
    ``endpoint`` (None = AWS), ``account`` and ``arn``.

    Raises :class:`AppError` subclasses (shown by ``friendly_errors``); a failed attempt forgets the
    previous connection and job list, but never the data already loaded.
    """

    state = st.session_state
    state.aws_connection = None
    state.aws_found = None
    profile = aws_profile_name(choice)
    endpoint_url = aws.check_endpoint_url(endpoint)
    with st.spinner("Connecting…"):
        session = aws_session(profile, region)
        identity = aws.whoami(session, endpoint_url=endpoint_url, quick=True)
    state.aws_connection = {
        "profile": profile,
        "region": session.region_name,
        "endpoint": endpoint_url,
        "account": identity.account,
        "arn": identity.arn,
    }


def aws_connection_differs(choice: str | None, region: str | None, endpoint: str) -> bool:
    """True when the widgets no longer match the connection in use."""
    conn: dict[str, Any] | None = st.session_state.get("aws_connection")
    return conn is not None and (
        conn["profile"] != aws_profile_name(choice)
        or conn["region"] != region
        or (conn["endpoint"] or "") != (endpoint or "").strip()
    )


def aws_find(
    name_contains: str, status: str | None, created_after: Any, created_before: Any, max_jobs: int
) -> None:
    """List the jobs matching the filters; preselect all of them and their defined metrics."""

    state = st.session_state
    conn = state.aws_connection
    with st.spinner("Listing training jobs…"):
        found = training_jobs.find_training_jobs(
            aws_session(conn["profile"], conn["region"]),
            name_contains=name_contains.strip() or None,
            status=status,
            created_after=created_after,
            # the chosen day is included: "before" is the start of the next day
            created_before=created_before + dt.timedelta(days=1) if created_before else None,
            max_jobs=int(max_jobs),
            endpoint_url=conn["endpoint"],
        )
    state.aws_found = found
    state.aws_found_warnings = list(found.attrs.get("warnings", []))
    _aws_set("aws_jobs_chosen", list(found["job"]))
    _aws_set("aws_metric_names", training_jobs.defined_metric_names(found))


@st.cache_data(ttl="10m", show_spinner=False, max_entries=50)
def aws_load(
    profile: str | None,
    region: str,
    endpoint: str | None,
    account: str,
    job_names: tuple[str, ...],
    metric_names: tuple[str, ...] | None,
    include_logs: bool,
    instance_metrics: bool,
) -> live.LiveLoad:
    """Cached :func:`lib.cloudwatch.load_jobs_for_charts` (10 min), with a progress bar while it runs.

    ``account`` is part of the key so other credentials behind the same profile never see these
    results. The bar is created inside the function so cache hits replay it (and its removal) safely.
    """

    bar = st.progress(0.0, text="Connecting…")

    def report(fraction: float, text: str) -> None:
        bar.progress(fraction, text=md_escape(text))

    try:
        return live.load_jobs_for_charts(
            aws_session(profile, region),
            job_names,
            metric_names=metric_names,
            include_logs=include_logs,
            instance_metrics=instance_metrics,
            endpoint_url=endpoint,
            progress=report,
        )
    finally:
        bar.empty()


def aws_load_into_session(
    job_names: list[str], metric_names: list[str], include_logs: bool, instance_metrics: bool
) -> None:
    """Load the chosen jobs (cached) and merge them into the session like an upload; then redraw.

    ``metric_names`` equal to the jobs' own definitions (or empty) means "each job's own".
    """

    state = st.session_state
    conn = state.aws_connection
    defined = (
        training_jobs.defined_metric_names(state.aws_found) if state.get("aws_found") is not None else []
    )
    names = None if not metric_names or set(metric_names) == set(defined) else tuple(metric_names)
    result = aws_load(
        conn["profile"],
        conn["region"],
        conn["endpoint"],
        conn["account"],
        tuple(sorted(job_names)),
        names,
        include_logs,
        instance_metrics,
    )
    summary: dict[str, Any] = {
        "jobs": len(result.jobs),
        "points": len(result.metrics),
        "warnings": list(result.warnings),
        "notes": list(result.notes),
        "account": conn["account"],
        "region": conn["region"],
        "digest": None,
    }
    if result.metrics.empty:
        state.aws_last_load = summary
        return
    digest = hashlib.sha256(
        repr((conn["account"], conn["region"], conn["endpoint"], sorted(job_names))).encode()
        + pd.util.hash_pandas_object(result.metrics[["job", "metric", "timestamp", "value"]], index=False)
        .to_numpy()
        .tobytes()
    ).hexdigest()
    summary["digest"] = digest
    if not state.is_demo:
        state.metrics = live.without_live_rows(state.metrics, result.jobs["job"])
    merge_into_session([result.metrics], [result.jobs])
    if digest not in {src["_sha"] for src in state.sources}:
        warned = [f"{len(result.warnings)} warning(s) while loading."] if result.warnings else []
        state.sources.append(
            source_entry(
                f"aws:{digest[:16]}",
                digest,
                f"AWS {conn['region']} · account {conn['account']}",
                "SageMaker + CloudWatch" + (" + logs" if include_logs else ""),
                result.metrics,
                [*result.notes, *warned],
            )
        )
    state.aws_last_load = summary
    st.rerun()  # redraw the sidebar summary with the new data


def aws_show_warnings(warnings: list[Any]) -> None:
    """One st.warning per :class:`~lib.cloudwatch.LoadWarning`, naming the jobs it concerns."""
    for warning in warnings:
        jobs = ", ".join(warning.jobs[:8]) + (" …" if len(warning.jobs) > 8 else "")
        st.warning(
            md_escape(warning.message) + (f"  \nJobs: {md_escape(jobs)}" if jobs else ""),
            icon=":material/warning:",
        )
        if warning.hint:
            st.caption(md_escape(warning.hint))


def aws_load_report() -> None:
    """What the last load brought in (kept across reruns), its notes and warnings."""
    last = st.session_state.get("aws_last_load")
    if not last:
        return
    if last["digest"] is None:
        st.warning(
            "No data points were found for the chosen jobs: nothing was loaded. "
            "Check the metric names, or include the training logs.",
            icon=":material/search_off:",
        )
    elif all(src["_sha"] != last["digest"] for src in st.session_state.sources):
        return  # the user cleared the loaded data since
    else:
        partly = " (partly: see the warnings below)" if last["warnings"] else ""
        st.success(
            f"Loaded {last['points']:,} points from {last['jobs']} training job"
            f"{'s' if last['jobs'] != 1 else ''} (account {last['account']}, {last['region']}){partly}.",
            icon=":material/cloud_done:",
        )
        st.page_link(
            "pages/1_Training_runs.py", label="See them on Training runs", icon=":material/show_chart:"
        )
    for note in last["notes"]:  # our own sentences (no user text)
        st.caption(note)
    aws_show_warnings(last["warnings"])


def aws_jobs_columns() -> dict[str, Any]:
    """Column labels and formats for the "found jobs" table (``live.JOB_LIST_COLUMNS``)."""
    col = st.column_config
    when = "YYYY-MM-DD HH:mm"
    return {
        "job": col.TextColumn("Training job", pinned=True),
        "status": col.TextColumn("Status"),
        "created": col.DatetimeColumn("Created (UTC)", format=when),
        "start": col.DatetimeColumn("Training start (UTC)", format=when),
        "end": col.DatetimeColumn("Training end (UTC)", format=when),
        "training_seconds": col.NumberColumn("Duration (s)", format="%.0f", help="Training time"),
        "instance_type": col.TextColumn("Instance"),
        "instance_count": col.NumberColumn("Count", format="%d"),
    }
