"""The page frame every page starts with: config, shared state, sidebar, friendly errors."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
import streamlit as st

import lib.ui.session_store as kept_sessions
from lib import demo
from lib.errors import AppError
from lib.format import plural
from lib.schema import merge_jobs, merge_metrics
from lib.ui.auth import require_login
from lib.ui.housekeeping import watch_session

ICON: Final = Path(__file__).resolve().parents[2] / "assets" / "driftwatch.png"


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
    PageLink("pages/7_Drift_summary_file.py", "Drift summary file", ":material/summarize:"),
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
    "upload_errors": dict,  # upload key (file id + digest) -> (name, message, hint) of rejected uploads
    "loaded_ids": set,  # upload keys (file id + digest) already merged (so a rerun does not merge twice)
}


def init_state() -> None:
    """Give every shared key its default, without touching values a user already has."""
    for key, make in STATE_DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = make()


def setup_page(title: str, *, uses_metrics: bool = True) -> None:
    """Common start of every page: config, this session's data (kept across a reload), state
    defaults, the layout rules for narrow windows and the shared sidebar.

    ``uses_metrics=False`` for pages that do not show the training metrics (the drift pages): the
    sidebar then leaves out the training-metrics summary, and the page says what it uses with
    :func:`sidebar_data`.
    """
    # A local icon: an emoji or material icon here would make the browser fetch a favicon from the web.
    st.set_page_config(page_title=f"{title} · Driftwatch", page_icon=str(ICON), layout="wide")
    require_login()  # team mode: nothing below is drawn for a visitor who has not logged in
    init_state()
    restore_session()  # after the defaults: a reloaded session's own data replaces them
    watch_session()  # closed (state and uploads freed) a while after its browser goes away
    narrow_window_rules()
    sidebar(uses_metrics=uses_metrics, title=title)
    remember_session()


#: Pages (sidebar labels) whose views are the training metrics; elsewhere the metrics box says only
#: what this session has loaded.
METRICS_PAGES: Final = frozenset({"Data", "Load from AWS", "Training runs", "Timing & cost"})


def sidebar(*, uses_metrics: bool = True, title: str = "Data") -> None:
    """Navigation and a one-glance summary of the data this page uses."""
    with st.sidebar:
        st.markdown("### :material/monitoring: Driftwatch")
        st.caption("Is my model still healthy?")
        for page in PAGES:
            st.page_link(page.path, label=page.label, icon=page.icon)
        st.divider()
        if not uses_metrics:
            return
        metrics: pd.DataFrame = st.session_state.metrics
        n_jobs = metrics["job"].nunique()
        caption = "This page uses" if title in METRICS_PAGES else "Loaded in this session"
        if st.session_state.is_demo:
            sidebar_data(
                f"Training metrics: **demo data** (synthetic: {plural(n_jobs, 'run')} of the churn model "
                f"behind `{demo.DEMO_ENDPOINT}`, March 2024). "
                "Load your own on the Data page or from AWS.",
                demo=True,
                caption=caption,
            )
        else:
            n_files = len({src["_sha"] for src in st.session_state.sources})
            sidebar_data(
                f"Training metrics: {plural(n_jobs, 'run')} · "
                f"{plural(metrics['metric'].nunique(), 'metric')} · "
                f"{plural(len(metrics), 'point')} from {plural(n_files, 'source')}.",
                demo=False,
                caption=caption,
            )


def sidebar_data(text: str, *, demo: bool, caption: str = "This page uses") -> None:
    """The sidebar box saying which data this page uses (``text`` is Markdown: escape names in it)."""
    with st.sidebar:
        st.caption(caption)
        if demo:
            st.info(text, icon=":material/science:")
        else:
            st.success(text, icon=":material/database:")
        if st.session_state.get("session_kept") is False:
            st.caption("This data is too large to keep across a page reload.")
        else:
            hours = kept_sessions.SESSION_TTL_S // 3600
            st.caption(
                f"Kept on the server for {hours} h after your last change, also across a page reload "
                "(the link holds a private key: share it only with whom may see this data)."
            )


# Narrow windows: Streamlit itself collapses the sidebar only at 768 px or less. From 1000 px down we
# collapse it on load (once per page load, so a user can open it again), and let metric values and
# labels wrap instead of ending in "…". Static code: nothing from the user goes into it.
NARROW_WINDOW_PX: Final = 1000
_NARROW_CSS: Final = """
<style>
[data-testid="stMetricValue"] > div, [data-testid="stMetricLabel"] p,
[data-testid="stMetricLabel"] div {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere;
}
[data-testid="stMetricValue"] { font-size: clamp(1.25rem, 2.2vw, 2.25rem); }
</style>
"""
_NARROW_JS: Final = """
<script>
(() => {
  if (window.__driftwatchNarrowChecked) return;
  window.__driftwatchNarrowChecked = true;
  if (window.innerWidth >= NARROW_PX) return;
  let tries = 0;
  const collapse = () => {
    const button = document.querySelector('[data-testid="stSidebar"] button[aria-label="Collapse sidebar"]');
    if (button) { button.click(); return; }
    if (++tries < 40) setTimeout(collapse, 100);
  };
  collapse();
})();
</script>
""".replace("NARROW_PX", str(NARROW_WINDOW_PX))


def narrow_window_rules() -> None:
    """CSS and a small script for windows narrower than :data:`NARROW_WINDOW_PX` (see above)."""
    with st.sidebar:
        st.html(_NARROW_CSS + _NARROW_JS, unsafe_allow_javascript=True, width="content")


# ---------------------------------------------------------------- data kept across a reload

#: The URL parameter holding this session's private key.
SESSION_PARAM: Final = "session"
#: Session-state keys that hold loaded data: kept across a reload. Widget values follow through
#: ``kept_widgets``; upload bookkeeping is not kept (the browser forgets the uploader's files anyway).
PERSISTED_KEYS: Final = (
    "metrics",
    "jobs",
    "is_demo",
    "sources",
    "kept_widgets",
    "monitor_files",
    "drift_reference",
    "drift_reference_label",
    "drift_reference_digest",
    "drift_current",
    "drift_current_label",
    "drift_current_digest",
)
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{22}")


@st.cache_resource(show_spinner=False)
def session_store() -> kept_sessions.SessionStore:
    """The server's one store of session snapshots (time limit and size cap: lib.ui.session_store)."""
    return kept_sessions.SessionStore()


def restore_session() -> None:
    """Once per browser session: give it a private key in the URL, and if it arrived with a key the
    store knows (a reload), its data back.

    A key is used once: a restored session gets a new key, so a link someone sent cannot make your
    later uploads readable to them (session fixation), and an old link opens on the demo.
    """
    state = st.session_state
    if "session_token" not in state:
        given = st.query_params.get(SESSION_PARAM)
        token = secrets.token_urlsafe(16)
        if isinstance(given, str) and _TOKEN.fullmatch(given):
            kept = session_store().load(given)
            if kept is not None:
                session_store().forget(given)
                for key, value in kept.items():
                    state[key] = value
                state.session_restored = True
        state.session_token = token
    if st.query_params.get(SESSION_PARAM) != state.session_token:
        st.query_params[SESSION_PARAM] = state.session_token


def remember_session() -> None:
    """Snapshot this session's data keys under its key (cheap when nothing changed). Called at the
    start of every page run and by the code that loads data (:func:`merge_into_session`,
    ``drift_page.drift_store``), so what a run loaded survives a reload right away."""
    state = st.session_state
    token = state.get("session_token")
    if not isinstance(token, str):
        return
    data = {key: state[key] for key in PERSISTED_KEYS if key in state}
    state.session_kept = session_store().save(token, data)


def show_error(err: AppError) -> None:
    """Render an expected failure as an error box plus its hint (never a traceback). Messages name
    files and columns, so they are shown literally (:func:`md_literal`)."""
    st.error(md_literal(err.message), icon=":material/error:")
    if err.hint:
        st.caption(md_literal(err.hint))


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


# Characters that start Markdown (or Streamlit's LaTeX, colour and icon) markup anywhere in a line;
# "_" only at a word's edge (CommonMark ignores intraword underscores: "export_csv" stays as it is).
_MD_MARKUP: Final = re.compile(r"([\\`*$\[\]~<>|])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_MD_LINE_START: Final = re.compile(r"^(\s*\d*)([#>+=-]|(?<=\d)[.)])", re.M)


def md_literal(text: object) -> str:
    """Show ``text`` literally in Markdown with the fewest escapes: unlike :func:`md_escape`, plain
    words, dots, dashes and intraword underscores stay as they are, so messages read the same in
    tests and logs (``json.* columns`` → ``json.\\* columns``; ``export_csv`` unchanged)."""
    escaped = _MD_MARKUP.sub(lambda m: "\\" + m.group(0), str(text))
    escaped = re.sub(r":(?=[A-Za-z_/]+:)", r"\\:", escaped)  # :material/x: and :emoji: shortcodes
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def md_code(text: object) -> str:
    """``text`` as a Markdown code span, shown literally (no escapes: inside a code span a
    backslash is a backslash). The fence is longer than any run of backticks in the text."""
    value = " ".join(str(text).split()) or " "
    runs = [len(r) for r in re.findall(r"`+", value)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def merge_into_session(metrics: list[pd.DataFrame], jobs: list[pd.DataFrame]) -> None:
    """Merge newly loaded frames into this session's data (uploads, AWS loads).

    The first real data replaces the demo; after that, new frames are added to what is loaded.
    Callers record their own ``sources`` entry.
    """

    state = st.session_state
    base_metrics = [] if state.is_demo else [state.metrics]
    base_jobs = [] if state.is_demo else [state.jobs]
    state.metrics = merge_metrics([*base_metrics, *metrics])
    state.jobs = merge_jobs([*base_jobs, *jobs])
    state.is_demo = False
    remember_session()


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


def page_link_for(label: str) -> PageLink | None:
    """The registered page with this sidebar label (None if that page is not there)."""
    return next((p for p in PAGES if p.label == label), None)


def upload_key(upload: Any) -> str:
    """Identity of an uploaded file: its uploader id and a digest of its content.

    Ingest functions mark a file seen under this key only after its result (data or error) is
    stored, so a rerun that interrupts the read (a second drop, a widget change) reads it again
    instead of dropping it, and a re-drop of the same content is recognised. The digest is
    computed once per uploader id (an uploaded file's content never changes).
    """
    digests: dict[str, str] = st.session_state.setdefault("upload_digests", {})
    file_id = str(upload.file_id)
    if file_id not in digests:
        digests[file_id] = hashlib.sha256(upload.getvalue()).hexdigest()
    return f"{file_id}:{digests[file_id]}"


def content_digest(key: str) -> str:
    """The content digest part of an :func:`upload_key`."""
    return key.rsplit(":", 1)[-1]
