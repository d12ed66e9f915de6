"""The only lib module that imports Streamlit: page frame, shared state, caches, friendly errors.

Every page starts with :func:`setup_page`. The app uses Streamlit's file-based multipage mode
throughout (``app.py`` + ``pages/``, no ``st.navigation``), so a page opened cold by its URL runs
alone and still gets the same state defaults and the same sidebar as everywhere else.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
import streamlit as st

from lib import demo, export
from lib.analysis import monitor_checks, pricing
from lib.demo import latency as demo_latency_data
from lib.demo import monitor as demo_monitor
from lib.errors import AppError
from lib.sources import capture
from lib.sources import latency as latency_files
from lib.sources.aws import endpoint_latency, training_jobs
from lib.sources.aws import load as live
from lib.sources.aws import session as aws

ICON: Final = Path(__file__).resolve().parents[1] / "assets" / "driftwatch.png"


@dataclass(frozen=True)
class PageLink:
    """One entry of the sidebar navigation."""

    path: str
    label: str
    icon: str

    @property
    def url_path(self) -> str:
        """The page's URL path in file-based multipage mode: the file stem without its number prefix."""
        if self.path == "app.py":
            return ""
        return re.sub(r"^\d+_", "", self.path.rsplit("/", 1)[-1].removesuffix(".py"))


PAGES: Final = (
    PageLink("app.py", "Data", ":material/folder_open:"),
    PageLink("pages/6_Load_from_AWS.py", "Load from AWS", ":material/cloud_download:"),
    PageLink("pages/1_Training_runs.py", "Training runs", ":material/show_chart:"),
    PageLink("pages/2_Input_drift.py", "Input drift", ":material/compare_arrows:"),
    PageLink("pages/3_Prediction_drift.py", "Prediction drift", ":material/insights:"),
    PageLink("pages/4_Timing_and_cost.py", "Timing & cost", ":material/timer:"),
    PageLink("pages/5_Model_Monitor.py", "Model Monitor", ":material/monitor_heart:"),
)


@st.cache_data(show_spinner=False)
def demo_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The embedded synthetic demo (metrics, jobs); built once per server process."""
    return demo.demo_metrics(), demo.demo_jobs()


# Session-state keys shared by every page (page-only keys carry a page prefix, e.g. ``runs_metric``).
STATE_DEFAULTS: Final[dict[str, Callable[[], Any]]] = {
    "metrics": lambda: demo_data()[0],
    "jobs": lambda: demo_data()[1],
    "is_demo": lambda: True,
    "sources": list,  # LoadedExport summaries of what the user loaded, in order
    "upload_errors": dict,  # file id -> (name, message, hint) of rejected uploads
    "loaded_ids": set,  # uploader file ids already merged (so a rerun does not merge twice)
}


def init_state() -> None:
    """Give every shared key its default, without touching values a user already has."""
    for key, make in STATE_DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = make()


def setup_page(title: str) -> None:
    """Common start of every page: config, state defaults and the shared sidebar."""
    # A local icon: an emoji or material icon here would make the browser fetch a favicon from the web.
    st.set_page_config(page_title=f"{title} · Driftwatch", page_icon=str(ICON), layout="wide")
    init_state()
    sidebar()


def sidebar() -> None:
    """Navigation and a one-glance summary of the data loaded in this browser session."""
    with st.sidebar:
        st.markdown("### :material/monitoring: Driftwatch")
        st.caption("Is my model still healthy?")
        for page in PAGES:
            st.page_link(page.path, label=page.label, icon=page.icon)
        st.divider()
        metrics: pd.DataFrame = st.session_state.metrics
        n_jobs = metrics["job"].nunique()
        if st.session_state.is_demo:
            st.info(
                f"Training metrics: **demo data** (synthetic, {n_jobs} runs). "
                "Load your own on the Data page or from AWS.",
                icon=":material/science:",
            )
        else:
            n_files = len({src["_sha"] for src in st.session_state.sources})
            st.success(
                f"{n_jobs} runs · {metrics['metric'].nunique()} metrics · {len(metrics):,} points "
                f"from {n_files} source{'s' if n_files != 1 else ''}.",
                icon=":material/database:",
            )


def show_error(err: AppError) -> None:
    """Render an expected failure as an error box plus its hint (never a traceback)."""
    st.error(err.message, icon=":material/error:")
    if err.hint:
        st.caption(err.hint)


@contextmanager
def friendly_errors(*, stop: bool = True) -> Iterator[None]:
    """Turn :class:`AppError` into an error box; with ``stop`` end this run of the page there."""
    try:
        yield
    except AppError as err:
        show_error(err)
        if stop:
            st.stop()


def kept_widget(key: str, default: Any, *, options: Sequence[Any] | None = None) -> dict[str, Any]:
    """``key``/``on_change`` for a widget whose value must survive visits to other pages.

    Streamlit drops a widget's key when its page is not run (TESTING.md pitfall 2): the value is
    copied to a plain key on change and written back before the widget is drawn again. Pass the
    result as ``**kwargs`` instead of ``value=``/``index=``/``default=`` and ``key=``. With
    ``options`` (select boxes), a remembered choice no longer offered (other data loaded since)
    falls back to ``default``; for a list (multiselect), the choices no longer offered are dropped.
    """
    kept: dict[str, Any] = st.session_state.setdefault("kept_widgets", {})
    if key not in st.session_state:
        value = kept.get(key, default)
        if options is not None:
            if isinstance(value, list):
                value = [v for v in value if v in options]
            elif value not in options:
                value = default
        st.session_state[key] = value
    return {"key": key, "on_change": _keep_widget_value, "args": (key,)}


def _keep_widget_value(key: str) -> None:
    st.session_state.kept_widgets[key] = st.session_state[key]


_MD_SPECIAL: Final = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: object) -> str:
    """Escape Markdown so user text (job names from files) is shown literally, never as markup."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def csv_download(frame: pd.DataFrame, *, file_name: str, label: str = "Download CSV", key: str) -> None:
    """A download button for ``frame`` as formula-safe CSV, built only when clicked."""
    st.download_button(
        label,
        data=lambda: export.to_csv_bytes(frame),
        file_name=file_name,
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/download:",
        help="Full data behind this view (not downsampled). Spreadsheet formulas are neutralised.",
    )


@dataclass(frozen=True)
class Download:
    """One file offered for download: built only when clicked (``data`` is a callable)."""

    label: str
    data: Callable[[], bytes | str]
    extension: str
    mime: str
    icon: str
    help: str


def download_row(items: Sequence[Download], *, base_name: str, key: str) -> None:
    """A compact row of download buttons, ``<base_name>.<extension>`` each (keys ``<key>_<ext>``)."""
    columns = st.columns([1] * len(items) + [max(1, 8 - 2 * len(items))])
    for column, item in zip(columns, items, strict=False):
        with column:
            st.download_button(
                item.label,
                data=item.data,
                file_name=f"{base_name}.{item.extension}",
                mime=item.mime,
                key=f"{key}_{item.extension}",
                on_click="ignore",
                icon=item.icon,
                help=item.help,
            )


def chart_downloads(chart: Any, *, base_name: str, key: str) -> None:
    """PNG and SVG download buttons for an Altair chart, rendered offline only when clicked."""
    png = Download(
        "PNG", lambda: export.chart_png(chart), "png", "image/png", ":material/image:",
        "The chart as shown (all series), as a PNG image.",
    )  # fmt: skip
    svg = Download(
        "SVG", lambda: export.chart_svg(chart), "svg", "image/svg+xml", ":material/draw:",
        "The chart as a scalable vector image.",
    )  # fmt: skip
    download_row([png, svg], base_name=base_name, key=key)


def formats_help() -> str:
    """One line listing the supported export formats (from the loaders' own registry)."""
    from lib.sources import FORMATS

    return "Supported: " + "; ".join(FORMATS.values()) + "."


def metric_definitions_frame() -> pd.DataFrame:
    """Starting rows for the custom metric-definitions editor (empty, typed)."""
    return pd.DataFrame({"name": pd.Series([], dtype="str"), "regex": pd.Series([], dtype="str")})


def parse_metric_definitions(frame: pd.DataFrame) -> tuple[Any, ...]:
    """Editor rows → validated ``MetricDefinition`` objects; blank rows are ignored."""
    from lib.sources.logs import MetricDefinition

    out = []
    for row in frame.itertuples(index=False):
        name, regex = (str(v).strip() if isinstance(v, str) else "" for v in (row.name, row.regex))
        if name or regex:
            out.append(MetricDefinition(name=name, regex=regex))
    return tuple(out)


def merge_into_session(metrics: list[pd.DataFrame], jobs: list[pd.DataFrame]) -> None:
    """Merge newly loaded frames into this session's data (uploads, AWS loads).

    The first real data replaces the demo; after that, new frames are added to what is loaded.
    Callers record their own ``sources`` entry.
    """
    from lib.schema import merge_jobs, merge_metrics

    state = st.session_state
    base_metrics = [] if state.is_demo else [state.metrics]
    base_jobs = [] if state.is_demo else [state.jobs]
    state.metrics = merge_metrics([*base_metrics, *metrics])
    state.jobs = merge_jobs([*base_jobs, *jobs])
    state.is_demo = False


def ingest_uploads(files: list[Any], definitions: tuple[Any, ...]) -> None:
    """Parse newly uploaded files and merge them into this session's data.

    Files already merged (or already rejected) are skipped, so reruns do no work twice. A file that
    fails leaves everything loaded so far untouched; the first good file replaces the demo data.
    """
    from lib.sources import load_export

    state = st.session_state
    new = [f for f in files if f.file_id not in state.loaded_ids and f.file_id not in state.upload_errors]
    if not new:
        return
    loaded = []
    seen = {src["_sha"]: src for src in state.sources}
    progress = st.progress(0.0, text="Reading files…") if len(new) > 1 else None
    for i, upload in enumerate(new):
        digest = hashlib.sha256(upload.getvalue()).hexdigest()
        if digest in seen:  # the same content again (e.g. re-dropped): nothing new to merge
            state.loaded_ids.add(upload.file_id)
            state.sources.append({**seen[digest], "_id": upload.file_id, "notes": "Same content as before."})
            continue
        with st.spinner(f"Reading {upload.name}…"):
            try:
                result = load_export(upload, upload.name, metric_definitions=definitions)
                loaded.append((upload.file_id, digest, result))
            except AppError as err:
                state.upload_errors[upload.file_id] = (upload.name, err.message, err.hint)
        if progress is not None:
            progress.progress((i + 1) / len(new), text=f"Read {i + 1} of {len(new)} files")
    if progress is not None:
        progress.empty()
    if not loaded:
        if any(f.file_id in state.loaded_ids for f in new):
            st.rerun()
        return
    merge_into_session([item.metrics for _, _, item in loaded], [item.jobs for _, _, item in loaded])
    for file_id, digest, item in loaded:
        state.loaded_ids.add(file_id)
        state.sources.append(
            source_entry(
                file_id, digest, item.name, item.format_label, item.metrics, item.notes, n_jobs=len(item.jobs)
            )
        )
    st.rerun()  # redraw the sidebar summary with the new data


def source_entry(
    source_id: str,
    digest: str,
    name: str,
    read_as: str,
    metrics: pd.DataFrame,
    notes: Sequence[str],
    *,
    n_jobs: int = 0,
) -> dict[str, Any]:
    """One row of the "Loaded files" table (``_id``/``_sha`` are hidden; ``_sha`` spots repeats).

    ``n_jobs`` counts runs for sources with job metadata but no metric rows (summary CSVs).
    """
    return {
        "_id": source_id,
        "_sha": digest,
        "file": name,
        "read as": read_as,
        "runs": int(metrics["job"].nunique()) if len(metrics) else n_jobs,
        "metrics": ", ".join(sorted(metrics["metric"].unique())[:6]),
        "points": len(metrics),
        "notes": " ".join(notes),
    }


def upload_report(files: list[Any]) -> None:
    """Say, per file in the uploader, what it was read as, or why it was rejected."""
    state = st.session_state
    read = {src["_id"]: src for src in state.sources}
    for upload in files:
        if upload.file_id in state.upload_errors:
            _, message, hint = state.upload_errors[upload.file_id]
            show_error(AppError(message, hint))
        elif upload.file_id in read:
            src = read[upload.file_id]
            st.success(
                f"{md_escape(src['file'])}: read as **{src['read as']}**, {src['points']:,} points "
                f"from {src['runs']} run{'s' if src['runs'] != 1 else ''}.",
                icon=":material/check_circle:",
            )
            if src["notes"]:
                st.caption(md_escape(src["notes"]))


def uploader_key() -> str:
    """Key of the file uploader; a new one after "clear" so old files are not read again."""
    return f"upload_files_{st.session_state.get('uploader_generation', 0)}"


def loaded_sources_summary() -> None:
    """Table of everything loaded in this session, plus a way back to the demo."""
    state = st.session_state
    if state.is_demo:
        st.subheader("Demo runs")
        st.dataframe(state.jobs, width="stretch", hide_index=True)
        return
    st.subheader("Loaded files")
    st.caption("Data stays loaded when you remove a file from the uploader; clear it all here.")
    st.dataframe(
        pd.DataFrame(state.sources).drop_duplicates("_sha").drop(columns=["_id", "_sha"]),
        width="stretch",
        hide_index=True,
    )
    csv_download(
        state.metrics, file_name="driftwatch-metrics.csv", label="Download all metrics", key="all_csv"
    )
    if st.button("Clear loaded data and show the demo again", icon=":material/restart_alt:"):
        for key in ("metrics", "jobs", "is_demo", "sources", "upload_errors", "loaded_ids"):
            del state[key]
        state.uploader_generation = state.get("uploader_generation", 0) + 1
        st.rerun()


def runs_table_columns(metric: str) -> dict[str, Any]:
    """Column labels, formats and tooltips for the runs table (``lib.runs.RUNS_TABLE_COLUMNS``)."""
    col = st.column_config
    number = "%.4f"
    return {
        "job": col.TextColumn("Run", help="Training-job name", pinned=True),
        "first": col.NumberColumn("First", format=number, help=f"First {metric} value of the run"),
        "best": col.NumberColumn("Best", format=number, help=f"Best {metric} (max, or min for losses)"),
        "last": col.NumberColumn("Last", format=number, help=f"Final {metric} value"),
        "min": col.NumberColumn("Min", format=number),
        "max": col.NumberColumn("Max", format=number),
        "epoch_at_best": col.NumberColumn("Epoch at best", format="%d"),
        "start": col.DatetimeColumn("Start (UTC)", format="YYYY-MM-DD HH:mm"),
        "end": col.DatetimeColumn("End (UTC)", format="YYYY-MM-DD HH:mm"),
        "duration_s": col.NumberColumn("Duration (s)", format="%.0f", help="Training time of the run"),
        "gap_s": col.NumberColumn("Gap (s)", format="%.0f", help="Time since the previous run ended"),
        "val_minus_train": col.NumberColumn(
            "Val − train", format="%+.4f", help="Last validation value minus last training value"
        ),
        "instance_type": col.TextColumn("Instance"),
        "n_points": col.NumberColumn("Points", format="%d"),
    }


# ---- aws (begin)
# The "Load from AWS" page: connect, find jobs, load them. Credentials come only from boto3's standard
# chain; session state holds the profile *name*, region, endpoint URL and the identity (account, ARN),
# never a key. Page-only keys start with ``aws_``; widget values are mirrored in the plain key
# ``aws_form`` so they survive a visit to another page (TESTING.md pitfall 2).

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
    import os

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


@st.cache_resource(ttl="1h", show_spinner=False)
def aws_session(profile: str | None, region: str | None) -> Any:
    """One boto3 session per (profile, region), shared by the cached loaders (clients are made from it)."""

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
    import datetime as dt

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
) -> Any:
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


# ---- aws (end)


# ---- timing & monitor (begin)
# The "Timing & cost" and "Model Monitor" pages. Page-only keys start with ``timing_`` / ``monitor_``;
# what must survive a visit to another page lives in plain keys (TESTING.md pitfall 2): the edited
# price table (``timing_prices``), the latency data (``timing_latency`` + ``_label``) and the last good
# Model Monitor upload of each slot (``monitor_files``).


def timing_state() -> None:
    """Defaults of the timing page's own keys (demo latency until something is loaded)."""

    state = st.session_state
    if "timing_latency" not in state:
        state.timing_latency = demo_latency_data.demo_latency()
        state.timing_latency_label = "demo latency (synthetic)"
    state.setdefault("timing_prices", None)
    state.setdefault("timing_prices_generation", 0)
    state.setdefault("timing_latency_errors", {})
    state.setdefault("timing_latency_loaded", set())


def timing_price_base(jobs: pd.DataFrame) -> pd.DataFrame:
    """The price table shown in the editor: the user's edited table (or the default) plus rows for
    instance types of the loaded runs that it lacks."""

    return pricing.price_table_for(jobs, st.session_state.get("timing_prices"))


def timing_prices_key() -> str:
    """Key of the price editor; a new one after each committed edit, so it restarts from the saved table."""
    return f"timing_prices_editor_{st.session_state.get('timing_prices_generation', 0)}"


def apply_editor_changes(frame: pd.DataFrame, changes: dict[str, Any]) -> pd.DataFrame:
    """Apply a ``st.data_editor`` change set (``edited_rows``, ``added_rows``, ``deleted_rows``)."""
    out = frame.copy().reset_index(drop=True)
    for pos, values in (changes.get("edited_rows") or {}).items():
        for col, value in values.items():
            if col in out.columns:
                out.loc[int(pos), col] = value
    added = [
        row for row in (changes.get("added_rows") or []) if any(v not in (None, "") for v in row.values())
    ]
    if added:
        out = pd.concat([out, pd.DataFrame(added)], ignore_index=True)[list(frame.columns)]
    deleted = [int(i) for i in changes.get("deleted_rows") or []]
    if deleted:
        out = out.drop(index=[i for i in deleted if i in out.index]).reset_index(drop=True)
    out["usd_per_hour"] = pd.to_numeric(out["usd_per_hour"], errors="coerce").astype("float64")
    return out


def timing_commit_prices() -> None:
    """``on_change`` of the price editor: save the edited table in the plain key ``timing_prices``."""
    state = st.session_state
    key = timing_prices_key()
    base = timing_price_base(state.jobs)
    state.timing_prices = apply_editor_changes(base, dict(state.get(key) or {}))
    state.timing_prices_generation = state.get("timing_prices_generation", 0) + 1


def timing_reset_prices() -> None:
    """Back to the built-in price table."""
    st.session_state.timing_prices = None
    st.session_state.timing_prices_generation = st.session_state.get("timing_prices_generation", 0) + 1


def timing_price_columns() -> dict[str, Any]:
    """Column labels, formats and tooltips of the price editor."""
    col = st.column_config
    return {
        "instance_type": col.TextColumn("Instance type", help="e.g. ml.g5.2xlarge", required=True),
        "usd_per_hour": col.NumberColumn(
            "USD per hour", min_value=0.0, format="$%.4f", help="On-demand price of one instance for one hour"
        ),
        "region": col.TextColumn("Region", help="Where the price applies"),
        "source": col.TextColumn("Source", help="Where the price comes from"),
    }


def timing_runs_columns() -> dict[str, Any]:
    """Column labels and formats of the per-run timing & cost table (``timing.runs_cost_table``)."""
    col = st.column_config
    return {
        "job": col.TextColumn("Run", pinned=True),
        "start": col.DatetimeColumn("Start (UTC)", format="YYYY-MM-DD HH:mm"),
        "instance_type": col.TextColumn("Instance"),
        "instance_count": col.NumberColumn("Count", format="%d"),
        "spot": col.CheckboxColumn("Spot"),
        "training_s": col.NumberColumn(
            "Training (s)", help="TrainingTimeInSeconds (or end − start)", format="%.0f"
        ),
        "billable_s": col.NumberColumn(
            "Billable (s)", help="BillableTimeInSeconds (spot: less)", format="%.0f"
        ),
        "n_epochs": col.NumberColumn("Epochs", format="%d"),
        "seconds_per_epoch": col.NumberColumn("s / epoch", format="%.1f"),
        "epoch_source": col.TextColumn("Epochs from"),
        "usd_per_hour": col.NumberColumn("$/h", format="$%.4f"),
        "cost_usd": col.NumberColumn("Cost", format="$%.2f", help="billable s ÷ 3600 × count × $/h"),
        "on_demand_cost_usd": col.NumberColumn("On-demand cost", format="$%.2f"),
        "spot_savings_usd": col.NumberColumn("Spot savings", format="$%.2f"),
        "spot_savings_pct": col.NumberColumn("Savings %", format="%.0f%%"),
        "arithmetic": col.TextColumn("Cost arithmetic", width="large"),
        **{
            c: col.NumberColumn(c.removeprefix("phase.").removesuffix("_s") + " (s)", format="%.0f")
            for c in st.session_state.jobs.columns
            if c.startswith("phase.")
        },
    }


def timing_latency_upload(upload: Any) -> None:
    """Read a newly uploaded latency export once; a bad file shows its error and keeps the data."""

    state = st.session_state
    if upload is None:
        return
    if upload.file_id in state.timing_latency_errors:
        show_error(state.timing_latency_errors[upload.file_id])
        return
    if upload.file_id in state.timing_latency_loaded:
        return
    try:
        frame = latency_files.read_latency_export(upload, upload.name)
        if frame.empty:
            raise AppError(
                f"{upload.name}: no latency values found.", "Expected ModelLatency/OverheadLatency."
            )
    except AppError as err:
        state.timing_latency_errors[upload.file_id] = err
        show_error(err)
        return
    state.timing_latency_loaded.add(upload.file_id)
    state.timing_latency = frame
    state.timing_latency_label = upload.name


def timing_aws_connection() -> dict[str, Any] | None:
    """The connection made on the "Load from AWS" page (profile, region, endpoint), if any."""
    conn = st.session_state.get("aws_connection")
    return dict(conn) if conn else None


@st.cache_data(ttl="10m", show_spinner=False, max_entries=20)
def timing_load_latency(
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    endpoint: str,
    variant: str,
    hours: int,
    until: str,
) -> pd.DataFrame:
    """Endpoint latency of the last ``hours`` before ``until`` from CloudWatch (cached 10 minutes)."""

    end = pd.Timestamp(until)
    return endpoint_latency.load_endpoint_latency(
        aws_session(profile, region), endpoint, variant, end - pd.Timedelta(hours=hours), end,
        endpoint_url=endpoint_url,
    )  # fmt: skip


def timing_load_latency_into_session(endpoint: str, variant: str, hours: int) -> None:
    """Load latency with the AWS page's connection into ``timing_latency``; errors leave the data as is."""
    conn = timing_aws_connection()
    if conn is None:
        raise AppError("Not connected to AWS.", "Connect on the Load from AWS page first.")
    until = pd.Timestamp.now(tz="UTC").floor("min").isoformat()
    with st.spinner(f"Loading {endpoint} latency from CloudWatch…"):
        frame = timing_load_latency(
            conn["profile"], conn["region"], conn.get("endpoint"), endpoint, variant, hours, until
        )
    st.session_state.timing_latency = frame
    st.session_state.timing_latency_label = (
        f"CloudWatch: {endpoint}/{variant or 'AllTraffic'}, last {hours} h"
    )


def page_link_for(label: str) -> PageLink | None:
    """The registered page with this sidebar label (None if that page is not there)."""
    return next((p for p in PAGES if p.label == label), None)


MONITOR_SLOTS: Final = ("capture", "statistics", "constraints")


def monitor_state() -> None:
    """Defaults of the Model Monitor page's own keys."""
    state = st.session_state
    state.setdefault("monitor_files", {})  # slot -> tuple of (name, bytes) of the last good upload
    state.setdefault("monitor_seen", {})  # slot -> file ids already handled
    state.setdefault("monitor_errors", {})  # slot -> AppError of the current (rejected) upload


def monitor_ingest(slot: str, uploads: Any) -> None:
    """Check a slot's newly uploaded files on their own; keep them only if they read cleanly.

    A bad file leaves the slot's previous files (and so everything shown) unchanged and records an
    error shown until the upload changes. Removing files from the uploader keeps what was loaded.
    """
    state = st.session_state
    files = [f for f in (uploads if isinstance(uploads, list) else [uploads]) if f is not None]
    ids = tuple(f.file_id for f in files)
    if not files:  # removed from the uploader: keep the data, drop a stale error
        state.monitor_errors.pop(slot, None)
        state.monitor_seen.pop(slot, None)
        return
    if state.monitor_seen.get(slot) == ids:
        return
    state.monitor_seen[slot] = ids
    named = tuple((f.name, f.getvalue()) for f in files)
    current = dict(state.monitor_files)
    current[slot] = named
    try:
        with st.spinner("Reading Model Monitor files…"):
            monitor_artifacts(tuple(sorted(current.items())))
    except AppError as err:
        state.monitor_errors[slot] = err
        return
    state.monitor_errors.pop(slot, None)
    state.monitor_files = current


def monitor_reset() -> None:
    """Forget the uploaded artifacts: back to the demo."""
    for key in ("monitor_files", "monitor_seen", "monitor_errors"):
        st.session_state.pop(key, None)
    st.session_state.monitor_generation = st.session_state.get("monitor_generation", 0) + 1


def monitor_uploader_key(slot: str) -> str:
    """Key of a slot's uploader; a new one after "back to the demo" so old files are not read again."""
    return f"monitor_{slot}_upload_{st.session_state.get('monitor_generation', 0)}"


@st.cache_data(show_spinner=False, max_entries=20)
def monitor_artifacts(files: tuple[tuple[str, tuple[tuple[str, bytes], ...]], ...]) -> Any:
    """Parsed artifacts of ``(slot, ((name, bytes), …))`` pairs; the demo when nothing was uploaded."""
    import io

    by_slot = dict(files)
    if not any(by_slot.values()):
        return demo_monitor.demo_artifacts()

    def named(name: str, data: bytes) -> io.BytesIO:
        buf = io.BytesIO(data)
        buf.name = name
        return buf

    capture = [named(n, d) for n, d in by_slot.get("capture", ())]
    stats = by_slot.get("statistics", ())
    cons = by_slot.get("constraints", ())
    return monitor_checks.load_artifacts(
        capture,
        named(*stats[0]) if stats else None,
        named(*cons[0]) if cons else None,
        capture_label=", ".join(n for n, _ in by_slot.get("capture", ())),
    )


def monitor_use_capture_for_drift(frame: pd.DataFrame, label: str) -> None:
    """Button callback: the captured data becomes the drift pages' current data."""

    st.session_state.drift_current = capture.drift_frame(frame)
    st.session_state.drift_current_label = f"Model Monitor capture: {label}"


def monitor_use_baseline_for_drift(baseline: Any) -> None:
    """Button callback: a sample drawn from the baseline statistics becomes the drift reference."""

    st.session_state.drift_reference = monitor_checks.baseline_reference(baseline)
    st.session_state.drift_reference_label = f"Model Monitor baseline: {baseline.source} (synthetic sample)"


# ---- timing & monitor (end)


# ---- drift (begin)
# The "Input drift" and "Prediction drift" pages. Shared keys: ``drift_reference`` / ``drift_current``
# (DataFrames; absent → the demo) and ``drift_reference_label`` / ``drift_current_label`` (also set by
# the Model Monitor page). Page-only keys: ``drift_upload_seen`` (side → file id already handled),
# ``drift_upload_errors`` (side → AppError of a rejected upload) and ``drift_generation`` (bumped by
# "back to demo", so the uploaders start empty).

DRIFT_SIDES: Final = ("reference", "current")
DRIFT_DEMO_LABELS: Final = {
    "reference": "demo reference (synthetic churn model, April 2024)",
    "current": "demo current (synthetic churn model, May 2024)",
}
# Text only: the table is drawn on a canvas, where emoji need a font the machine may not have.
DRIFT_STATUS_BADGES: Final = {
    "drift": "DRIFT",
    "negligible": "negligible",
    "no drift": "no drift",
    "could not tell": "could not tell",
    "not tested": "not tested",
}
DRIFT_AUTO: Final = "auto"
DRIFT_NONE: Final = "(none)"


@dataclass(frozen=True)
class DriftData:
    """The two tables the drift pages compare, with where they came from."""

    reference: pd.DataFrame
    current: pd.DataFrame
    reference_label: str
    current_label: str
    reference_demo: bool
    current_demo: bool

    @property
    def is_demo(self) -> bool:
        """Both sides are the built-in demo."""
        return self.reference_demo and self.current_demo

    @property
    def shared(self) -> list[str]:
        """Columns present on both sides, in reference order."""
        return [c for c in self.reference.columns if c in set(self.current.columns)]

    @property
    def signature(self) -> str:
        """Short digest of the labels and shared columns: widget keys that depend on the columns
        carry it, so new data gets fresh widgets instead of stale choices."""
        text = "\x1f".join([self.reference_label, self.current_label, *map(str, self.shared)])
        return hashlib.sha1(text.encode()).hexdigest()[:8]


@st.cache_data(show_spinner=False)
def drift_demo() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The drift demo (reference, current); built once per server process."""
    from lib import drift

    return drift.demo_reference(), drift.demo_current()


def drift_data() -> DriftData:
    """The data in use: what a user (or the Model Monitor page) put in the session, else the demo."""
    state = st.session_state
    demo_ref, demo_cur = drift_demo()
    frames = {}
    for side, demo_frame in zip(DRIFT_SIDES, (demo_ref, demo_cur), strict=True):
        frame = state.get(f"drift_{side}")
        is_demo = not isinstance(frame, pd.DataFrame)
        label = str(state.get(f"drift_{side}_label") or f"your {side}")
        label = DRIFT_DEMO_LABELS[side] if is_demo else label
        frames[side] = (demo_frame if is_demo else frame, label, is_demo)
    (ref, ref_label, ref_demo), (cur, cur_label, cur_demo) = frames["reference"], frames["current"]
    return DriftData(ref, cur, ref_label, cur_label, ref_demo, cur_demo)


@st.cache_data(show_spinner=False, max_entries=8)
def drift_read(name: str, content: bytes) -> pd.DataFrame:
    """An uploaded table, read and checked on its own (cached by content)."""
    from lib import drift

    return drift.check_table(drift.read_table(content, name=name), name=name)


def drift_uploader_key(side: str) -> str:
    """Key of a side's uploader; a new one after "back to demo" so old files are not read again."""
    return f"drift_{side}_upload_{st.session_state.get('drift_generation', 0)}"


def drift_ingest(side: str, upload: Any) -> None:
    """Read a newly uploaded file once; a good one replaces that side, a bad one keeps the data."""
    state = st.session_state
    seen = state.setdefault("drift_upload_seen", {})
    errors = state.setdefault("drift_upload_errors", {})
    if upload is None or seen.get(side) == upload.file_id:
        return
    seen[side] = upload.file_id
    try:
        with st.spinner(f"Reading {upload.name}…"):
            frame = drift_read(upload.name, upload.getvalue())
    except AppError as err:
        errors[side] = err
        return
    errors.pop(side, None)
    state[f"drift_{side}"] = frame
    state[f"drift_{side}_label"] = upload.name


def drift_back_to_demo() -> None:
    """Button callback: forget uploaded (or Model Monitor) data on both sides."""
    state = st.session_state
    for side in DRIFT_SIDES:
        state.pop(f"drift_{side}", None)
        state.pop(f"drift_{side}_label", None)
    state.pop("drift_upload_seen", None)
    state.pop("drift_upload_errors", None)
    state.drift_generation = state.get("drift_generation", 0) + 1


def drift_data_ui() -> DriftData:
    """Which data is compared (demo, file name or label), the two uploaders and "back to demo"."""
    from lib.sources.tables import SUFFIXES

    status = st.container()
    left, right = st.columns(2)
    types = sorted({s.lstrip(".") for s in SUFFIXES})
    for column, side in zip((left, right), DRIFT_SIDES, strict=True):
        with column:
            upload = st.file_uploader(
                f"{side.capitalize()} data",
                type=types,
                key=drift_uploader_key(side),
                help=(
                    "CSV, Parquet or JSON lines, one row per prediction or training example. "
                    + (
                        "The baseline: typically the training or validation set."
                        if side == "reference"
                        else "The data to check: typically recent production inputs and predictions."
                    )
                ),
            )
            drift_ingest(side, upload)
            err = st.session_state.get("drift_upload_errors", {}).get(side)
            if err is not None:
                show_error(err)
                st.caption(f"Still using the {side} shown above.")
    data = drift_data()
    with status:
        lines = [
            f"**Reference:** {md_escape(data.reference_label)} · {len(data.reference):,} rows × "
            f"{data.reference.shape[1]} columns",
            f"**Current:** {md_escape(data.current_label)} · {len(data.current):,} rows × "
            f"{data.current.shape[1]} columns",
        ]
        if data.is_demo:
            st.info(
                "**You are looking at demo data**: a churn model whose inputs drift in May. "
                "Drop your own reference and current tables below.\n\n" + "  \n".join(lines),
                icon=":material/science:",
            )
        else:
            box, button = st.columns([5, 1], vertical_alignment="center")
            with box:
                st.success("  \n".join(lines), icon=":material/database:")
            with button:
                st.button(
                    "Back to demo",
                    on_click=drift_back_to_demo,
                    icon=":material/undo:",
                    key="drift_back_to_demo",
                    help="Forget the uploaded (or Model Monitor) data and compare the demo tables again.",
                    width="stretch",
                )
    return data


@st.cache_data(show_spinner=False, max_entries=8)
def drift_kinds(reference: pd.DataFrame, shared: tuple[str, ...]) -> dict[str, str]:
    """Inferred kind of each shared column (cached by the data)."""
    from lib import drift

    return {k: str(v) for k, v in drift.infer_kinds(reference[list(shared)]).items()}


def drift_roles_ui(
    data: DriftData, kinds: dict[str, str], *, require_prediction: bool = False
) -> tuple[str | None, str | None, str | None]:
    """Prediction, label and timestamp columns; the library's guesses (or the demo's roles) first."""
    from lib import drift

    shared = data.shared
    if data.is_demo:
        guesses: dict[str, str | None] = dict(drift.DEMO_ROLES)
    else:
        ref = data.reference[shared]
        guesses = {
            "prediction": drift.guess_prediction(ref, kinds),
            "label": drift.guess_label(ref, kinds),
            "timestamp": drift.guess_timestamp(ref, kinds),
        }
    testable = [c for c in shared if kinds.get(c) in ("numeric", "categorical", "boolean")]
    times = [c for c in shared if kinds.get(c) == "datetime"]
    # A label may exist only in the current data (labels arrive later); allow those columns too.
    label_options = testable + [c for c in data.current.columns if c not in shared and c not in testable]

    def pick(
        column: Any, name: str, options: list[str], guess: str | None, optional: bool, text: str
    ) -> str | None:
        choices = ([DRIFT_NONE] if optional else []) + options
        index = choices.index(guess) if guess in choices else 0
        key = f"drift_{name.lower()}_{data.signature}"
        with column:
            value = st.selectbox(name, choices, index=index, key=key, help=text)
        return None if value in (None, DRIFT_NONE) else str(value)

    a, b, c = st.columns(3)
    prediction = pick(
        a, "Prediction", testable, guesses["prediction"], not require_prediction,
        "The model's output (class or score). Excluded from the input-drift table; see Prediction drift.",
    )  # fmt: skip
    label = pick(
        b, "Label", [x for x in label_options if x != prediction], guesses["label"], True,
        "Ground truth, where it exists: excluded from input drift; used for realised accuracy.",
    )  # fmt: skip
    timestamp = pick(
        c, "Timestamp", times + [x for x in shared if x not in times], guesses["timestamp"], True,
        "When each row happened: excluded from the tests; splits the current data into windows.",
    )  # fmt: skip
    return prediction, label, timestamp


def drift_rule_ui(key: str) -> dict[str, float]:
    """Alpha and the two practical thresholds of the verdict rule (defaults from ``lib.drift.DEFAULTS``)."""
    from lib import drift

    d = drift.DEFAULTS
    a, b, c = st.columns(3)
    with a:
        alpha = st.select_slider(
            "False-discovery rate α",
            options=[0.001, 0.005, 0.01, 0.05, 0.1, 0.2],
            **kept_widget(f"{key}_alpha", d.alpha),
            help="Benjamini-Hochberg-adjusted p-values must be below α. Lower: fewer false alarms.",
        )
    with b:
        numeric = st.number_input(
            "Threshold for numbers (sd)",
            min_value=0.0,
            max_value=5.0,
            step=0.05,
            **kept_widget(f"{key}_numeric", d.numeric_threshold),
            help="Smallest shift that matters: Wasserstein distance in reference standard deviations.",
        )
    with c:
        categorical = st.number_input(
            "Threshold for categories (share of rows)",
            min_value=0.0,
            max_value=1.0,
            step=0.01,
            **kept_widget(f"{key}_categorical", d.categorical_threshold),
            help="Smallest mix change that matters: total-variation distance (share of rows that moved).",
        )
    return {"alpha": float(alpha), "numeric": float(numeric), "categorical": float(categorical)}


def drift_columns_ui(
    data: DriftData, kinds: dict[str, str], roles: tuple[str | None, ...]
) -> tuple[dict[str, str], dict[str, str]]:
    """Per-column kind and test overrides; test menus come from ``lib.drift.TESTS`` by kind.

    Returns ``(kind overrides, test overrides)``, only the columns the user changed.
    """
    import functools

    from lib import drift

    kind_overrides: dict[str, str] = {}
    test_overrides: dict[str, str] = {}
    columns = [c for c in data.shared if c not in roles]
    head = st.columns([2, 2, 3])
    head[0].caption("Column")
    head[1].caption("Kind (inferred first)")
    head[2].caption("Test (auto: KS for numbers, chi-square or Fisher for categories)")
    for column in columns:
        name, kind_col, test_col = st.columns([2, 2, 3], vertical_alignment="center")
        name.markdown(f"`{md_escape(column)}`" if "`" not in column else md_escape(column))
        inferred = kinds.get(column, "categorical")
        options = [inferred, *[k for k in drift.KINDS if k != inferred]]
        kind = str(
            kind_col.selectbox(
                f"Kind of {column}",
                options,
                key=f"drift_kind_{data.signature}_{column}",
                label_visibility="collapsed",
                format_func=functools.partial(_drift_kind_label, inferred=inferred),
            )
        )
        if kind != inferred:
            kind_overrides[column] = kind
        if kind in ("id", "datetime"):
            test_col.caption("not tested")
            continue
        test = test_col.selectbox(
            f"Test for {column}",
            [DRIFT_AUTO, *drift.tests_for_kind(kind)],
            key=f"drift_test_{data.signature}_{column}_{kind}",
            label_visibility="collapsed",
            format_func=lambda n: n if n == DRIFT_AUTO else f"{drift.TESTS[n].label} ({n})",
        )
        if test != DRIFT_AUTO:
            test_overrides[column] = str(test)
    return kind_overrides, test_overrides


def _drift_kind_label(kind: str, *, inferred: str) -> str:
    return f"{kind} (inferred)" if kind == inferred else kind


@st.cache_data(show_spinner=False, max_entries=16)
def drift_compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    rule: tuple[float, float, float],
    kinds: tuple[tuple[str, str], ...],
    tests: tuple[tuple[str, str], ...],
    roles: tuple[str | None, str | None, str | None],
    names: tuple[str, str],
) -> Any:
    """:func:`lib.drift.compare`, cached on the data and every option (widget reruns are instant)."""
    from lib import drift

    return drift.compare(reference, current, **_drift_options(rule, kinds, tests, roles, names))


def _drift_options(
    rule: tuple[float, float, float],
    kinds: tuple[tuple[str, str], ...],
    tests: tuple[tuple[str, str], ...],
    roles: tuple[str | None, str | None, str | None],
    names: tuple[str, str],
) -> dict[str, Any]:
    """The hashable widget choices, as the keyword arguments ``compare``/``compare_windows`` take."""
    alpha, numeric, categorical = rule
    prediction, label, timestamp = roles
    return {
        "alpha": alpha,
        "thresholds": {"numeric": numeric, "categorical": categorical},
        "kinds": dict(kinds),
        "tests": dict(tests) or None,
        "prediction": prediction,
        "label": label,
        "timestamp": timestamp,
        "reference_name": names[0],
        "current_name": names[1],
    }


@st.cache_data(show_spinner=False, max_entries=8)
def drift_multivariate(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: tuple[str, ...],
    kinds: tuple[tuple[str, str], ...],
    alpha: float,
) -> Any:
    """:func:`lib.drift.domain_classifier` on the tested columns, cached."""
    from lib import drift

    return drift.domain_classifier(reference, current, columns=list(columns), kinds=dict(kinds), alpha=alpha)


@st.cache_data(show_spinner=False, max_entries=8)
def drift_windows(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    split: tuple[str | None, int | None],
    rule: tuple[float, float, float],
    kinds: tuple[tuple[str, str], ...],
    tests: tuple[tuple[str, str], ...],
    roles: tuple[str | None, str | None, str | None],
    names: tuple[str, str],
) -> Any:
    """:func:`lib.drift.compare_windows`, cached (``split`` is ``(freq, size)``)."""
    from lib import drift

    freq, size = split
    options = _drift_options(rule, kinds, tests, roles, names)
    return drift.compare_windows(reference, current, freq=freq, size=size, **options)


@st.cache_data(show_spinner=False, max_entries=8)
def drift_prediction(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    prediction: str,
    label: str | None,
    timestamp: str | None,
    split: tuple[str | None, int | None],
    rule: tuple[float, float, float],
    kind: str | None,
    test: str | None,
    score_threshold: float,
    names: tuple[str, str],
) -> Any:
    """:func:`lib.drift.prediction_drift`, cached."""
    from lib import drift

    alpha, numeric, categorical = rule
    freq, size = split
    return drift.prediction_drift(
        reference,
        current,
        prediction=prediction,
        label=label,
        timestamp=timestamp if (freq or size) else None,
        freq=freq,
        size=size,
        kind=kind,
        tests=test,
        alpha=alpha,
        thresholds={"numeric": numeric, "categorical": categorical},
        score_threshold=score_threshold,
        reference_name=names[0],
        current_name=names[1],
    )


DRIFT_PERIODS: Final = {"day": "D", "hour": "h", "week": "W", "rows": None}


def drift_split_ui(key: str, timestamp: str | None, n_current: int) -> tuple[str | None, int | None]:
    """How to cut the current data into windows: a calendar period of the timestamp, or a row count.

    Returns ``(freq, size)``; ``(None, None)`` when the user asked for no windows.
    """
    options = (["day", "hour", "week"] if timestamp else []) + ["rows"]
    a, b = st.columns([2, 1])
    with a:
        choice = st.segmented_control(
            "Windows of the current data",
            options,
            default=options[0],
            key=f"{key}_period_{bool(timestamp)}",
            format_func=lambda o: "by row count" if o == "rows" else f"per {o}",
            help="Calendar periods (UTC) of the timestamp column, or consecutive blocks of rows.",
        )
    if choice is None:
        return None, None
    if choice != "rows":
        return DRIFT_PERIODS[str(choice)], None
    with b:
        size = st.number_input(
            "Rows per window",
            min_value=20,
            max_value=max(20, n_current),
            value=min(max(20, n_current // 10), max(20, n_current)),
            step=50,
            key=f"{key}_size",
            help="The last window may be smaller.",
        )
    return None, int(size)


def drift_table_columns() -> dict[str, Any]:
    """Column labels, formats and tooltips of the drift summary table."""
    col = st.column_config
    return {
        "column": col.TextColumn("Column", pinned=True),
        "status": col.TextColumn("Verdict", help="By the rule shown above"),
        "kind": col.TextColumn("Kind"),
        "test_label": col.TextColumn("Test"),
        "effect_size": col.NumberColumn(
            "Effect",
            format="%.3f",
            help="Numbers: Wasserstein distance in reference sds; categories: total-variation distance",
        ),
        "effect_threshold": col.NumberColumn("Threshold", format="%.3f"),
        "min_detectable_effect": col.NumberColumn(
            "Smallest detectable", format="%.3f", help="Smallest effect these sample sizes could reveal"
        ),
        "p_adjusted": col.NumberColumn("Adjusted p", format="%.2e", help="Benjamini-Hochberg"),
        "statistic": col.NumberColumn("Statistic", format="%.4g"),
        "n_reference": col.NumberColumn("Reference n", format="%d"),
        "n_current": col.NumberColumn("Current n", format="%d"),
        "reason": col.TextColumn("Why", width="large"),
    }


def drift_summary_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The summary table as shown: a badge per verdict, the columns of :func:`drift_table_columns`."""
    shown = table.assign(status=table["status"].map(DRIFT_STATUS_BADGES).fillna(table["status"]))
    return shown[[c for c in drift_table_columns() if c in shown.columns]]


def drift_exports(report: Any, *, key: str, base_name: str = "drift-report") -> None:
    """HTML, JSON and CSV download buttons for a :class:`lib.drift.DriftReport`, built when clicked."""
    items = [
        Download(
            "HTML report", lambda: report.to_html().encode("utf-8"), "html", "text/html",
            ":material/description:", "A small self-contained page (no scripts): verdicts, reasons, signals.",
        ),
        Download(
            "JSON", lambda: report.to_json().encode("utf-8"), "json", "application/json",
            ":material/data_object:", "Everything in the report, machine-readable.",
        ),
        Download(
            "CSV", report.to_csv, "csv", "text/csv", ":material/download:",
            "The per-column table; spreadsheet formulas are neutralised.",
        ),
    ]  # fmt: skip
    download_row(items, base_name=base_name, key=key)


# ---- drift (end)
