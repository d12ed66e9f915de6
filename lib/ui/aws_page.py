"""The Load from AWS page: connect with a profile, find jobs, load them (cached)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

import pandas as pd
import streamlit as st

from lib.errors import AppError, DataSourceError, InputError
from lib.sources.aws import capture_s3, endpoints, monitoring, training_jobs
from lib.sources.aws import load as live
from lib.sources.aws import session as aws
from lib.ui import auth, monitor_page
from lib.ui.frame import friendly_errors, md_escape, merge_into_session, source_entry

if TYPE_CHECKING:  # only the type: sessions are made by lib.sources.aws.session
    import boto3

AWS_DEFAULT_CHAIN: Final = "(default credential chain)"
ALL_VARIANTS: Final = "(every variant)"
RANGE_LAST: Final = "Last hours"
RANGE_BETWEEN: Final = "Start and end"
BASELINE_FROM_SCHEDULE: Final = "Monitoring schedule"
BASELINE_FROM_URI: Final = "statistics.json S3 URI"

#: Overall time budget of each AWS action on this page (seconds), stated next to its button and kept
#: by a :class:`lib.sources.aws.session.Deadline` over all of the action's calls.
ACTION_SECONDS: Final = {
    "Connect": 20.0,
    "Find jobs": 60.0,
    "Load": 300.0,
    "List endpoints": 60.0,
    "Load capture": capture_s3.DEADLINE,
    "List schedules": 60.0,
    "Load baseline": 120.0,
    "Show monitoring history": 120.0,
    "Load latency": 120.0,  # the Timing & cost page's live latency load
}
#: What a team deployment says for every network failure (no port-scan oracle in the errors).
TEAM_NETWORK_MESSAGE: Final = (
    "No usable answer from AWS: it could not be reached, did not answer in time, or sent something "
    "that is not an AWS answer."
)
#: Longest wait for one AWS answer in an action: Stop takes effect at the next call, so within this.
STOP_WITHIN: Final = 15.0
_LOG = logging.getLogger(__name__)


def aws_action_caption(action: str) -> str:
    """The deadline of ``action`` in words, for the caption next to its button."""
    return f"{action} gives up after {ACTION_SECONDS[action]:g} s; **Stop** ends it sooner."


@contextmanager
def aws_action(action: str) -> Iterator[aws.Deadline]:
    """Run one AWS action under its deadline, with a status line and a Stop button while it runs.

    Yields the :class:`~lib.sources.aws.session.Deadline` to bind to the action's session. The
    status line and the Stop button are in the sidebar while the action runs; ``aws_running``
    names it; a run that ends without clearing it was stopped (the Stop button, or any other
    click, reruns the page, and Streamlit ends this run at its next
    element call, e.g. the status line updated between AWS calls): the next run says so
    (:func:`aws_stopped_notice`), nothing from the action was stored, and ``st.cache_data`` keeps
    nothing from a function that did not return. In team mode every network failure becomes
    :data:`TEAM_NETWORK_MESSAGE` (the details go to the server log).
    """
    state = st.session_state
    seconds = ACTION_SECONDS[action]
    # In the sidebar: a slot in the page itself would shift every element after it for one run,
    # and Streamlit would then redraw the tabs below as new ones (losing the chosen tab).
    box = st.sidebar.empty()
    with box.container():
        left, right = st.columns([3, 2], vertical_alignment="center")
        status = left.empty()
        status.caption(
            f"{action}: running, gives up after {seconds:g} s. Stop ends it at the next AWS call "
            f"(within {STOP_WITHIN:g} s); nothing from it is kept."
        )
        # no help= tooltip: a button with one is drawn twice in the DOM, which breaks browser tests
        right.button("Stop", key="aws_stop", icon=":material/stop_circle:")

    def tick(deadline: aws.Deadline) -> None:
        status.caption(f"{action}: {deadline.elapsed():.0f} s of at most {seconds:g} s.")

    state.aws_running = action
    try:
        yield aws.Deadline(seconds, action, on_check=tick, max_wait=STOP_WITHIN)
    except aws.AnswerError as err:
        state.aws_running = None
        if auth.team_settings().team_mode:
            _LOG.warning("%s: %s", action, err)
            raise DataSourceError(
                TEAM_NETWORK_MESSAGE, hint="Retry later; whoever runs this Driftwatch can see the details."
            ) from err
        raise
    except AppError:
        state.aws_running = None
        raise
    else:
        state.aws_running = None
    finally:
        box.empty()


def aws_stopped_notice() -> None:
    """Say that the last AWS action was stopped before it finished (and that nothing was kept)."""
    stopped = st.session_state.get("aws_running")
    if stopped:
        st.session_state.aws_running = None
        st.warning(
            f"{stopped} was stopped before it finished: nothing from it was kept.",
            icon=":material/stop_circle:",
        )


def aws_endpoint_input() -> str:
    """The endpoint URL widget: free text, or in team mode the allow-list (or nothing but AWS)."""
    settings = auth.team_settings()
    if not settings.team_mode:
        return st.text_input(
            "Endpoint URL (optional)",
            key="aws_endpoint",
            on_change=aws_remember,
            args=("aws_endpoint",),
            placeholder="empty = AWS itself",
            help="Only for LocalStack or a local test server, e.g. http://localhost:4566. "
            "Preset from AWS_ENDPOINT_URL.",
        )
    options = ["", *settings.endpoint_allow_list]
    _aws_valid_choice("aws_endpoint", options)
    if len(options) == 1:
        st.caption("Endpoint: AWS itself (set by this team deployment).")
        return ""
    return str(
        st.selectbox(
            "Endpoint",
            options,
            key="aws_endpoint",
            on_change=aws_remember,
            args=("aws_endpoint",),
            format_func=lambda url: url or "AWS itself",
            help="The endpoints this team deployment allows.",
        )
    )


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
        "aws_ep_name": lambda: None,
        "aws_ep_variant": lambda: ALL_VARIANTS,
        "aws_ep_range": lambda: RANGE_LAST,
        "aws_ep_hours": lambda: 24,
        "aws_ep_start": str,
        "aws_ep_end": str,
        "aws_ep_max_records": lambda: None,
        "aws_ep_baseline_from": lambda: BASELINE_FROM_SCHEDULE,
        "aws_ep_schedule": lambda: None,
        "aws_ep_baseline_uri": str,
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


def aws_session(
    profile: str | None, region: str | None, deadline: aws.Deadline | None = None
) -> boto3.Session:
    """A new boto3 session for (profile, region) on every call: never cached, never shared.

    With ``deadline`` (from :func:`aws_action`) every client made from it keeps to that time.

    boto3 Sessions are not thread-safe, and Streamlit runs each browser session's script in a thread
    of its own: a Session kept in ``st.cache_resource`` would be used by all of them at once. So each
    user action (connect, find, a load that misses ``st.cache_data``) makes its own Session, and the
    library makes its clients from it in that thread. What is worth keeping (the loaded frames) is
    cached by ``st.cache_data`` in :func:`aws_load` and ``timing_page.timing_load_latency``.
    """

    return aws.make_session(profile, region, deadline=deadline)


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
    state.aws_endpoints = None  # listed with the old settings; loaded capture/baseline are kept
    profile = aws_profile_name(choice)
    endpoint_url = aws.check_endpoint_url(endpoint)
    auth.check_endpoint_allowed(endpoint_url, auth.team_settings())
    with aws_action("Connect") as deadline, st.spinner("Connecting…"):
        session = aws_session(profile, region, deadline)
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
    with aws_action("Find jobs") as deadline, st.spinner("Listing training jobs…"):
        found = training_jobs.find_training_jobs(
            aws_session(conn["profile"], conn["region"], deadline),
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
    _deadline: aws.Deadline | None = None,
) -> live.LiveLoad:
    """Cached :func:`lib.sources.aws.load.load_jobs_for_charts` (10 min), with a progress bar while it runs.

    ``account`` is part of the key so other credentials behind the same profile never see these
    results. The bar is created inside the function so cache hits replay it (and its removal) safely.
    A partial result (a failed call, an incomplete series) is raised as :class:`PartialLoad`: shown,
    never served from the cache later as if complete. ``_deadline`` is not part of the key.
    """

    bar = st.progress(0.0, text="Connecting…")
    shown: list[tuple[float, str]] = [(0.0, "Connecting…")]

    def report(fraction: float, text: str) -> None:
        shown[0] = (fraction, text)
        bar.progress(fraction, text=md_escape(text))

    if _deadline is not None:
        _deadline.on_check = _bar_clock(bar, shown)
    try:
        result = live.load_jobs_for_charts(
            aws_session(profile, region, _deadline),
            job_names,
            metric_names=metric_names,
            include_logs=include_logs,
            instance_metrics=instance_metrics,
            endpoint_url=endpoint,
            progress=report,
        )
    finally:
        bar.empty()
    if result.partial:
        raise PartialLoad(result)
    return result


def _bar_clock(bar: Any, shown: list[tuple[float, str]]) -> Callable[[aws.Deadline], None]:
    """A deadline's ``on_check`` that adds the time used to a cached function's own progress bar.

    Inside ``st.cache_data`` only elements made by the function itself may be updated (they are
    replayed on a cache hit); the status line of :func:`aws_action` is outside, so it is not used.
    """

    def tick(deadline: aws.Deadline) -> None:
        fraction, text = shown[0]
        bar.progress(
            fraction,
            text=f"{md_escape(text)} · {deadline.elapsed():.0f} s of at most {deadline.seconds:g} s",
        )

    return tick


class PartialLoad(Exception):  # noqa: N818 - a signal, not an error shown to anyone
    """Raised by :func:`aws_load` so a partial load is shown but never cached."""

    def __init__(self, result: live.LiveLoad) -> None:
        super().__init__("partial load")
        self.result = result


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
    try:
        with aws_action("Load") as deadline:
            result = aws_load(
                conn["profile"],
                conn["region"],
                conn["endpoint"],
                conn["account"],
                tuple(sorted(job_names)),
                names,
                include_logs,
                instance_metrics,
                deadline,
            )
    except PartialLoad as partial:
        state.aws_running = None
        result = partial.result
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
    """One st.warning per :class:`~lib.sources.aws.common.LoadWarning`, naming the jobs it concerns."""
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


# ---------------------------------------------------------------- endpoint drift (issue 13)


class PartialCapture(Exception):  # noqa: N818 - a signal, not an error shown to anyone
    """Raised by :func:`aws_capture_cached` so a partial capture is returned but never cached."""

    def __init__(self, frame: pd.DataFrame) -> None:
        super().__init__("partial capture")
        self.frame = frame


def aws_utc(text: str, name: str) -> pd.Timestamp:
    """A UTC timestamp from the text of a start/end box (naive means UTC)."""
    if not text or not text.strip():
        raise InputError(f"{name} is empty.", hint="E.g. 2024-05-06 00:00 (UTC), or use the last hours.")
    try:
        stamp = pd.Timestamp(text.strip())
    except (ValueError, TypeError) as err:
        raise InputError(
            f"{name}: cannot read {text.strip()!r} as a date/time.", hint="E.g. 2024-05-06 13:00."
        ) from err
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def aws_capture_range(
    mode: str, hours: float | None, start: str, end: str, now: pd.Timestamp | None = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` of a capture load: the last ``hours`` (ending at the next whole minute, so
    loads within the same minute share the cache), or the typed start and end."""
    if mode == RANGE_LAST:
        if not hours or hours <= 0:
            raise InputError("Give a number of hours (at least 1).")
        t1 = (now or pd.Timestamp.now(tz="UTC")).floor("min") + pd.Timedelta(minutes=1)
        return t1 - pd.Timedelta(hours=float(hours)), t1
    t0, t1 = aws_utc(start, "Start"), aws_utc(end, "End")
    if t1 <= t0:
        raise InputError(f"End ({t1:%Y-%m-%d %H:%M}) must be after start ({t0:%Y-%m-%d %H:%M}).")
    return t0, t1


def aws_list_endpoints() -> None:
    """List the region's SageMaker endpoints with their data capture settings."""
    state = st.session_state
    conn = state.aws_connection
    with aws_action("List endpoints") as deadline, st.spinner("Listing endpoints…"):
        listed = endpoints.list_endpoints(
            aws_session(conn["profile"], conn["region"], deadline), endpoint_url=conn["endpoint"]
        )
    state.aws_endpoints = listed
    state.aws_endpoints_warnings = list(listed.attrs.get("warnings", []))
    capturing = listed.loc[listed["capture_enabled"], "endpoint"].tolist()
    if state.aws_form.get("aws_ep_name") not in set(listed["endpoint"]):
        _aws_set("aws_ep_name", (capturing or list(listed["endpoint"]) or [None])[0])


def aws_endpoint_columns() -> dict[str, Any]:
    """Column labels of the endpoints table (``endpoints.ENDPOINT_COLUMNS``)."""
    col = st.column_config
    when = "YYYY-MM-DD HH:mm"
    return {
        "endpoint": col.TextColumn("Endpoint", pinned=True),
        "status": col.TextColumn("Status"),
        "variants": col.TextColumn("Variants"),
        "capture_enabled": col.CheckboxColumn("Data capture"),
        "capture_destination": col.TextColumn("Capture destination"),
        "capture_options": col.TextColumn("Captures"),
        "sampling_percentage": col.NumberColumn("Sampling %", format="%.0f"),
        "created": col.DatetimeColumn("Created (UTC)", format=when),
        "last_modified": col.DatetimeColumn("Modified (UTC)", format=when),
    }


@st.cache_data(ttl="10m", show_spinner=False, max_entries=20)
def aws_capture_cached(
    profile: str | None,
    region: str,
    endpoint_url: str | None,
    account: str,
    endpoint: str,
    variant: str | None,
    start: str,
    end: str,
    max_records: int | None,
    feature_names: tuple[str, ...] | None,
    _deadline: aws.Deadline | None = None,
) -> pd.DataFrame:
    """Cached :func:`lib.sources.aws.capture_s3.load_endpoint_capture` (10 min), with a progress bar.

    A partial result (``attrs["partial"]``: some listings or objects failed, or the deadline passed)
    is raised as :class:`PartialCapture`, so it is shown but never served from the cache later as if
    it were complete.
    """
    bar = st.progress(0.0, text="Listing capture…")

    shown: list[tuple[float, str]] = [(0.0, "Listing capture…")]

    def report(done: int, total: int, text: str) -> None:
        shown[0] = (min(1.0, done / total) if total else 0.0, text)
        bar.progress(shown[0][0], text=md_escape(text))

    if _deadline is not None:
        _deadline.on_check = _bar_clock(bar, shown)
    try:
        frame = capture_s3.load_endpoint_capture(
            aws_session(profile, region, _deadline),
            endpoint,
            start,
            end,
            variant=variant,
            max_records=max_records,
            progress=report,
            feature_names=list(feature_names) if feature_names else None,
            endpoint_url=endpoint_url,
        )
    finally:
        bar.empty()
    if frame.attrs.get("partial"):
        raise PartialCapture(frame)
    return frame


def aws_load_capture(
    endpoint: str, variant: str | None, start: pd.Timestamp, end: pd.Timestamp, max_records: int | None
) -> None:
    """Load an endpoint's capture (cached unless partial); keep it in ``aws_ep_capture`` on success.

    Named after the loaded baseline's features when there is one (Model Monitor's convention).
    On an error the capture loaded before is kept.
    """
    state = st.session_state
    conn = state.aws_connection
    baseline = state.get("aws_ep_baseline")
    names = tuple(baseline.feature_names) if baseline is not None else None
    try:
        with aws_action("Load capture") as deadline:
            frame = aws_capture_cached(
                conn["profile"],
                conn["region"],
                conn["endpoint"],
                conn["account"],
                endpoint,
                variant,
                start.isoformat(),
                end.isoformat(),
                int(max_records) if max_records else None,
                names,
                deadline,
            )
    except PartialCapture as partial:
        state.aws_running = None
        frame = partial.frame
    where = f"{endpoint}/{variant}" if variant else endpoint
    state.aws_ep_capture = frame
    state.aws_ep_capture_label = f"{where}, {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"


def aws_capture_report() -> None:
    """What the last capture load brought: records, bad records, notes and warnings."""
    state = st.session_state
    frame = state.get("aws_ep_capture")
    if frame is None:
        return
    attrs = frame.attrs
    bad = int(attrs.get("n_bad", 0))
    outside = int(attrs.get("n_outside", 0))
    st.success(
        f"Capture of {md_escape(state.aws_ep_capture_label)}: {len(frame):,} records "
        f"({int(attrs.get('n_records', len(frame))):,} read from {int(attrs.get('n_objects', 0)):,} "
        f"object(s), {bad:,} bad record{'s' if bad != 1 else ''}"
        f"{f', {outside:,} outside the range' if outside else ''}).",
        icon=":material/cloud_done:",
    )
    if attrs.get("partial"):
        st.warning("Partial result: some capture could not be read (see below). It is not cached.")
    for warning in attrs.get("warnings") or ():
        st.warning(md_escape(warning), icon=":material/warning:")
    for note in attrs.get("notes") or ():
        st.caption(md_escape(note))


def aws_list_schedules(endpoint: str) -> None:
    """The endpoint's Model Monitor schedules, remembered with the endpoint they belong to."""
    state = st.session_state
    conn = state.aws_connection
    with aws_action("List schedules") as deadline, st.spinner("Listing monitoring schedules…"):
        frame = monitoring.list_monitoring_schedules(
            aws_session(conn["profile"], conn["region"], deadline), endpoint, endpoint_url=conn["endpoint"]
        )
    state.aws_ep_schedules = {"endpoint": endpoint, "frame": frame}
    if len(frame) and state.aws_form.get("aws_ep_schedule") not in set(frame["schedule"]):
        _aws_set("aws_ep_schedule", str(frame["schedule"].iloc[0]))


def aws_load_baseline(target: str) -> None:
    """A baseline from a schedule name or an S3 URI; kept in ``aws_ep_baseline`` on success."""
    state = st.session_state
    conn = state.aws_connection
    with aws_action("Load baseline") as deadline, st.spinner("Reading the baseline…"):
        baseline, constraints = monitoring.load_baseline(
            aws_session(conn["profile"], conn["region"], deadline),
            target.strip(),
            endpoint_url=conn["endpoint"],
        )
    if baseline is None:
        raise InputError(
            f"{target.strip()} has a constraints.json but no statistics.json: a drift reference needs "
            "the statistics.",
            hint="Give the baseline job's statistics.json S3 URI.",
        )
    state.aws_ep_baseline = baseline
    state.aws_ep_constraints = constraints
    state.aws_ep_baseline_label = target.strip()


def aws_baseline_report() -> None:
    """The loaded baseline: where from, its features and rows."""
    state = st.session_state
    baseline = state.get("aws_ep_baseline")
    if baseline is None:
        return
    names = ", ".join(baseline.feature_names[:12]) + (" …" if len(baseline.feature_names) > 12 else "")
    rows = "" if pd.isna(baseline.item_count) else f", {int(baseline.item_count):,} rows"
    cons = " and its constraints" if state.get("aws_ep_constraints") is not None else ""
    st.success(
        f"Baseline {md_escape(state.aws_ep_baseline_label)}{cons}: {len(baseline.features)} features "
        f"({md_escape(names)}){rows}.",
        icon=":material/rule:",
    )


def aws_use_capture() -> None:
    """Button callback: the capture becomes the drift pages' current data (as on Model Monitor)."""
    state = st.session_state
    monitor_page.monitor_use_capture_for_drift(state.aws_ep_capture, state.aws_ep_capture_label)
    state.aws_ep_handed_current = state.drift_current_label


def aws_use_baseline() -> None:
    """Button callback: a sample drawn from the baseline becomes the drift reference (as on Model Monitor)."""
    state = st.session_state
    monitor_page.monitor_use_baseline_for_drift(state.aws_ep_baseline)
    state.aws_ep_handed_reference = state.drift_reference_label


def aws_handover() -> None:
    """The two hand-over buttons, what is in use, and the link to Input drift."""
    state = st.session_state
    left, right = st.columns(2)
    left.button(
        "Use capture as current data",
        key="aws_ep_use_capture",
        icon=":material/input:",
        disabled=state.get("aws_ep_capture") is None,
        on_click=aws_use_capture,
        help="The drift pages compare it with their reference.",
    )
    right.button(
        "Use baseline as reference",
        key="aws_ep_use_baseline",
        icon=":material/rule:",
        disabled=state.get("aws_ep_baseline") is None,
        on_click=aws_use_baseline,
        help="A synthetic sample drawn from the baseline statistics (as on the Model Monitor page).",
    )
    frame, baseline = state.get("aws_ep_capture"), state.get("aws_ep_baseline")
    if frame is not None and baseline is not None and not set(baseline.feature_names) & set(frame.columns):
        st.warning(
            "The capture's columns are not named after the baseline's features (it was loaded before "
            "the baseline): press **Load capture** again so the two can be compared.",
            icon=":material/sync_problem:",
        )
    current = state.get("aws_ep_handed_current")
    reference = state.get("aws_ep_handed_reference")
    in_use = [
        f"{side}: {md_escape(label)}"
        for side, label, handed in (
            ("Current data", state.get("drift_current_label"), current),
            ("Reference", state.get("drift_reference_label"), reference),
        )
        if handed is not None and label == handed
    ]
    if in_use:
        st.info("In use on the drift pages: " + "; ".join(in_use) + ".", icon=":material/compare_arrows:")
        st.page_link("pages/2_Input_drift.py", label="Open Input drift", icon=":material/compare_arrows:")


def aws_show_history(schedule: str) -> None:
    """Load the schedule's recent executions and their violations into ``aws_ep_history``."""
    state = st.session_state
    conn = state.aws_connection
    with aws_action("Show monitoring history") as deadline, st.spinner("Reading the monitoring history…"):
        frame = monitoring.monitoring_history(
            aws_session(conn["profile"], conn["region"], deadline), schedule, endpoint_url=conn["endpoint"]
        )
    state.aws_ep_history = {"schedule": schedule, "frame": frame}


def aws_history_report(schedule: str | None) -> None:
    """The monitoring history table and violations per execution as a bar chart."""
    history = st.session_state.get("aws_ep_history")
    if not history or history["schedule"] != schedule:
        return
    frame: pd.DataFrame = history["frame"]
    for warning in frame.attrs.get("warnings") or ():
        st.warning(md_escape(warning), icon=":material/warning:")
    if frame.empty:
        st.info(f"Schedule {md_escape(schedule)} has no executions yet.")
        return
    per_run = frame.groupby("execution_time")["feature_name"].count().rename("violations").reset_index()
    st.caption(f"{len(per_run)} execution(s), newest first; one row per violation.")
    st.bar_chart(per_run, x="execution_time", y="violations", height=200)
    st.dataframe(frame, hide_index=True, width="stretch")


def _aws_valid_choice(key: str, options: list[Any]) -> None:
    """Reset a kept choice that is not among the options (the first one) before its widget is drawn."""
    if st.session_state.get(key) not in options:
        _aws_set(key, options[0] if options else None)


def aws_endpoint_drift() -> None:
    """The "Endpoint drift" section: endpoints, capture, baseline, hand-over, monitoring history."""
    state = st.session_state
    st.caption(
        "Data capture of a SageMaker endpoint, read from S3, compared on the drift pages with its "
        "Model Monitor baseline (or any reference you upload there). "
        + " ".join(
            f"{a} gives up after {ACTION_SECONDS[a]:g} s."
            for a in (
                "List endpoints",
                "Load capture",
                "List schedules",
                "Load baseline",
                "Show monitoring history",
            )
        )
        + " **Stop** ends an action sooner."
    )
    if st.button(
        "List endpoints",
        icon=":material/search:",
        key="aws_ep_list_button",
    ):
        with friendly_errors(stop=False):
            aws_list_endpoints()
    listed = state.get("aws_endpoints")
    if listed is None:
        st.info("Press **List endpoints** to see this region's SageMaker endpoints.", icon=":material/info:")
        aws_capture_report()
        aws_handover()
        return
    for warning in state.get("aws_endpoints_warnings", []):
        st.warning(md_escape(warning), icon=":material/warning:")
    if listed.empty:
        st.info("No SageMaker endpoints in this region.", icon=":material/info:")
        aws_capture_report()
        aws_handover()
        return
    st.dataframe(
        listed[list(endpoints.ENDPOINT_COLUMNS)],
        width="stretch",
        hide_index=True,
        column_config=aws_endpoint_columns(),
        key="aws_ep_table",
    )

    st.markdown("**Capture**")
    names = list(listed["endpoint"])
    _aws_valid_choice("aws_ep_name", names)
    c1, c2 = st.columns(2)
    endpoint = c1.selectbox(
        "Endpoint", names, key="aws_ep_name", on_change=aws_remember, args=("aws_ep_name",)
    )
    row = listed.loc[listed["endpoint"] == endpoint].iloc[0]
    variants = [ALL_VARIANTS, *[v for v in str(row["variants"]).split(",") if v]]
    _aws_valid_choice("aws_ep_variant", variants)
    variant = c2.selectbox(
        "Variant", variants, key="aws_ep_variant", on_change=aws_remember, args=("aws_ep_variant",)
    )
    if not row["capture_enabled"]:
        st.warning(
            f"Endpoint {md_escape(endpoint)} has no data capture configured: there is nothing to load.",
            icon=":material/videocam_off:",
        )
    mode = st.radio(
        "Time range (UTC)",
        [RANGE_LAST, RANGE_BETWEEN],
        key="aws_ep_range",
        horizontal=True,
        on_change=aws_remember,
        args=("aws_ep_range",),
    )
    r1, r2, r3 = st.columns(3)
    hours: float | None = None
    start = end = ""
    if mode == RANGE_LAST:
        hours = r1.number_input(
            "Hours",
            min_value=1,
            max_value=capture_s3.MAX_HOURS,
            step=1,
            key="aws_ep_hours",
            on_change=aws_remember,
            args=("aws_ep_hours",),
        )
    else:
        start = r1.text_input(
            "Start (UTC)",
            key="aws_ep_start",
            placeholder="2024-05-06 00:00",
            on_change=aws_remember,
            args=("aws_ep_start",),
        )
        end = r2.text_input(
            "End (UTC, excluded)",
            key="aws_ep_end",
            placeholder="2024-05-07 00:00",
            on_change=aws_remember,
            args=("aws_ep_end",),
        )
    max_records = r3.number_input(
        "At most (records)",
        min_value=1,
        value=None,
        step=1000,
        key="aws_ep_max_records",
        placeholder="all",
        on_change=aws_remember,
        args=("aws_ep_max_records",),
        help="A uniform random sample of this many records; empty = all.",
    )
    if state.get("aws_ep_baseline") is None:
        st.caption("Load the baseline first to name the capture's columns after its features.")
    if st.button(
        "Load capture",
        icon=":material/cloud_download:",
        type="primary",
        key="aws_ep_load_button",
    ):
        with friendly_errors(stop=False):
            t0, t1 = aws_capture_range(mode, hours, start, end)
            aws_load_capture(endpoint, None if variant == ALL_VARIANTS else variant, t0, t1, max_records)
    aws_capture_report()

    st.markdown("**Baseline**")
    source = st.radio(
        "Baseline from",
        [BASELINE_FROM_SCHEDULE, BASELINE_FROM_URI],
        key="aws_ep_baseline_from",
        horizontal=True,
        on_change=aws_remember,
        args=("aws_ep_baseline_from",),
    )
    target: str | None = None
    schedule: str | None = None
    if source == BASELINE_FROM_SCHEDULE:
        if st.button(
            "List schedules",
            icon=":material/schedule:",
            key="aws_ep_schedules_button",
        ):
            with friendly_errors(stop=False):
                aws_list_schedules(endpoint)
        found = state.get("aws_ep_schedules")
        if found and found["endpoint"] == endpoint:
            schedules = list(found["frame"]["schedule"])
            if schedules:
                _aws_valid_choice("aws_ep_schedule", schedules)
                schedule = st.selectbox(
                    "Monitoring schedule",
                    schedules,
                    key="aws_ep_schedule",
                    on_change=aws_remember,
                    args=("aws_ep_schedule",),
                )
                target = schedule
            else:
                st.info(
                    f"Endpoint {md_escape(endpoint)} has no monitoring schedule: give the S3 URI instead."
                )
    else:
        target = st.text_input(
            "statistics.json S3 URI",
            key="aws_ep_baseline_uri",
            placeholder="s3://bucket/baseline/statistics.json",
            on_change=aws_remember,
            args=("aws_ep_baseline_uri",),
        )
    if st.button(
        "Load baseline",
        icon=":material/rule:",
        key="aws_ep_baseline_button",
        disabled=not (target or "").strip(),
    ):
        with friendly_errors(stop=False):
            aws_load_baseline(str(target))
    aws_baseline_report()

    st.markdown("**Use on the drift pages**")
    aws_handover()

    if schedule:
        st.markdown("**Monitoring history**")
        if st.button(
            "Show monitoring history",
            icon=":material/history:",
            key="aws_ep_history_button",
        ):
            with friendly_errors(stop=False):
                aws_show_history(schedule)
        aws_history_report(schedule)
