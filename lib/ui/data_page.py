"""The Data page: uploads read once, what each file was read as, custom metric definitions."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from lib.errors import AppError
from lib.sources import FORMATS, load_export
from lib.sources.logs import MetricDefinition
from lib.ui.downloads import csv_download
from lib.ui.frame import content_digest, md_escape, merge_into_session, show_error, source_entry, upload_key


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
    twins: list[tuple[str, str]] = []  # (key, digest) of files whose content came earlier in this batch
    for i, (key, upload) in enumerate(new):
        digest = content_digest(key)
        if digest in seen:  # the same content again (e.g. re-dropped): nothing new to merge
            state.sources.append({**seen[digest], "_id": key, "notes": "Same content as before."})
            state.loaded_ids.add(key)
            continue
        if any(digest == d for _, d, _ in loaded):  # dropped twice at once: merged once
            twins.append((key, digest))
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
    merge_into_session([item.metrics for _, _, item in loaded], [item.jobs for _, _, item in loaded])
    for key, digest, item in loaded:
        state.sources.append(
            source_entry(
                key, digest, item.name, item.format_label, item.metrics, item.notes, n_jobs=len(item.jobs)
            )
        )
        state.loaded_ids.add(key)
    merged = {src["_sha"]: src for src in state.sources}
    for key, digest in twins:
        state.sources.append({**merged[digest], "_id": key, "notes": "Same content as before."})
        state.loaded_ids.add(key)
    st.rerun()  # redraw the sidebar summary with the new data


def upload_report(files: list[Any]) -> None:
    """Say, per file in the uploader, what it was read as, or why it was rejected."""
    state = st.session_state
    read = {src["_id"]: src for src in state.sources}
    for upload in files:
        key = upload_key(upload)
        if key in state.upload_errors:
            _, message, hint = state.upload_errors[key]
            show_error(AppError(message, hint))
        elif key in read:
            src = read[key]
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
