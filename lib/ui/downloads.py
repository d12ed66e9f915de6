"""Download buttons: formula-safe CSV, chart PNG/SVG, report files; built only when clicked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from lib import export


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
    """A compact row of download buttons, ``<base_name>.<extension>`` each (keys ``<key>_<ext>``).

    A horizontal container sized to the labels (wrapping to a new line when the window is narrow),
    not equal columns: a column narrower than its label cuts it to "P…".
    """
    with st.container(horizontal=True, gap="small", key=f"{key}_row"):
        for item in items:
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
