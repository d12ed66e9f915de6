"""Real browser: the app, started against the moto server, loads seeded SageMaker jobs through the UI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import AppServer
from tests.e2e.test_e2e_browser import TIMEOUT, no_exception, open_page, wait_idle
from tests.support import aws_server
from tests.support.aws_server import ACCOUNT, seed_training_jobs

pytestmark = pytest.mark.e2e

moto_endpoint = aws_server.moto_endpoint
aws_env = aws_server.aws_env
SHOTS = Path("test-results")


def click(page: Page, key: str) -> None:
    """Click the button created with ``key=`` (Streamlit tags its container ``st-key-<key>``)."""
    page.locator(f".st-key-{key} button").click()
    wait_idle(page)


def test_load_seeded_jobs_through_the_ui_and_see_the_accuracy_chart(
    page: Page, fresh_server: Callable[..., AppServer], aws_env: str, tmp_path: Path
) -> None:
    seeded = seed_training_jobs(aws_env, n_jobs=3, epochs=6, instance_metrics=False)
    server = fresh_server(env=aws_server.app_env(aws_env, tmp_path))
    open_page(page, server, "Load_from_AWS")
    no_exception(page)
    click(page, "aws_connect_button")
    expect(page.get_by_text(f"Connected to account {ACCOUNT}")).to_be_visible(timeout=TIMEOUT)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "aws-connected.png"))
    click(page, "aws_find_button")
    expect(page.get_by_text("3 training jobs, newest first.")).to_be_visible(timeout=TIMEOUT)
    page.locator(".st-key-aws_include_logs label").click()  # per-epoch curves from the logs
    wait_idle(page)
    click(page, "aws_load_button")
    expect(page.get_by_text("Loaded 36 points from 3 training jobs")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stSidebar").get_by_text("3 runs")).to_be_visible()
    no_exception(page)
    page.screenshot(path=str(SHOTS / "aws-loaded.png"))

    page.get_by_test_id("stSidebar").get_by_role("link", name="Training runs").click()
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart.locator("canvas, svg").first).to_be_visible(timeout=TIMEOUT)
    wait_idle(page)
    no_exception(page)
    expect(chart.get_by_text("validation:accuracy").first).to_be_visible()  # the accuracy chart's axis
    for job in seeded:
        expect(chart.get_by_text(job.name).first).to_be_visible()  # one legend entry per loaded job
    page.screenshot(path=str(SHOTS / "aws-training-runs.png"))
