"""A drift report rendered: the self-contained HTML page (jinja2 template) and JSON-safe values.

The page carries everything a reader needs offline: the verdict counts and rule, a per-column table
with a distribution sparkline per column, one overlay chart per column, the multivariate result, the
window heat map when one was computed, the data-quality signals and how the report was made. Charts
are inline SVG drawn here in Python (no scripts, no fonts or images fetched); every text from the data
goes through ``markupsafe.escape`` (SVG) or jinja2's autoescape (HTML).
"""

from __future__ import annotations

import importlib.metadata
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from lib.drift.overlay import binned_overlay

if TYPE_CHECKING:
    from lib.drift.multivariate import MultivariateResult
    from lib.drift.report import DriftReport
    from lib.drift.windows import WindowReport


#: Columns of the per-column table in the HTML report, in order, with their readable headers
#: (the same words as the app's table).
HTML_COLUMNS: Final = (
    "column",
    "status",
    "kind",
    "test_label",
    "effect_size",
    "effect_interval",
    "effect_threshold",
    "min_detectable_effect",
    "p_adjusted",
    "p_method",
    "statistic",
    "reason",
)
HTML_HEADERS: Final = {
    "column": "Column",
    "status": "Verdict",
    "kind": "Kind",
    "test_label": "Test",
    "effect_size": "Effect",
    "effect_interval": "Effect 95 % interval",
    "effect_threshold": "Threshold",
    "min_detectable_effect": "Smallest detectable",
    "p_adjusted": "Adjusted p",
    "p_method": "p from",
    "statistic": "Statistic",
    "reason": "Why",
}
#: Verdicts in the order the summary counts them.
STATUS_ORDER: Final = (
    "drift",
    "negligible",
    "no drift",
    "not detected",
    "could not tell",
    "too small to judge",
    "not tested",
)
#: Reference blue, current orange: the app's drift colours (``lib.charts.drift.DRIFT_COLORS``).
SIDE_COLORS: Final = {"reference": "#4c78a8", "current": "#f58518"}
#: Kinds that get a distribution chart.
CHARTED_KINDS: Final = ("numeric", "categorical", "boolean")


def format_cell(value: Any) -> str:
    """A table cell as text: blank for missing, 4 significant digits for floats."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def tool_version() -> str:
    """Driftwatch's version: the installed distribution's, else the checkout's ``pyproject.toml``."""
    try:
        return importlib.metadata.version("driftwatch")
    except importlib.metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        text = pyproject.read_text() if pyproject.exists() else ""
        found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
        return found.group(1) if found else "unknown"


# ---------------------------------------------------------------- inline SVG


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _tick(value: float) -> str:
    """An axis label: thousands separated for large numbers, 3 significant digits otherwise."""
    if math.isfinite(value) and 1e3 <= abs(value) < 1e9:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sides(overlay: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    ref = overlay.loc[overlay["side"] == "reference"].reset_index(drop=True)
    cur = overlay.loc[overlay["side"] == "current"].reset_index(drop=True)
    numeric = bool(len(overlay)) and bool(overlay["bin_start"].notna().all())
    return ref, cur, numeric


def _step_path(shares: Sequence[float], x0: float, width: float, y0: float, height: float, top: float) -> str:
    """An SVG path of a histogram outline (steps) closed to the baseline."""
    n = len(shares)
    step = width / max(n, 1)
    points = [f"M{_num(x0)},{_num(y0 + height)}"]
    for i, share in enumerate(shares):
        y = y0 + height - (share / top) * height if top > 0 else y0 + height
        points.append(f"L{_num(x0 + i * step)},{_num(y)}L{_num(x0 + (i + 1) * step)},{_num(y)}")
    points.append(f"L{_num(x0 + width)},{_num(y0 + height)}Z")
    return "".join(points)


def sparkline_svg(overlay: pd.DataFrame, column: str, *, width: int = 120, height: int = 28) -> Markup:
    """A tiny reference-vs-current distribution (:func:`binned_overlay` shares) as inline SVG.

    Numbers: the two histograms as outlines (reference filled blue, current an orange line);
    categories: paired bars per category. Empty overlays give an empty string.
    """
    ref, cur, numeric = _sides(overlay)
    if ref.empty:
        return Markup("")
    top = float(max(ref["share"].max(), cur["share"].max(), 1e-12))
    label = escape(f"{column}: reference (blue) against current (orange)")
    parts = [
        f'<svg class="spark" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img"><title>{label}</title>'
    ]
    if numeric:
        ref_path = _step_path(ref["share"].tolist(), 0, width, 1, height - 2, top)
        cur_path = _step_path(cur["share"].tolist(), 0, width, 1, height - 2, top)
        ref_color, cur_color = SIDE_COLORS["reference"], SIDE_COLORS["current"]
        parts.append(f'<path d="{ref_path}" fill="{ref_color}" fill-opacity="0.45" stroke="none"/>')
        parts.append(f'<path d="{cur_path}" fill="none" stroke="{cur_color}" stroke-width="1.5"/>')
    else:
        n = len(ref)
        slot = width / n
        bar = max(slot / 2 - 0.5, 0.5)
        for i in range(n):
            for j, (side, frame) in enumerate((("reference", ref), ("current", cur))):
                h = float(frame["share"].iloc[i]) / top * (height - 2)
                x = i * slot + j * bar
                parts.append(
                    f'<rect x="{_num(x)}" y="{_num(height - 1 - h)}" width="{_num(bar)}" '
                    f'height="{_num(h)}" fill="{SIDE_COLORS[side]}"/>'
                )
    parts.append(
        f'<line x1="0" y1="{height - 1}" x2="{width}" y2="{height - 1}" stroke="#999" stroke-width="0.5"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(x: float, y: float) -> list[str]:
    out = []
    for i, side in enumerate(("reference", "current")):
        dx = x + i * 100
        opacity = ' fill-opacity="0.45"' if side == "reference" else ""
        out.append(
            f'<rect x="{_num(dx)}" y="{_num(y - 9)}" width="12" height="10" '
            f'fill="{SIDE_COLORS[side]}"{opacity}/>'
            f'<text x="{_num(dx + 16)}" y="{_num(y)}">{side}</text>'
        )
    return out


def overlay_svg(overlay: pd.DataFrame, column: str, *, width: int = 560, height: int = 220) -> Markup:
    """Reference against current for one column as an inline SVG chart: shares per bin (numbers,
    overlaid histograms) or per category (paired bars), y axis in percent, a legend and x labels."""
    ref, cur, numeric = _sides(overlay)
    if ref.empty:
        return Markup('<p class="muted">No values to chart.</p>')
    left, right, top_pad = 48, 12, 24
    bottom = 36 if numeric else 70
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = float(max(ref["share"].max(), cur["share"].max(), 1e-12))
    unit = "bin" if numeric else "category"
    label = escape(f"{column}: share of rows per {unit}, reference against current")
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-size="11" font-family="system-ui,sans-serif">'
        f"<title>{label}</title>",
        *_legend(left, 13),
    ]
    # y axis: 0, half and the top share, as percentages
    for frac in (0.0, 0.5, 1.0):
        y = top_pad + plot_h - frac * plot_h
        parts.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}" stroke="#e3e3e3"/>'
            f'<text x="{left - 4}" y="{_num(y + 4)}" text-anchor="end">{frac * top:.0%}</text>'
        )
    base = top_pad + plot_h
    if numeric:
        for side, frame, extra in (
            ("reference", ref, 'fill-opacity="0.45" stroke="none"'),
            ("current", cur, 'fill="none" stroke-width="2"'),
        ):
            path = _step_path(frame["share"].tolist(), left, plot_w, top_pad, plot_h, top)
            paint = f'fill="{SIDE_COLORS[side]}"' if side == "reference" else f'stroke="{SIDE_COLORS[side]}"'
            parts.append(f'<path d="{path}" {paint} {extra}/>')
        starts, ends = ref["bin_start"], ref["bin_end"]
        edges = [float(starts.iloc[0]), float(ends.iloc[len(ref) // 2 - 1]), float(ends.iloc[-1])]
        for frac, value, anchor in zip((0.0, 0.5, 1.0), edges, ("start", "middle", "end"), strict=True):
            parts.append(
                f'<text x="{_num(left + frac * plot_w)}" y="{base + 16}" '
                f'text-anchor="{anchor}">{_tick(value)}</text>'
            )
    else:
        n = len(ref)
        slot = plot_w / n
        bar = max(slot * 0.4, 1.0)
        for i in range(n):
            for j, (side, frame) in enumerate((("reference", ref), ("current", cur))):
                share = float(frame["share"].iloc[i])
                h = share / top * plot_h
                x = left + i * slot + slot * 0.1 + j * bar
                parts.append(
                    f'<rect x="{_num(x)}" y="{_num(base - h)}" width="{_num(bar)}" height="{_num(h)}" '
                    f'fill="{SIDE_COLORS[side]}"><title>{escape(str(ref["bin"].iloc[i]))}, {side}: '
                    f"{share:.1%}</title></rect>"
                )
            cx = left + (i + 0.5) * slot
            text = escape(_short(str(ref["bin"].iloc[i]), 14))
            parts.append(
                f'<text x="{_num(cx)}" y="{base + 12}" text-anchor="end" '
                f'transform="rotate(-35 {_num(cx)} {base + 12})">{text}</text>'
            )
    parts.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#666"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_svg(value: float, top: float, *, width: int = 120, height: int = 12) -> Markup:
    """A single horizontal bar (``value`` of ``top``), for importance columns."""
    w = 0.0 if top <= 0 or not math.isfinite(value) else max(min(value / top, 1.0), 0.0) * width
    return Markup(
        f'<svg class="bar" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect x="0" y="1" width="{_num(w)}" height="{height - 2}" '
        f'fill="{SIDE_COLORS["current"]}"/></svg>'
    )


def heat_color(effect: float, top: float) -> str:
    """Style of a heat-map cell: background white (no effect) to red (``top`` or more), with a
    text colour that stays readable on it."""
    if not math.isfinite(effect) or top <= 0:
        return "background:#f3f3f3"
    t = max(min(effect / top, 1.0), 0.0)
    r, g, b = round(255 - t * 55), round(245 - t * (245 - 40)), round(235 - t * (235 - 30))
    return f"background:#{r:02x}{g:02x}{b:02x};color:{'#fff' if t > 0.55 else '#222'}"


# ---------------------------------------------------------------- the page


def _column_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The table's records, with the effect interval as one text."""
    rows: list[dict[str, Any]] = []
    for raw in table.to_dict("records"):
        record = {str(k): v for k, v in raw.items()}
        low, high = format_cell(record.get("effect_low")), format_cell(record.get("effect_high"))
        record["effect_interval"] = f"{low} – {high}" if low and high else ""
        rows.append(record)
    return rows


def _verdict_counts(table: pd.DataFrame) -> list[tuple[str, int]]:
    """Columns per verdict (a column's first row: the table is sorted drifted first)."""
    per_column = table.drop_duplicates("column")["status"].value_counts()
    known = [(s, int(per_column[s])) for s in STATUS_ORDER if s in per_column.index]
    other = [(str(s), int(n)) for s, n in per_column.items() if s not in STATUS_ORDER]
    return known + other


def _overlays(report: DriftReport, reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, pd.DataFrame]:
    out = {}
    for column in dict.fromkeys(report.table.loc[report.table["status"] != "not tested", "column"]):
        kind = report.kinds.get(column)
        if kind in CHARTED_KINDS and column in reference.columns and column in current.columns:
            out[column] = binned_overlay(reference, current, column, kind)
    return out


def _heat_map(windows: WindowReport) -> dict[str, Any]:
    first = windows.table.drop_duplicates(["window", "column"])
    columns = (
        first.groupby("column", sort=False)["effect_size"].mean().sort_values(ascending=False).index.tolist()
    )
    top = 2 * float(first["effect_threshold"].max() or 0.1)
    cells = {(r["window"], r["column"]): r for r in first.to_dict("records")}
    rows = []
    for window in windows.windows["window"]:
        row = []
        for column in columns:
            cell = cells.get((window, column))
            if cell is None:
                row.append({"text": "", "style": "background:#f3f3f3", "title": "", "drifted": False})
                continue
            effect = float(cell["effect_size"]) if cell["effect_size"] is not None else math.nan
            row.append(
                {
                    "text": format_cell(effect) if math.isfinite(effect) else "",
                    "style": heat_color(effect, top),
                    "title": f"{window} · {column}: {cell['reason']}",
                    "drifted": bool(cell["drifted"]),
                }
            )
        rows.append({"window": window, "cells": row})
    return {"columns": columns, "rows": rows, "top": top, "rule": windows.rule}


_ENV: Final = jinja2.Environment(
    loader=jinja2.PackageLoader("lib.drift", "templates"),
    autoescape=True,  # names and values come from user data
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["cell"] = format_cell


def report_html(
    report: DriftReport,
    *,
    reference: pd.DataFrame | None = None,
    current: pd.DataFrame | None = None,
    windows: WindowReport | None = None,
    multivariate: MultivariateResult | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The report as a self-contained HTML page (``templates/report.html.j2``; inline CSS and SVG).

    Parameters
    ----------
    report : DriftReport
    reference, current : pandas.DataFrame, optional
        The compared tables: with both, every tested column gets a sparkline and an overlay chart
        (binned shares; no raw rows are written into the page).
    windows : WindowReport, optional
        A window × column comparison, drawn as a heat map.
    multivariate : MultivariateResult, optional
        Domain-classifier result; default ``report.multivariate``.
    generated_at : datetime, optional
        Time stamped in the page (default: now, UTC).
    """
    signals = report.signals
    flagged = signals.loc[signals["flagged"]] if len(signals) else signals
    overlays = _overlays(report, reference, current) if reference is not None and current is not None else {}
    mv = multivariate if multivariate is not None else report.multivariate
    importance = None
    if mv is not None and len(mv.importance):
        top = float(mv.importance["importance"].max())
        importance = [
            {"column": r["column"], "value": r["importance"], "bar": bar_svg(float(r["importance"]), top)}
            for r in mv.importance.to_dict("records")
        ]
    charted = list(overlays)
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC)
    return _ENV.get_template("report.html.j2").render(
        report=report,
        rows=_column_rows(report.table),
        flagged=flagged,
        n_signals=len(signals),
        column_fields=list(HTML_COLUMNS),
        headers=HTML_HEADERS,
        counts=_verdict_counts(report.table),
        n_columns=int(report.table["column"].nunique()),
        sparks={c: sparkline_svg(o, c) for c, o in overlays.items()},
        charts=[
            {"column": c, "anchor": f"col-{i}", "svg": overlay_svg(overlays[c], c)}
            for i, c in enumerate(charted)
        ],
        anchors={c: f"col-{i}" for i, c in enumerate(charted)},
        reference_columns=None if reference is None else reference.shape[1],
        current_columns=None if current is None else current.shape[1],
        mv=mv,
        importance=importance,
        heat=_heat_map(windows) if windows is not None and len(windows.table) else None,
        generated=stamp.strftime("%Y-%m-%d %H:%M:%S UTC"),
        version=tool_version(),
        side_colors=SIDE_COLORS,
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
