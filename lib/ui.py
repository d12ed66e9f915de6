"""The only lib module that imports Streamlit: page frame, shared state, caches, friendly errors.

Every page starts with :func:`setup_page`. The app uses Streamlit's file-based multipage mode
throughout (``app.py`` + ``pages/``, no ``st.navigation``), so a page opened cold by its URL runs
alone and still gets the same state defaults and the same sidebar as everywhere else.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
import streamlit as st

from lib import demo, export
from lib.errors import AppError

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
    PageLink("pages/1_Training_runs.py", "Training runs", ":material/show_chart:"),
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
                f"Showing **demo data** (synthetic): {n_jobs} training runs. "
                "Load your own exports on the Data page.",
                icon=":material/science:",
            )
        else:
            n_files = len({src["_sha"] for src in st.session_state.sources})
            st.success(
                f"{n_jobs} runs · {metrics['metric'].nunique()} metrics · {len(metrics):,} points "
                f"from {n_files} file{'s' if n_files != 1 else ''}.",
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


def chart_downloads(chart: Any, *, base_name: str, key: str) -> None:
    """PNG and SVG download buttons for an Altair chart, rendered offline only when clicked."""
    left, right, _ = st.columns([1, 1, 6])
    with left:
        st.download_button(
            "PNG",
            data=lambda: export.chart_png(chart),
            file_name=f"{base_name}.png",
            mime="image/png",
            key=f"{key}_png",
            on_click="ignore",
            icon=":material/image:",
            help="The chart as shown (all series), as a PNG image.",
        )
    with right:
        st.download_button(
            "SVG",
            data=lambda: export.chart_svg(chart),
            file_name=f"{base_name}.svg",
            mime="image/svg+xml",
            key=f"{key}_svg",
            on_click="ignore",
            icon=":material/draw:",
            help="The chart as a scalable vector image.",
        )


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
    from lib.schema import merge_jobs, merge_metrics

    base_metrics = [] if state.is_demo else [state.metrics]
    base_jobs = [] if state.is_demo else [state.jobs]
    state.metrics = merge_metrics([*base_metrics, *(item.metrics for _, _, item in loaded)])
    state.jobs = merge_jobs([*base_jobs, *(item.jobs for _, _, item in loaded)])
    state.is_demo = False
    for file_id, digest, item in loaded:
        state.loaded_ids.add(file_id)
        state.sources.append(
            {
                "_id": file_id,
                "_sha": digest,
                "file": item.name,
                "read as": item.format_label,
                "runs": int(item.metrics["job"].nunique()) if len(item.metrics) else len(item.jobs),
                "metrics": ", ".join(sorted(item.metrics["metric"].unique())[:6]),
                "points": len(item.metrics),
                "notes": " ".join(item.notes),
            }
        )
    st.rerun()  # redraw the sidebar summary with the new data


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
