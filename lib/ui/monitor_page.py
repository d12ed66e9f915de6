"""The Model Monitor page: artifact slots read once, demo, hand-over to the drift pages."""

from __future__ import annotations

import io
from typing import Any, Final

import pandas as pd
import streamlit as st

from lib.analysis import monitor_checks
from lib.demo import monitor as demo_monitor
from lib.errors import AppError
from lib.sources import capture
from lib.ui import drift_page
from lib.ui.frame import remember_session, upload_key

MONITOR_SLOTS: Final = ("capture", "statistics", "constraints", "violations")
#: The page's tabs; only the open one runs (the checks compute a drift report, the history and the
#: baseline draw charts).
TABS: Final = (
    ":material/table: Captured data",
    ":material/rule: Constraint checks",
    ":material/history: Violations history",
    ":material/bar_chart: Baseline",
)


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
    Files are marked seen (uploader ids and content digests) only after the result is stored, so a
    rerun that interrupts the read cannot drop them.
    """
    state = st.session_state
    files = [f for f in (uploads if isinstance(uploads, list) else [uploads]) if f is not None]
    if not files:  # removed from the uploader: keep the data, drop a stale error
        state.monitor_errors.pop(slot, None)
        state.monitor_seen.pop(slot, None)
        return
    keys = tuple(upload_key(f) for f in files)
    if state.monitor_seen.get(slot) == keys:
        return
    named = tuple((f.name, f.getvalue()) for f in files)
    current = dict(state.monitor_files)
    current[slot] = named
    try:
        with st.spinner("Reading Model Monitor files…"):
            monitor_artifacts(tuple(sorted(current.items())))
    except AppError as err:
        state.monitor_errors[slot] = err
        state.monitor_seen[slot] = keys  # marked only once the result is stored
        return
    state.monitor_errors.pop(slot, None)
    state.monitor_files = current
    state.monitor_seen[slot] = keys
    remember_session()  # kept across a reload from now on


def monitor_reset() -> None:
    """Forget the uploaded artifacts: back to the demo."""
    for key in ("monitor_files", "monitor_seen", "monitor_errors"):
        st.session_state.pop(key, None)
    st.session_state.monitor_generation = st.session_state.get("monitor_generation", 0) + 1
    remember_session()


def monitor_uploader_key(slot: str) -> str:
    """Key of a slot's uploader; a new one after "back to the demo" so old files are not read again."""
    return f"monitor_{slot}_upload_{st.session_state.get('monitor_generation', 0)}"


@st.cache_data(show_spinner=False, max_entries=20)
def monitor_artifacts(files: tuple[tuple[str, tuple[tuple[str, bytes], ...]], ...]) -> Any:
    """Parsed artifacts of ``(slot, ((name, bytes), …))`` pairs; the demo when nothing was uploaded."""

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
        violations=[named(n, d) for n, d in by_slot.get("violations", ())],
    )


@st.cache_data(show_spinner=False, max_entries=20)
def monitor_history(files: tuple[tuple[str, tuple[tuple[str, bytes], ...]], ...]) -> Any:
    """The violations history of the artifacts (:meth:`MonitorArtifacts.history`): the uploaded
    constraint_violations.json files, else the checks per hour of the capture; None without either."""

    return monitor_artifacts(files).history()


@st.cache_data(show_spinner=False, max_entries=20)
def monitor_drift_agreement(files: tuple[tuple[str, tuple[tuple[str, bytes], ...]], ...]) -> pd.DataFrame:
    """:func:`lib.analysis.monitor_checks.drift_agreement` of the artifacts, cached."""

    return monitor_checks.drift_agreement(monitor_artifacts(files))


def monitor_agreement_summary(agreement: pd.DataFrame) -> tuple[str, bool]:
    """One paragraph on how the constraint checks and the Input drift page compare, and whether a
    small-sample caveat applies (some distance check ran where chance alone crosses the threshold)."""
    n = len(agreement)
    small = agreement.loc[agreement["chance_distance"] > agreement["threshold"]]
    differ = int((~agreement["agree"].astype(bool)).sum())
    text = (
        f"The Input drift page, given this capture and baseline, agrees with {n - differ} of the {n} "
        "baseline distance checks"
        + (
            f"; where they differ ({differ}), the table says which design difference explains it."
            if differ
            else "."
        )
    )
    if not small.empty:
        records = int(small["n_current"].max())
        text = (
            f"Small sample: {len(small)} of the {n} baseline distance checks ran on at most {records:,} "
            f"records, where two samples of one distribution differ by up to "
            f"{float(small['chance_distance'].min()):.2f} on Model Monitor's distance by chance alone "
            "(95 %), more than its threshold: those checks cannot tell drift from noise (Model "
            "Monitor's thresholds have no sample-size notion; a drift test on so few rows says "
            "'could not tell'). " + text
        )
    return text, not small.empty


def monitor_history_source(history: Any) -> str:
    """One line saying where the violations history comes from."""
    n = len(history.executions)
    if history.computed:
        return (
            f"No constraint_violations.json uploaded: these are the constraint checks computed here on "
            f"each hour of the captured data ({n} hour(s)), as an hourly monitoring schedule would run them."
        )
    return (
        f"{n} monitoring execution(s) read from constraint_violations.json, in upload order "
        "(upload them oldest first)."
    )


def monitor_use_capture_for_drift(frame: pd.DataFrame, label: str) -> None:
    """Button callback: the captured data becomes the drift pages' current data."""

    drift_page.drift_store("current", capture.drift_frame(frame), f"Model Monitor capture: {label}")


def monitor_use_baseline_for_drift(baseline: Any) -> None:
    """Button callback: a sample drawn from the baseline statistics becomes the drift reference."""

    drift_page.drift_store(
        "reference",
        monitor_checks.baseline_reference(baseline),
        f"Model Monitor baseline: {baseline.source} (synthetic sample)",
    )
