"""The Training runs page's controls and table: smoothing, time axis, readable durations, flag marks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import pandas as pd
import streamlit as st

from lib.analysis import runs
from lib.charts.runs import FLAG_ICON
from lib.format import clock_duration, duration, plural
from lib.sources import anchor_choices, anchor_relative_times
from lib.ui.frame import kept_widget, md_escape

SMOOTHING_CHOICES: Final = ("EMA", "Moving window", "None")
TIME_AXIS_LABELS: Final[dict[runs.TimeAxis, str]] = {
    "clock": "Clock time",
    "runs": "Runs back to back",
}
NOT_PLACED: Final = "(not placed)"
TABS: Final = (
    ":material/timeline: Over time",
    ":material/stacked_line_chart: By epoch",
    ":material/table: Runs table",
)


@dataclass(frozen=True)
class Smoothing:
    """What the smoothing controls chose, in ``runs.overlay_view``'s terms."""

    method: runs.SmoothMethod
    window: int
    weight: float
    label: str

    @property
    def active(self) -> bool:
        """Whether anything is smoothed (a smoothed line over the faint raw one)."""
        return self.window > 1 if self.method == "rolling" else self.weight > 0.0


def smoothing_ui() -> Smoothing:
    """Smoothing choice for the By epoch chart: TensorBoard's debiased EMA (default) or a moving window."""
    # Stacked, not side by side: in two columns the three choices were cut off on an 800-px page.
    choice = st.segmented_control(
        "Smoothing",
        SMOOTHING_CHOICES,
        **kept_widget("runs_smooth_method", SMOOTHING_CHOICES[0], options=SMOOTHING_CHOICES),
        help="EMA: exponential moving average as TensorBoard draws it (debiased, so the first points "
        "are not pulled towards zero). Moving window: mean of the last N points. The raw curve stays "
        "faintly visible behind.",
    )
    if choice == "Moving window":
        window = st.slider(
            "Points in the moving window",
            min_value=1,
            max_value=15,
            **kept_widget("runs_smoothing", 5),
            help="1 = raw.",
        )
        return Smoothing("rolling", window, 0.0, f"moving window of {window} points")
    if choice == "EMA":
        weight = st.slider(
            "EMA weight",
            min_value=0.0,
            max_value=0.99,
            step=0.01,
            **kept_widget("runs_ema_weight", runs.DEFAULT_EMA_WEIGHT),
            help="0 = raw; closer to 1 = smoother (TensorBoard's slider; its default is 0.6).",
        )
        return Smoothing("ema_debiased", 1, float(weight), f"EMA, weight {weight:.2f}")
    return Smoothing("rolling", 1, 0.0, "none")


def time_axis_ui(default: runs.TimeAxis) -> runs.TimeAxis:
    """Clock time, or runs back to back with idle time compressed (the default for weeks of short runs)."""
    labels = list(TIME_AXIS_LABELS.values())
    chosen = st.segmented_control(
        "Time axis",
        labels,
        **kept_widget("runs_time_axis", TIME_AXIS_LABELS[default], options=labels),
        help="Runs back to back: each run keeps its length and the idle time between runs is compressed "
        "(longer gaps stay longer), so every run has visible width even over weeks.",
    )
    return next((k for k, v in TIME_AXIS_LABELS.items() if v == chosen), default)


def runs_table_view(table: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """The runs table as the page shows it: durations as ``h:mm:ss``, gaps in words, a ⚑ flag column.

    The numbers stay in seconds in the CSV download (``table`` itself is not changed).
    """
    out = table.copy()
    out["duration"] = out["duration_s"].map(clock_duration).astype("str")
    out["gap"] = out["gap_s"].map(duration).astype("str")
    if len(flags):
        by_job = flags.groupby("job", sort=False)
        words = by_job["flag"].agg(lambda f: "; ".join(dict.fromkeys(f))).astype("str")
        why = by_job["explanation"].agg(" ".join).astype("str")
    else:
        words = why = pd.Series([], dtype="str")
    flag = out["job"].map(words.to_dict())
    out["flag"] = [f"{FLAG_ICON} {w}" if isinstance(w, str) else "" for w in flag]
    out["flag_detail"] = [w if isinstance(w, str) else "" for w in out["job"].map(why.to_dict())]
    out = out.astype({"flag": "str", "flag_detail": "str"})
    front = ["job", "flag"]
    rest = [c for c in out.columns if c not in front and c not in ("duration_s", "gap_s", "flag_detail")]
    at = rest.index("end") + 1
    order = [*front, *rest[:at], "duration", "gap", *[c for c in rest[at:] if c not in ("duration", "gap")]]
    return out[[*order, "flag_detail"]]


def runs_table_columns(metric: str) -> dict[str, Any]:
    """Column labels, formats and tooltips for :func:`runs_table_view`."""
    col = st.column_config
    number = "%.4f"
    return {
        "job": col.TextColumn("Run", help="Training-job name", pinned=True),
        "flag": col.TextColumn(
            f"{FLAG_ICON} Flag",
            help="Why the run stands out (details in the last column and under Flags)",
            width="medium",
        ),
        "first": col.NumberColumn("First", format=number, help=f"First {metric} value of the run"),
        "best": col.NumberColumn("Best", format=number, help=f"Best {metric} (max, or min for losses)"),
        "last": col.NumberColumn("Last", format=number, help=f"Final {metric} value"),
        "min": col.NumberColumn("Min", format=number),
        "max": col.NumberColumn("Max", format=number),
        "epoch_at_best": col.NumberColumn("Epoch at best", format="%d"),
        "start": col.DatetimeColumn("Start (UTC)", format="YYYY-MM-DD HH:mm"),
        "end": col.DatetimeColumn("End (UTC)", format="YYYY-MM-DD HH:mm"),
        "duration": col.TextColumn("Duration", help="Training time of the run (h:mm:ss)"),
        "gap": col.TextColumn("Gap", help="Time since the previous run ended"),
        "val_minus_train": col.NumberColumn(
            "Val − train", format="%+.4f", help="Last validation value minus last training value"
        ),
        "instance_type": col.TextColumn("Instance"),
        "n_points": col.NumberColumn("Points", format="%d"),
        "flag_detail": col.TextColumn("Flag details", width="large"),
    }


def anchored_metrics(metrics: pd.DataFrame, jobs: pd.DataFrame | None) -> pd.DataFrame:
    """The session's metrics with relative-time runs placed at their jobs' starts.

    A TrainingJobAnalytics export is named after its file; when that name is not its job's, the
    user says which loaded job it came from (the best guess is preselected and said out loud), so
    the run gets clock times and joins the time chart.
    """
    choices = anchor_choices(metrics, jobs)
    links: dict[str, str] = {}
    if choices.unplaced and choices.candidates:
        options = [NOT_PLACED, *choices.candidates]
        label = (
            f"{plural(len(choices.unplaced), 'run')} with relative times only: "
            "which loaded job did each come from?"
        )
        with st.expander(label, expanded=not choices.suggested, icon=":material/link:"):
            st.caption(
                "TrainingJobAnalytics exports carry no job name, so their runs are named after the file. "
                "Pick the job each came from and the run is placed at that job's start time on the time "
                "chart (with the job's instance type and cost)."
            )
            for run in choices.unplaced:
                chosen = st.selectbox(
                    md_escape(run),
                    options,
                    **kept_widget(
                        f"runs_link::{run}", choices.suggested.get(run, NOT_PLACED), options=options
                    ),
                    help="Jobs loaded from a description, a jobs list or AWS that have no metric rows yet.",
                )
                if chosen != NOT_PLACED:
                    links[run] = chosen
    out = anchor_relative_times(metrics, jobs, links)
    linked = out.attrs.get("linked_runs", {})
    guessed = {run: job for run, job in linked.items() if choices.suggested.get(run) == job}
    if guessed:
        pairs = "; ".join(f"{md_escape(run)} → {md_escape(job)}" for run, job in guessed.items())
        st.caption(
            f":material/link: Placed at the start of the job it names or the only candidate: {pairs}. "
            "Change it in the box above."
        )
    return out
