"""Real browser: the drift pages render their charts on the demo, and a real upload flow works."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lib.demo import drift as demo_drift
from tests.conftest import AppServer
from tests.e2e.test_e2e_browser import TIMEOUT, no_exception, open_page, wait_idle

pytestmark = pytest.mark.e2e
SHOTS = Path("test-results")


def chart_visible(page: Page) -> None:
    expect(page.get_by_test_id("stVegaLiteChart").first.locator("canvas, svg").first).to_be_visible(
        timeout=TIMEOUT
    )


def test_input_drift_demo_renders_overlay_and_heat_map(page: Page, app_server: AppServer) -> None:
    open_page(page, app_server, "Input_drift")
    expect(page.get_by_text("You are looking at demo data")).to_be_visible()
    chart_visible(page)
    expect(page.get_by_test_id("stMetric").filter(has_text="Columns drifted")).to_contain_text("4 of 8")
    page.get_by_role("tab", name="Over time").click()
    heat = page.get_by_test_id("stVegaLiteChart").filter(has_text="Drift per column and window")
    expect(heat.locator("canvas, svg").first).to_be_visible(timeout=TIMEOUT)
    wait_idle(page)
    no_exception(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "drift-heat-map.png"))
    heat.screenshot(path=str(SHOTS / "drift-heat-map-chart.png"))
    page.get_by_role("tab", name="Multivariate").click()
    expect(page.get_by_text("Either check fires at")).to_be_visible(timeout=TIMEOUT)
    wait_idle(page)
    no_exception(page)
    page.get_by_role("tabpanel").filter(has_text="Either check fires at").screenshot(
        path=str(SHOTS / "drift-multivariate.png")
    )


def test_one_side_waits_for_the_other_both_survive_a_reload_and_back_to_demo_restores(
    page: Page, app_server: AppServer, tmp_path: Path
) -> None:
    current = demo_drift.demo_current(400).assign(income=lambda f: f["income"] * 3)
    reference = demo_drift.demo_reference(500)
    cur_path, ref_path = tmp_path / "may-production.csv", tmp_path / "april-train.csv"
    current.to_csv(cur_path, index=False)
    reference.to_csv(ref_path, index=False)
    open_page(page, app_server, "Input_drift")
    uploaders = page.get_by_test_id("stFileUploader")
    uploaders.nth(1).locator('input[type="file"]').set_input_files(cur_path)
    wait_idle(page)
    expect(page.get_by_text("Current loaded; now add the reference data.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stMetric")).to_have_count(0)  # not tested against the demo
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("waiting for the reference")).to_be_visible()
    uploaders.nth(0).locator('input[type="file"]').set_input_files(ref_path)
    wait_idle(page)
    expect(page.get_by_test_id("stAlertContainer").filter(has_text="Current:")).to_contain_text("400 rows")
    chart_visible(page)
    expect(sidebar.get_by_test_id("stAlertContainer")).to_contain_text("reference april-train.csv (500 rows)")
    no_exception(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "drift-upload.png"))

    assert "session=" in page.url
    page.reload()  # a new browser session: the data comes back from the server-side store
    expect(page.get_by_test_id("stAlertContainer").filter(has_text="Current:")).to_contain_text(
        "may-production.csv", timeout=TIMEOUT
    )
    expect(page.get_by_test_id("stAlertContainer").filter(has_text="Reference:")).to_contain_text("500 rows")
    chart_visible(page)
    wait_idle(page)
    no_exception(page)

    page.get_by_role("button", name="Back to demo").click()
    expect(page.get_by_text("You are looking at demo data")).to_be_visible(timeout=TIMEOUT)
    wait_idle(page)
    no_exception(page)


def test_prediction_drift_demo_renders_accuracy_per_window(page: Page, app_server: AppServer) -> None:
    open_page(page, app_server, "Prediction_drift")
    chart_visible(page)
    page.get_by_role("tab", name="Realised performance").click()
    perf = page.get_by_test_id("stVegaLiteChart").filter(has_text="Realised accuracy per window")
    expect(perf.locator("canvas, svg").first).to_be_visible(timeout=TIMEOUT)
    wait_idle(page)
    no_exception(page)


def test_model_monitor_violations_history_renders(page: Page, app_server: AppServer) -> None:
    open_page(page, app_server, "Model_Monitor")
    page.get_by_role("tab", name="Violations history").click()
    chart = page.get_by_test_id("stVegaLiteChart").filter(has_text="Violations per execution")
    expect(chart.locator("canvas, svg").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("2024-05-06 14:00 UTC").first).to_be_visible(timeout=TIMEOUT)
    wait_idle(page)
    no_exception(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "monitor-violations-history.png"), full_page=True)
