"""The Timing & cost page: editable prices, latency uploads and loads."""

from __future__ import annotations

from typing import Any, Final

import pandas as pd
import streamlit as st

from lib.analysis import pricing
from lib.demo import latency as demo_latency_data
from lib.demo.story import DEMO_ENDPOINT
from lib.errors import AppError
from lib.sources import latency as latency_files
from lib.sources.aws import endpoint_latency
from lib.sources.aws import session as aws
from lib.ui import aws_page
from lib.ui.frame import show_error, upload_key

#: The page's tabs (``st.tabs`` labels; the open one is ``st.session_state.timing_tab``).
TABS: Final = (
    ":material/payments: Runs & cost",
    ":material/trending_up: Timing drift",
    ":material/speed: Endpoint latency",
)


def timing_state() -> None:
    """Defaults of the timing page's own keys (demo latency until something is loaded)."""

    state = st.session_state
    if "timing_latency" not in state:
        state.timing_latency = demo_latency_data.demo_latency()
        state.timing_latency_label = f"demo latency (synthetic, {DEMO_ENDPOINT}, 6-8 May 2024)"
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
    """Read a newly uploaded latency export once; a bad file shows its error and keeps the data.

    Marked (by uploader id and content digest) only after its result is stored: a rerun that
    interrupts the read leaves it unread, to be read by the next run.
    """

    state = st.session_state
    if upload is None:
        return
    key = upload_key(upload)
    if key in state.timing_latency_errors:
        show_error(state.timing_latency_errors[key])
        return
    if key in state.timing_latency_loaded:
        return
    try:
        frame = latency_files.read_latency_export(upload, upload.name)
        if frame.empty:
            raise AppError(
                f"{upload.name}: no latency values found.", "Expected ModelLatency/OverheadLatency."
            )
    except AppError as err:
        state.timing_latency_errors[key] = err
        show_error(err)
        return
    state.timing_latency = frame
    state.timing_latency_label = upload.name
    state.timing_latency_loaded.add(key)


def timing_aws_connection() -> dict[str, Any] | None:
    """The connection made on the "Load from AWS" page (profile, region, endpoint), if any."""
    conn = st.session_state.get("aws_connection")
    return dict(conn) if conn else None


#: The live latency load's name in :data:`lib.ui.aws_page.ACTION_SECONDS` (its stated deadline).
LATENCY_ACTION: Final = "Load latency"


class PartialLatency(Exception):  # noqa: N818 - a signal, not an error shown to anyone
    """Raised by :func:`timing_load_latency` so a load cut short by its deadline is shown, never cached."""

    def __init__(self, frame: pd.DataFrame) -> None:
        super().__init__("partial latency")
        self.frame = frame


@st.cache_data(ttl="10m", show_spinner=False, max_entries=20)
def timing_load_latency(
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    endpoint: str,
    variant: str,
    hours: int,
    until: str,
    _deadline: aws.Deadline | None = None,
) -> pd.DataFrame:
    """Endpoint latency of the last ``hours`` before ``until`` from CloudWatch (cached 10 minutes).

    ``_deadline`` (not part of the key) bounds the whole load; a load it cut short after some pages
    is raised as :class:`PartialLatency`, so it is shown but never served later as if complete.
    """

    end = pd.Timestamp(until)
    frame = endpoint_latency.load_endpoint_latency(
        aws_page.aws_session(profile, region, _deadline), endpoint, variant, end - pd.Timedelta(hours=hours),
        end, endpoint_url=endpoint_url,
    )  # fmt: skip
    if frame.attrs.get("partial"):
        raise PartialLatency(frame)
    return frame


def timing_latency_deadline_note() -> None:
    """Under the live-load form: the load's stated deadline and Stop, and that a stopped load kept
    nothing (the rerun after Stop)."""
    st.caption(aws_page.aws_action_caption(LATENCY_ACTION))
    aws_page.aws_stopped_notice()


def timing_load_latency_into_session(endpoint: str, variant: str, hours: int) -> None:
    """Load latency with the AWS page's connection into ``timing_latency``, under the action's stated
    deadline with a Stop button (:func:`lib.ui.aws_page.aws_action`); errors leave the data as is,
    a load cut short keeps what was read (with a warning)."""
    conn = timing_aws_connection()
    if conn is None:
        raise AppError("Not connected to AWS.", "Connect on the Load from AWS page first.")
    until = pd.Timestamp.now(tz="UTC").floor("min").isoformat()
    where = (conn["profile"], conn["region"], conn.get("endpoint"))
    spinner = st.spinner(f"Loading {endpoint} latency from CloudWatch…")
    with aws_page.aws_action(LATENCY_ACTION) as deadline, spinner:
        try:
            frame = timing_load_latency(*where, endpoint, variant, hours, until, deadline)
        except PartialLatency as cut:
            frame = cut.frame
    st.session_state.timing_latency = frame
    st.session_state.timing_latency_label = (
        f"CloudWatch: {endpoint}/{variant or 'AllTraffic'}, last {hours} h"
        + (" (incomplete)" if frame.attrs.get("partial") else "")
    )
