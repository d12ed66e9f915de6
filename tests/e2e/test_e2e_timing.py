"""Real browser: the Timing & cost and Model Monitor pages render their charts and take real uploads."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import AppServer
from tests.e2e.test_e2e_browser import PAGE_URLS, TIMEOUT, no_exception, open_page, wait_idle
from tests.support.paths import DATA

pytestmark = pytest.mark.e2e

SHOTS = Path("test-results")


def test_timing_page_renders_cost_phase_and_drift_charts_on_demo(page: Page, app_server: AppServer) -> None:
    open_page(page, app_server, PAGE_URLS["Timing & cost"])
    expect(page.get_by_role("heading", name="Timing & cost")).to_be_visible(timeout=TIMEOUT)
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts.first.locator("canvas, svg").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stMetric").filter(has_text="Total cost")).to_be_visible()
    no_exception(page)
    page.screenshot(path=str(SHOTS / "timing-runs-demo.png"))
    page.get_by_role("tab", name="Timing drift").click()
    wait_idle(page)
    expect(page.get_by_text("No change point", exact=False)).to_be_visible(timeout=TIMEOUT)
    no_exception(page)
    page.screenshot(path=str(SHOTS / "timing-drift-demo.png"))
    page.get_by_role("tab", name="Endpoint latency").click()
    wait_idle(page)
    expect(page.get_by_text("change point along", exact=False)).to_be_visible(timeout=TIMEOUT)
    no_exception(page)
    page.screenshot(path=str(SHOTS / "timing-latency-demo.png"))


def test_model_monitor_page_demo_then_real_capture_upload(
    page: Page, app_server: AppServer, tmp_path: Path
) -> None:
    open_page(page, app_server, PAGE_URLS["Model Monitor"])
    expect(page.get_by_text("You are looking at demo artifacts")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stMetric").filter(has_text="Bad records")).to_contain_text("3")
    no_exception(page)
    page.screenshot(path=str(SHOTS / "monitor-demo.png"))
    capture = tmp_path / "my-capture.jsonl"
    capture.write_bytes((DATA / "model_monitor" / "data_capture_sample.jsonl").read_bytes())
    # Three uploaders on this page (capture, statistics, constraints): use the capture one.
    page.get_by_test_id("stFileUploader").first.locator('input[type="file"]').set_input_files(capture)
    wait_idle(page)
    expect(page.get_by_text("You are looking at demo artifacts")).to_have_count(0, timeout=TIMEOUT)
    expect(page.get_by_test_id("stMetric").filter(has_text="Records read")).to_contain_text("6")
    no_exception(page)
    page.get_by_role("tab", name="Baseline").click()
    wait_idle(page)
    expect(page.get_by_text("Upload a baseline statistics.json", exact=False)).to_be_visible()
    page.screenshot(path=str(SHOTS / "monitor-upload.png"))
