"""Every page, every tab, at 1440 and 800 px wide: no exception, a title, and a screenshot in test-results/.

The screenshots are CI artifacts (``test-results/pages/<width>/<page>[-<tab>].png``) for a person to look
at; the assertions here are what every page must show at both widths.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import AppServer
from tests.e2e.test_e2e_browser import PAGE_URLS, TIMEOUT, no_exception, open_page, wait_idle

pytestmark = pytest.mark.e2e

SHOTS = Path("test-results") / "pages"


def charts_drawn(page: Page) -> None:
    """Every chart in view has drawn its marks (not the grey loading placeholder). A chart not drawn yet
    has no height, so it is found by what hides it (a closed tab), not by its size."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
            .filter((e) => e.checkVisibility())
            .every((e) => e.querySelector("canvas, svg") && e.getBoundingClientRect().height > 0)""",
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize("width", [1440, 800])
def test_every_page_and_tab_renders_at_width(page: Page, app_server: AppServer, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 1000})
    folder = SHOTS / str(width)
    folder.mkdir(parents=True, exist_ok=True)
    for label, path in PAGE_URLS.items():
        open_page(page, app_server, path)
        expect(page.get_by_role("heading", level=1)).to_be_visible(timeout=TIMEOUT)
        no_exception(page)
        charts_drawn(page)
        slug = path or "data"
        page.screenshot(path=str(folder / f"{slug}.png"))
        tabs = page.get_by_role("tab")
        for i in range(tabs.count()):
            tab = tabs.nth(i)
            name = tab.inner_text().strip().splitlines()[-1].lower().replace(" ", "-").replace("&", "and")
            tab.click()
            wait_idle(page)
            no_exception(page)
            charts_drawn(page)
            page.screenshot(path=str(folder / f"{slug}-{i + 1}-{name}.png"))
        assert label  # every registered page was visited
