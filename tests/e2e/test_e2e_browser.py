"""Real browser (Playwright + Debian Chromium) against ``streamlit run app.py``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lib import ui
from tests.conftest import AppServer
from tests.support.paths import DATA

pytestmark = pytest.mark.e2e

PAGE_URLS = {link.label: link.url_path for link in ui.PAGES}
TIMEOUT = 60_000


def wait_idle(page: Page) -> None:
    """Wait until the current script run has finished (the status widget disappears) and every element
    on screen is drawn: Streamlit loads each widget's code on first use and shows a grey placeholder
    (``stSkeleton``) meanwhile, which screenshots and size checks must not catch."""
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT)
    expect(page.locator('[data-testid="stSkeleton"]:visible')).to_have_count(0, timeout=TIMEOUT)


def open_page(page: Page, server: AppServer, path: str = "") -> None:
    page.goto(f"{server.url}/{path}")
    expect(page.get_by_test_id("stSidebar").get_by_text("Driftwatch")).to_be_visible(timeout=TIMEOUT)
    wait_idle(page)


def no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def sidebar_links(page: Page) -> list[str]:
    links = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink")
    expect(links).to_have_count(len(ui.PAGES), timeout=TIMEOUT)  # rendered progressively: wait for all
    texts = links.all_inner_texts()
    return [t.strip().splitlines()[-1] for t in texts]  # drop the icon ligature line


def upload(page: Page, *files: Path) -> None:
    page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(list(files))
    wait_idle(page)


def test_demo_charts_render_on_training_runs_page(page: Page, app_server: AppServer) -> None:
    open_page(page, app_server)
    expect(page.get_by_text("You are looking at demo data")).to_be_visible()
    page.get_by_test_id("stSidebar").get_by_role("link", name="Training runs").click()
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart.locator("canvas, svg").first).to_be_visible(timeout=TIMEOUT)
    wait_idle(page)
    no_exception(page)
    page.screenshot(path=str(Path("test-results") / "training-runs-demo.png"))


@pytest.mark.parametrize("label", list(PAGE_URLS))
def test_cold_deep_link_renders_page_with_shared_sidebar(
    page: Page, fresh_server: Callable[..., AppServer], label: str
) -> None:
    server = fresh_server()  # this URL is the very first request the server sees
    open_page(page, server, PAGE_URLS[label])
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    no_exception(page)
    assert sidebar_links(page) == list(PAGE_URLS), "the sidebar must be the same on every page"
    # Streamlit's automatic pages/ navigation must not appear next to ours.
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)


def test_real_upload_replaces_demo_and_renders(page: Page, app_server: AppServer, tmp_path: Path) -> None:
    src = DATA / "training_log_xgboost.txt"
    target = tmp_path / "my-xgb-job.txt"
    target.write_bytes(src.read_bytes())
    open_page(page, app_server)
    upload(page, target)
    expect(page.get_by_text("read as", exact=False).first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stSidebar").get_by_text("from 1 source")).to_be_visible()
    no_exception(page)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Training runs").click()
    expect(page.get_by_test_id("stVegaLiteChart").first.locator("canvas, svg").first).to_be_visible(
        timeout=TIMEOUT
    )
    wait_idle(page)
    no_exception(page)


def test_broken_upload_shows_error_and_keeps_data(page: Page, app_server: AppServer, tmp_path: Path) -> None:
    good = tmp_path / "good-run.txt"
    good.write_bytes((DATA / "training_log_xgboost.txt").read_bytes())
    broken = tmp_path / "broken.csv"
    broken.write_text("<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>")
    open_page(page, app_server)
    upload(page, good)
    expect(page.get_by_test_id("stSidebar").get_by_text("from 1 source")).to_be_visible(timeout=TIMEOUT)
    upload(page, broken)  # replaces the uploader's file list; what was loaded must stay
    alert = page.get_by_test_id("stAlertContainer").filter(has_text="broken.csv")
    expect(alert.first).to_be_visible(timeout=TIMEOUT)
    no_exception(page)
    # What was loaded before is still there.
    expect(page.get_by_test_id("stSidebar").get_by_text("from 1 source")).to_be_visible()
    page.screenshot(path=str(Path("test-results") / "broken-upload.png"))


def test_html_in_job_names_is_shown_as_text(page: Page, app_server: AppServer, tmp_path: Path) -> None:
    evil = '<img src=x onerror="window.__pwned=1">'
    rows = ["job,metric,timestamp,value"] + [
        f'"{evil}",validation:accuracy,2026-11-0{d}T10:00:00Z,0.{80 + d}' for d in range(1, 6)
    ]
    csv = tmp_path / "evil.csv"
    csv.write_text("\n".join(rows) + "\n")
    open_page(page, app_server)
    upload(page, csv)
    no_exception(page)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Training runs").click()
    expect(page.get_by_test_id("stVegaLiteChart").first.locator("canvas, svg").first).to_be_visible(
        timeout=TIMEOUT
    )
    wait_idle(page)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0


def test_two_sessions_do_not_share_uploads(page: Page, app_server: AppServer, tmp_path: Path) -> None:
    log = (DATA / "training_log_xgboost.txt").read_bytes()
    mine = tmp_path / "session-one-job.txt"
    mine.write_bytes(log)
    open_page(page, app_server)
    upload(page, mine)
    expect(page.get_by_test_id("stSidebar").get_by_text("from 1 source")).to_be_visible(timeout=TIMEOUT)
    other = page.context.browser.new_context() if page.context.browser else None
    assert other is not None
    try:
        second = other.new_page()
        open_page(second, app_server)
        # The second visitor still sees the demo, not the first visitor's upload.
        expect(second.get_by_text("You are looking at demo data")).to_be_visible()
        expect(second.get_by_text("session-one-job")).to_have_count(0)
    finally:
        other.close()
