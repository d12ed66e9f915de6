"""The Data page: uploads read once, what each file was read as, custom metric definitions."""

from __future__ import annotations

from typing import Any, Final

import pandas as pd
import streamlit as st

from lib.errors import AppError
from lib.format import plural
from lib.schema import merge_jobs
from lib.sources import FORMATS, anchor_relative_times, load_export
from lib.sources.logs import MetricDefinition
from lib.ui.downloads import csv_download
from lib.ui.frame import content_digest, md_escape, merge_into_session, show_error, source_entry, upload_key

#: Jobs read from metadata-only files (jobs lists, descriptions) while the demo is shown: kept aside
#: instead of replacing the demo with runs that have no curves, and merged with the first metrics.
PENDING_JOBS: Final = "data_pending_jobs"
RUNS_PAGE: Final = "pages/1_Training_runs.py"


def formats_help() -> str:
    """One line listing the supported export formats (from the loaders' own registry)."""

    return "Supported: " + "; ".join(map(md_escape, FORMATS.values())) + "."  # help text is Markdown


def metric_definitions_frame() -> pd.DataFrame:
    """Starting rows for the custom metric-definitions editor (empty, typed)."""
    return pd.DataFrame({"name": pd.Series([], dtype="str"), "regex": pd.Series([], dtype="str")})


def parse_metric_definitions(frame: pd.DataFrame) -> tuple[Any, ...]:
    """Editor rows → validated ``MetricDefinition`` objects; blank rows are ignored."""

    out = []
    for row in frame.itertuples(index=False):
        name, regex = (str(v).strip() if isinstance(v, str) else "" for v in (row.name, row.regex))
        if name or regex:
            out.append(MetricDefinition(name=name, regex=regex))
    return tuple(out)


def ingest_uploads(files: list[Any], definitions: tuple[Any, ...]) -> None:
    """Parse newly uploaded files and merge them into this session's data.

    Files already merged (or already rejected) are skipped, so reruns do no work twice. A file is
    marked (by uploader id and content digest, :func:`upload_key`) only once its result, data or
    error, is stored: a rerun that interrupts the reading leaves the unread files unmarked, and the
    next run reads them. A file that fails leaves everything loaded so far untouched; the first good
    file replaces the demo data.
    """

    state = st.session_state
    keyed = [(upload_key(f), f) for f in files]
    new = [(key, f) for key, f in keyed if key not in state.loaded_ids and key not in state.upload_errors]
    if not new:
        return
    loaded: list[tuple[str, str, Any]] = []
    seen = {src["_sha"]: src for src in state.sources}
    progress = st.progress(0.0, text="Reading files…") if len(new) > 1 else None
    twins: list[tuple[str, str, str]] = []  # (key, digest, name): content that came earlier in this batch
    for i, (key, upload) in enumerate(new):
        digest = content_digest(key)
        if digest in seen:  # the same content again (e.g. re-dropped, maybe renamed): nothing new to merge
            state.sources.append(_duplicate_entry(seen[digest], key, upload.name))
            state.loaded_ids.add(key)
            continue
        if any(digest == d for _, d, _ in loaded):  # dropped twice at once: merged once
            twins.append((key, digest, upload.name))
            continue
        with st.spinner(f"Reading {upload.name}…"):
            try:
                result = load_export(upload, upload.name, metric_definitions=definitions)
                loaded.append((key, digest, result))
            except AppError as err:
                state.upload_errors[key] = (upload.name, err.message, err.hint)
        if progress is not None:
            progress.progress((i + 1) / len(new), text=f"Read {i + 1} of {len(new)} files")
    if progress is not None:
        progress.empty()
    if not loaded:
        if any(key in state.loaded_ids for key, _ in new):
            st.rerun()
        return
    _merge_loaded([item.metrics for _, _, item in loaded], [item.jobs for _, _, item in loaded])
    for key, digest, item in loaded:
        state.sources.append(
            source_entry(
                key, digest, item.name, item.format_label, item.metrics, item.notes, n_jobs=len(item.jobs)
            )
        )
        state.loaded_ids.add(key)
    merged = {src["_sha"]: src for src in state.sources}
    for key, digest, name in twins:
        state.sources.append(_duplicate_entry(merged[digest], key, name))
        state.loaded_ids.add(key)
    st.rerun()  # redraw the sidebar summary with the new data


def _duplicate_entry(original: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    """A sources row for a file whose bytes were already read (under this or another name)."""
    if original["file"] == name:
        notes = "Already loaded (same content): nothing new was added."
    else:
        notes = f"Same content as {original['file']}, already loaded: nothing new was added."
    return {
        **original,
        "_id": key,
        "file": name,
        "notes": notes,
        "duplicate_of": original["file"],
    }


def _merge_loaded(metrics: list[pd.DataFrame], jobs: list[pd.DataFrame]) -> None:
    """Merge new frames into the session; files with job metadata only leave the demo in place.

    Their jobs wait in :data:`PENDING_JOBS` and join the first upload that has metric rows. After a
    merge, runs with only relative times (TrainingJobAnalytics) get clock times from the jobs' starts.
    """
    state = st.session_state
    if state.is_demo and not any(len(m) for m in metrics):
        state[PENDING_JOBS] = merge_jobs([state.get(PENDING_JOBS, pd.DataFrame()), *jobs])
        return
    pending = state.pop(PENDING_JOBS, None) if state.is_demo else None
    merge_into_session(metrics, [*([pending] if pending is not None else []), *jobs])
    state.metrics = anchor_relative_times(state.metrics, state.jobs)


def upload_report(files: list[Any]) -> None:
    """Say, per file in the uploader, what it was read as, or why it was rejected."""
    state = st.session_state
    read = {src["_id"]: src for src in state.sources}
    shown_link = False
    for upload in files:
        key = upload_key(upload)
        if key in state.upload_errors:
            _, message, hint = state.upload_errors[key]
            show_error(AppError(message, hint))
        elif key in read:
            src = read[key]
            if src.get("duplicate_of"):
                st.info(
                    f"{md_escape(upload.name)}: {md_escape(src['notes'])}", icon=":material/content_copy:"
                )
                continue
            if src["points"] == 0:
                waiting = state.is_demo and PENDING_JOBS in state
                st.success(
                    f"{md_escape(src['file'])}: read as **{md_escape(src['read as'])}**, "
                    f"{plural(src['runs'], 'job')} with no metric curves"
                    + (
                        ". The demo stays until you add metrics; these jobs' start times will place "
                        "TrainingJobAnalytics exports on the time chart."
                        if waiting
                        else "."
                    ),
                    icon=":material/check_circle:",
                )
            else:
                st.success(
                    f"{md_escape(src['file'])}: read as **{md_escape(src['read as'])}**, "
                    f"{plural(src['points'], 'point')} from {plural(src['runs'], 'run')}.",
                    icon=":material/check_circle:",
                )
            if src["notes"]:
                st.caption(md_escape(src["notes"]))
            shown_link = True
    if shown_link and not state.is_demo:
        st.page_link(RUNS_PAGE, label="See the runs chart", icon=":material/show_chart:")


def uploader_key() -> str:
    """Key of the file uploader; a new one after "clear" so old files are not read again."""
    return f"upload_files_{st.session_state.get('uploader_generation', 0)}"


def loaded_sources_summary() -> None:
    """Table of everything loaded in this session, plus a way back to the demo."""
    state = st.session_state
    if state.is_demo:
        st.subheader("Demo runs")
        st.dataframe(state.jobs, width="stretch", hide_index=True)
        if PENDING_JOBS in state:
            st.subheader("Jobs waiting for metrics")
            st.caption("Read from job lists or descriptions; they join the first metrics you load.")
            st.dataframe(state[PENDING_JOBS], width="stretch", hide_index=True)
        return
    st.subheader("Loaded files")
    st.caption("Data stays loaded when you remove a file from the uploader; clear it all here.")
    st.dataframe(
        pd.DataFrame(state.sources)
        .drop_duplicates("_sha")
        .drop(columns=["_id", "_sha", "duplicate_of"], errors="ignore"),
        width="stretch",
        hide_index=True,
    )
    csv_download(
        state.metrics, file_name="driftwatch-metrics.csv", label="Download all metrics", key="all_csv"
    )
    if st.button("Clear loaded data and show the demo again", icon=":material/restart_alt:"):
        for key in ("metrics", "jobs", "is_demo", "sources", "upload_errors", "loaded_ids", PENDING_JOBS):
            state.pop(key, None)
        state.uploader_generation = state.get("uploader_generation", 0) + 1
        st.rerun()
