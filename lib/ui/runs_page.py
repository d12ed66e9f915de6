"""The Training runs page's table columns."""

from __future__ import annotations

from typing import Any

import streamlit as st


def runs_table_columns(metric: str) -> dict[str, Any]:
    """Column labels, formats and tooltips for the runs table (``lib.analysis.runs.RUNS_TABLE_COLUMNS``)."""
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
