"""The HTML drift report: every section a reader needs, self-contained, and data shown as text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape

from lib.drift import binned_overlay, compare, compare_windows, domain_classifier
from lib.drift.render import HTML_COLUMNS, HTML_HEADERS, heat_color, overlay_svg, sparkline_svg, tool_version


def _frames(
    n: int = 400, seed: int = 5, names: dict[str, str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-05-01", tz="UTC")

    def side(shift: float, pink: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "moved": rng.normal(shift, 1, n),
                "stable": rng.normal(0, 1, n),
                "colour": rng.choice(["red", "blue", "pink"], n, p=[(1 - pink) / 2, (1 - pink) / 2, pink]),
                "when": start + pd.to_timedelta(rng.integers(0, 4 * 24, n), unit="h"),
            }
        ).rename(columns=names or {})

    return side(0.0, 0.0), side(0.7, 0.2)


def _tags(page: str) -> set[str]:
    return set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", page))


def test_full_report_has_every_section_and_a_chart_per_column() -> None:
    ref, cur = _frames()
    report = compare(ref, cur, timestamp="when", multivariate=True, reference_name="april.csv")
    windows = compare_windows(ref, cur, timestamp="when", freq="D")
    when = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    page = report.to_html(ref, cur, windows=windows, generated_at=when)
    for heading in ("Summary", "Columns", "Distributions", "Multivariate drift", "Drift per window",
                    "Data-quality signals", "How this report was made"):  # fmt: skip
        assert f">{heading}</h2>" in page
    # verdict counts: one tile per verdict, the drifted tile says how many
    assert re.search(r'class="tile drift"><b>2</b>drift</div>', page)
    # readable headers, not field names
    for label in ("Verdict", "Effect 95 % interval", "Smallest detectable", "Adjusted p", "Why"):
        assert label in page
    assert "min_detectable_effect" not in page
    # a sparkline in the table and an overlay chart per tested column
    assert page.count('<svg class="spark"') == 3
    assert page.count('<svg class="chart"') == 3
    assert page.count('<figure id="col-') == 3
    # the heat map has one row per window
    assert page.count("<tr><th>2024-05-0") == len(windows.windows)
    # generation metadata
    assert "2026-11-28 09:30:00 UTC" in page
    assert f"Driftwatch {tool_version()}" in page
    assert "april.csv · 400 rows × 4 columns" in page
    assert "timestamp: when" in page


def test_without_frames_the_report_still_renders_its_tables() -> None:
    ref, cur = _frames()
    page = compare(ref, cur, timestamp="when").to_html()
    assert "<svg" not in page
    assert ">Columns</h2>" in page
    assert ">Distributions</h2>" not in page
    assert ">Drift per window</h2>" not in page
    assert ">Multivariate drift</h2>" not in page


def test_multivariate_passed_in_is_shown() -> None:
    ref, cur = _frames()
    report = compare(ref, cur, timestamp="when")
    mv = domain_classifier(ref, cur, columns=["moved", "stable", "colour"], kinds={"colour": "categorical"})
    page = report.to_html(ref, cur, multivariate=mv)
    assert ">Multivariate drift</h2>" in page
    assert f"{mv.auc:.3f}" in page
    assert page.count('<svg class="bar"') == len(mv.importance)


@pytest.mark.parametrize(
    "name",
    ["<script>alert(1)</script>", '=HYPERLINK("http://evil.example","x")', "a&b\"'<i>"],
)
def test_names_from_the_data_are_text_never_markup(name: str) -> None:
    ref, cur = _frames(names={"moved": name})
    category = "<img src=x onerror=alert(2)>"
    ref["colour"] = ref["colour"].replace("red", category)
    cur["colour"] = cur["colour"].replace("red", category)
    report = compare(ref, cur, timestamp="when", reference_name=name, current_name="<b>cur</b>")
    windows = compare_windows(ref, cur, timestamp="when", freq="D")
    page = report.to_html(ref, cur, windows=windows)
    assert _tags(page) <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "b", "div",
                           "span", "table", "thead", "tbody", "tr", "th", "td", "a", "svg", "path", "rect",
                           "line", "text", "figure", "figcaption", "dl", "dt", "dd"}  # fmt: skip
    assert "<script" not in page
    assert "<img" not in page
    assert "<i>" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page  # the category, in the chart's labels
    assert str(escape(name)) in page  # & < > " ' as entities: shown literally, formulas as plain text


def test_the_page_requests_nothing_from_outside() -> None:
    ref, cur = _frames()
    page = compare(ref, cur, timestamp="when", multivariate=True).to_html(
        ref, cur, windows=compare_windows(ref, cur, timestamp="when", freq="D")
    )
    assert "src=" not in page
    assert "url(" not in page
    assert "@import" not in page
    assert "http://" not in page
    assert "https://" not in page
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', page))


def test_sparkline_and_overlay_draw_both_sides() -> None:
    ref, cur = _frames()
    numbers = binned_overlay(ref, cur, "moved", "numeric", bins=10)
    spark = sparkline_svg(numbers, "moved")
    assert spark.count("<path") == 2
    assert "#4c78a8" in spark
    assert "#f58518" in spark
    chart = overlay_svg(numbers, "moved")
    assert ">reference</text>" in chart
    assert ">current</text>" in chart
    assert chart.count("<path") == 2
    cats = binned_overlay(ref, cur, "colour", "categorical")
    bars = overlay_svg(cats, "colour")
    assert bars.count("<rect") == 2 + 2 * 3  # legend swatches + a bar per side and category
    assert ">pink</text>" in bars
    assert overlay_svg(numbers.iloc[:0], "moved") == '<p class="muted">No values to chart.</p>'


def test_heat_color_runs_from_pale_to_red_with_readable_text() -> None:
    assert heat_color(0.0, 0.2).startswith("background:#fff5eb")
    assert heat_color(0.4, 0.2).endswith("color:#fff")
    assert heat_color(float("nan"), 0.2) == "background:#f3f3f3"


def test_headers_cover_every_table_field() -> None:
    assert set(HTML_COLUMNS) == set(HTML_HEADERS)
