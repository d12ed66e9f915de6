"""A drift report rendered: the self-contained HTML page (jinja2 template) and JSON-safe values."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

import jinja2
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from lib.drift.report import DriftReport


#: Columns of the per-column table in the HTML report, in order.
HTML_COLUMNS: Final = (
    "column",
    "kind",
    "test_label",
    "statistic",
    "p_adjusted",
    "p_method",
    "effect_size",
    "effect_low",
    "effect_high",
    "effect_threshold",
    "min_detectable_effect",
    "status",
    "reason",
)


def format_cell(value: Any) -> str:
    """A table cell as text: blank for missing, 4 significant digits for floats."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


_ENV: Final = jinja2.Environment(
    loader=jinja2.PackageLoader("lib.drift", "templates"),
    autoescape=True,  # names and values come from user data
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["cell"] = format_cell


def report_html(report: DriftReport) -> str:
    """The report as a self-contained HTML page (``templates/report.html.j2``; inline CSS, no scripts)."""
    signals = report.signals
    flagged = signals.loc[signals["flagged"]] if len(signals) else signals
    return _ENV.get_template("report.html.j2").render(
        report=report, flagged=flagged, column_fields=list(HTML_COLUMNS)
    )


def json_clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): json_clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
