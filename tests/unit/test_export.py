"""lib.export: spreadsheet-safe CSV and offline PNG/SVG of charts."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from lib import charts, export
from lib.schema import validate_metrics


def _read(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


@pytest.mark.parametrize("cell", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_formula_cells_are_neutralised(cell: str) -> None:
    out = _read(export.to_csv_bytes(pd.DataFrame({"job": [cell, "ok"]})))
    assert out["job"].tolist() == ["'" + cell, "ok"]


def test_formula_headers_are_neutralised() -> None:
    out = _read(export.to_csv_bytes(pd.DataFrame({"=cmd": [1], "fine": [2]})))
    assert out.columns.tolist() == ["'=cmd", "fine"]


def test_negative_numbers_stay_numbers() -> None:
    frame = pd.DataFrame(
        {
            "value": [-0.25, 1.5],
            "gap": pd.array([-3, None], dtype="Int64"),
            "count": [-1, 2],
            "text": ["-0.25", "a-b"],
        }
    )
    text = export.to_csv_bytes(frame).decode("utf-8")
    assert text.splitlines() == ["value,gap,count,text", "-0.25,-3,-1,'-0.25", "1.5,,2,a-b"]


def test_timestamps_iso_utc_and_naive_taken_as_utc() -> None:
    frame = pd.DataFrame(
        {
            "aware": pd.to_datetime(["2026-11-02 10:00:00.123+01:00", None], utc=True),
            "naive": pd.to_datetime(["2026-11-02 09:00:00", "2026-11-03 00:00:00"]),
        }
    )
    out = _read(export.to_csv_bytes(frame))
    assert out["aware"].tolist() == ["2026-11-02T09:00:00.123000Z", ""]
    assert out["naive"].tolist() == ["2026-11-02T09:00:00.000000Z", "2026-11-03T00:00:00.000000Z"]


def test_canonical_frame_round_trips(metrics: pd.DataFrame) -> None:
    frame = metrics.assign(job=metrics["job"] + " ünïcode")
    back = validate_metrics(pd.read_csv(io.BytesIO(export.to_csv_bytes(frame))))
    pd.testing.assert_frame_equal(back, frame)


def test_chart_png_magic_bytes(metrics: pd.DataFrame) -> None:
    png = export.chart_png(charts.accuracy_over_time(metrics), scale=1)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    assert width > export.EXPORT_WIDTH  # the container width became real pixels (+ legend)


def test_chart_svg_root_and_escaped_job_names(metrics: pd.DataFrame) -> None:
    hostile = metrics.assign(job=metrics["job"].map({"run-a": "<b>bold</b>", "run-b": "run-b"}))
    svg = export.chart_svg(charts.accuracy_over_time(hostile))
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<b>" not in svg
    assert "&lt;b&gt;bold&lt;/b&gt;" in svg
    texts = [el.text for el in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "<b>bold</b>" in texts  # the legend label, as text not markup


def test_export_does_not_change_the_chart(metrics: pd.DataFrame) -> None:
    chart = charts.accuracy_over_time(metrics)
    before = chart.to_dict()
    export.chart_svg(chart)
    assert chart.to_dict() == before
