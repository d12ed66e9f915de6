"""Real browser: endpoint capture from the moto server becomes the Input drift page's current data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import AppServer
from tests.e2e.test_e2e_aws import click
from tests.e2e.test_e2e_browser import TIMEOUT, no_exception, open_page, wait_idle
from tests.support import aws_server
from tests.support.aws_server import ACCOUNT, seed_capture

pytestmark = pytest.mark.e2e

moto_endpoint = aws_server.moto_endpoint
aws_env = aws_server.aws_env
SHOTS = Path("test-results")


def type_into(page: Page, key: str, text: str) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(text)
    box.press("Enter")
    wait_idle(page)


def test_endpoint_capture_becomes_the_input_drift_current_data(
    page: Page, fresh_server: Callable[..., AppServer], aws_env: str, tmp_path: Path
) -> None:
    seed_capture(aws_env, hours=6)
    server = fresh_server(env=aws_server.app_env(aws_env, tmp_path))
    open_page(page, server, "Load_from_AWS")
    click(page, "aws_connect_button")
    expect(page.get_by_text(f"Connected to account {ACCOUNT}")).to_be_visible(timeout=TIMEOUT)

    page.get_by_role("tab", name="Endpoint drift").click()
    click(page, "aws_ep_list_button")
    expect(page.locator(".st-key-aws_ep_name").get_by_role("combobox")).to_have_value(
        "churn-prod", timeout=TIMEOUT
    )
    page.locator(".st-key-aws_ep_range").get_by_text("Start and end").click()
    wait_idle(page)
    type_into(page, "aws_ep_start", "2024-05-06 00:00")
    type_into(page, "aws_ep_end", "2024-05-06 04:00")
    click(page, "aws_ep_load_button")
    expect(page.get_by_text("40 records")).to_be_visible(timeout=TIMEOUT)
    no_exception(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "aws-endpoint-capture.png"))

    page.get_by_role("button", name="Use capture as current data").click()
    wait_idle(page)
    page.get_by_role("link", name="Open Input drift").click()
    wait_idle(page)
    current = page.get_by_test_id("stAlertContainer").filter(has_text="Current:")
    expect(current).to_contain_text("Model Monitor capture: churn-prod", timeout=TIMEOUT)
    expect(current).to_contain_text("40 rows")
    no_exception(page)
    page.screenshot(path=str(SHOTS / "aws-endpoint-input-drift.png"))
