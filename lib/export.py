"""Downloads: CSV that is safe to open in a spreadsheet, and charts as PNG/SVG (offline, vl-convert)."""

from __future__ import annotations

import copy
from typing import Any, Final

import altair as alt
import pandas as pd
import vl_convert as vlc

from lib.schema import to_utc

#: OWASP CSV-injection rule: cells starting with these are formulas to Excel/LibreOffice/Sheets.
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
#: Width used for charts sized to their container (a file has no container).
EXPORT_WIDTH: Final = 800
_ISO_UTC: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


def _neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of ``frame`` for a download button, safe against spreadsheet formula injection.

    Every text cell and header that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading ``'`` (the OWASP rule), so ``=HYPERLINK(...)`` in a job name stays text. Numeric
    columns are written as numbers, negative ones included. Timestamps become ISO 8601 UTC
    (``2026-11-02T09:14:07.123000Z``); naive ones are taken as UTC. Rows end in CRLF (RFC 4180); the
    index is not written.
    """
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        series = frame[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series.dtype):
            stamps = to_utc(series)
            out[col] = stamps.dt.strftime(_ISO_UTC).astype("object").where(stamps.notna(), None)
        elif pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
            out[col] = series
        else:
            out[col] = series.astype("object").map(_neutralise)
    out.columns = [str(_neutralise(str(c))) for c in frame.columns]
    # CRLF (RFC 4180) also makes the writer quote cells that contain a bare CR, which "\n" would not.
    return out.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def _fixed_width(spec: Any, width: int) -> Any:
    """Copy of a Vega-Lite spec with ``width: "container"`` replaced by ``width`` pixels."""
    if isinstance(spec, dict):
        return {
            k: (width if k == "width" and v == "container" else _fixed_width(v, width))
            for k, v in spec.items()
        }
    if isinstance(spec, list):
        return [_fixed_width(v, width) for v in spec]
    return copy.copy(spec)


def _export_spec(chart: alt.TopLevelMixin, width: int) -> dict[str, Any]:
    spec = dict(_fixed_width(chart.to_dict(), width))
    # In the app a chart may fit itself to the page ("fit-x"); a file gets the fixed width plus axes.
    spec.pop("autosize", None)
    return spec


def _vl_version() -> str:
    # vl-convert names versions like "6.4"; Altair's SCHEMA_VERSION is "v6.4.1".
    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return major_minor if major_minor in vlc.get_vegalite_versions() else vlc.get_vegalite_versions()[-1]


def chart_png(chart: alt.TopLevelMixin, *, scale: float = 2, width: int = EXPORT_WIDTH) -> bytes:
    """Render ``chart`` (with the data it holds) to PNG bytes, offline.

    Parameters
    ----------
    chart
        Any Altair top-level chart.
    scale
        Pixel density (2 = sharp on high-DPI screens and slides).
    width
        Pixels used where the chart says ``width="container"``.
    """
    return bytes(vlc.vegalite_to_png(_export_spec(chart, width), vl_version=_vl_version(), scale=scale))


def chart_svg(chart: alt.TopLevelMixin, *, width: int = EXPORT_WIDTH) -> str:
    """Render ``chart`` to an SVG document (text, escaped: job names cannot inject markup)."""
    return str(vlc.vegalite_to_svg(_export_spec(chart, width), vl_version=_vl_version()))
