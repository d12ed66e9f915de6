"""The only Streamlit code: the page frame (``lib.ui.frame``), download buttons, one controller per page.

``from lib import ui`` gives the frame every page uses (``ui.setup_page``, ``ui.friendly_errors``,
``ui.csv_download`` …); page controllers are imported by name, e.g. ``from lib.ui import drift_page``.
"""

from lib.ui.chart_cache import LazyChart, show_chart
from lib.ui.downloads import Download, chart_downloads, csv_download, download_row
from lib.ui.frame import (
    ICON,
    PAGES,
    STATE_DEFAULTS,
    PageLink,
    demo_data,
    friendly_errors,
    init_state,
    kept_widget,
    md_escape,
    md_literal,
    merge_into_session,
    page_link_for,
    remember_session,
    restore_session,
    session_store,
    setup_page,
    show_error,
    sidebar,
    sidebar_data,
    source_entry,
)

__all__ = [
    "ICON",
    "PAGES",
    "STATE_DEFAULTS",
    "Download",
    "LazyChart",
    "PageLink",
    "chart_downloads",
    "csv_download",
    "demo_data",
    "download_row",
    "friendly_errors",
    "init_state",
    "kept_widget",
    "md_escape",
    "md_literal",
    "merge_into_session",
    "page_link_for",
    "remember_session",
    "restore_session",
    "session_store",
    "setup_page",
    "show_chart",
    "show_error",
    "sidebar",
    "sidebar_data",
    "source_entry",
]
