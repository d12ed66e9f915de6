"""What a user sees on the Training runs page, in Chromium at 1440 and 800 px wide.

Each training chart's plot area is at least 200 px tall (the By epoch chart once collapsed to a 20-px
strip in the browser while its PNG export was fine), its legend lists every run, and the flagged run
carries its marker. Screenshots go to ``test-results/runs/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from lib import ui
from lib.charts.runs import FLAG_ICON
from lib.demo import demo_metrics
from tests.conftest import AppServer
from tests.e2e.test_e2e_browser import TIMEOUT, no_exception, open_page, wait_idle

pytestmark = pytest.mark.e2e

SHOTS = Path("test-results") / "runs"
RUNS_URL = next(p.url_path for p in ui.PAGES if p.label == "Training runs")
MIN_PLOT_PX = 200

# Per chart: the tallest plot background (Vega draws one per view; the zoom strip is the short one),
# the run names in its legends, and the descriptions of the flag markers.
_MEASURE = """el => {
  const plots = [...el.querySelectorAll('path.background')]
    .filter(p => !p.closest('.role-legend'))
    .map(p => p.getBoundingClientRect().height);
  const labels = [...el.querySelectorAll('.role-legend-label text')].map(t => t.textContent);
  const marks = [...el.querySelectorAll('[aria-label^="Flagged run"]')]
    .map(m => m.getAttribute('aria-label'));
  const box = el.getBoundingClientRect();
  const texts = [...el.querySelectorAll('.role-legend-label text')].map(t => t.getBoundingClientRect());
  const clipped = texts.filter(r => r.bottom > box.bottom + 1 || r.right > box.right + 1).length;
  return {plot: Math.max(0, ...plots), labels: labels, markers: marks, clipped: clipped};
}"""


def _chart(page: Page) -> Locator:
    chart = page.locator('[data-testid="stVegaLiteChart"]:visible').first
    expect(chart.locator("svg.marks").first).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(500)  # let Vega finish its resize to the container
    return chart


def _open_tab(page: Page, name: str) -> dict[str, Any]:
    page.get_by_role("tab", name=name).click()
    wait_idle(page)
    no_exception(page)
    result: dict[str, Any] = _chart(page).evaluate(_MEASURE)
    return result


@pytest.mark.parametrize("width", [1440, 800])
def test_training_charts_are_tall_list_every_run_and_mark_the_flagged_one(
    page: Page, app_server: AppServer, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 1000})
    folder = SHOTS / str(width)
    folder.mkdir(parents=True, exist_ok=True)
    jobs = sorted(demo_metrics()["job"].unique())
    open_page(page, app_server, RUNS_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Training runs")
    flagged = page.get_by_test_id("stAlertContainer").filter(has_text="unusually low")
    expect(flagged.first).to_be_visible(timeout=TIMEOUT)

    for tab, slug in (("Over time", "over-time"), ("By epoch", "by-epoch")):
        seen = _open_tab(page, tab)
        page.screenshot(path=str(folder / f"{slug}.png"))
        assert seen["plot"] >= MIN_PLOT_PX, f"{tab}: plot area {seen['plot']} px tall"
        names = {label.removeprefix(FLAG_ICON).strip() for label in seen["labels"]}
        assert set(jobs) <= names, f"{tab}: legend lacks {sorted(set(jobs) - names)}"
        assert seen["clipped"] == 0, f"{tab}: {seen['clipped']} legend entries outside the chart's box"
        lows = [m for m in seen["markers"] if "unusually low final value" in m]
        assert len(lows) == 1, f"{tab}: flag markers {seen['markers']}"
        low_job = lows[0].split("Flagged run ", 1)[1].split(":", 1)[0]
        assert f"{FLAG_ICON} {low_job}" in seen["labels"]  # the legend marks it too

    # The static export is the same chart without "drag here to zoom".
    page.get_by_role("tab", name="Over time").click()
    wait_idle(page)
    svg = ""
    for attempt in range(2):  # a deferred download can be cancelled by a rerun under load: ask again once
        with page.expect_download() as download:
            page.get_by_test_id("stDownloadButton").filter(has_text="SVG").first.click()
        try:
            svg = Path(download.value.path()).read_text()
            break
        except PlaywrightError:
            if attempt:
                raise
            wait_idle(page)
    assert "Drag here" not in svg
    assert "unusually low final value" not in svg or FLAG_ICON in svg
