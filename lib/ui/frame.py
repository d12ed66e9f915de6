"""The page frame every page starts with: config, shared state, sidebar, friendly errors."""

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

from lib import demo
from lib.errors import AppError
from lib.schema import merge_jobs, merge_metrics
from lib.ui.auth import require_login

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


def setup_page(title: str) -> None:
    """Common start of every page: config, state defaults and the shared sidebar."""
    # A local icon: an emoji or material icon here would make the browser fetch a favicon from the web.
    st.set_page_config(page_title=f"{title} · Driftwatch", page_icon=str(ICON), layout="wide")
    require_login()  # team mode: nothing below is drawn for a visitor who has not logged in
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
