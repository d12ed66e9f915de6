"""Real browser: the HTML drift report downloaded from the app opens offline and shows its charts."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.conftest import AppServer
from tests.e2e.test_e2e_browser import TIMEOUT, no_exception, open_page, wait_idle

pytestmark = pytest.mark.e2e
SHOTS = Path("test-results")


def download_report(page: Page, server: AppServer, target: Path) -> None:
    open_page(page, server, "Input_drift")
    page.get_by_role("tab", name="Over time").click()  # the heat map is computed: the report includes it
    heat = page.get_by_test_id("stVegaLiteChart").filter(has_text="Drift per column and window")
    expect(heat).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("tab", name="Export").click()
    wait_idle(page)
    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("button", name="HTML report").click()
    info.value.save_as(target)


def test_html_report_opens_offline_with_visible_charts(
    page: Page, app_server: AppServer, tmp_path: Path
) -> None:
    target = tmp_path / "drift-report.html"
    download_report(page, app_server, target)
    no_exception(page)
    url = target.resolve().as_uri()
    outside: list[str] = []

    def block(route: Route, request: Request) -> None:
        if request.url == url:
            route.continue_()
        else:  # anything else would go to the outside: refuse it (the listener below records it)
            route.abort()

    report = page.context.new_page()
    report.route("**/*", block)
    report.on("request", lambda r: None if r.url == url else outside.append(r.url))
    report.goto(url)
    expect(report.get_by_role("heading", level=1)).to_contain_text("Drift report")
    for heading in ("Summary", "Columns", "Distributions", "Multivariate drift", "Drift per window"):
        expect(report.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    charts = report.locator("svg.chart")
    sparks = report.locator("svg.spark")
    assert charts.count() == 8  # one per tested column of the demo
    assert sparks.count() == 8
    for locator in (charts, sparks):
        for i in range(locator.count()):
            item = locator.nth(i)
            item.scroll_into_view_if_needed()
            expect(item).to_be_visible()
            box = item.bounding_box()
            assert box is not None
            assert box["width"] > 0
            assert box["height"] > 0
            # the chart drew marks, not an empty frame
            assert item.locator("path, rect").count() > 0
    expect(report.locator("table.heat td").first).to_be_visible()
    report.wait_for_timeout(500)
    assert outside == []
    SHOTS.mkdir(exist_ok=True)
    report.screenshot(path=str(SHOTS / "drift-report-html.png"), full_page=True)
    report.close()
