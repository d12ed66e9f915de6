"""Every page and tab at 1440, 1280 and 800 px wide: no button label, metric tile or chart legend is cut
off, nothing sticks out of its container, and below 1000 px the sidebar starts collapsed so it does not
crush the content.

What "cut off" means here, measured in the browser (``CUT_OFF_JS``):

* a button label or metric text whose box is narrower than its text (``scrollWidth > clientWidth``)
  while it hides the overflow or ends it with an ellipsis;
* a button, metric tile or chart whose box reaches beyond its column or the main area;
* a chart legend whose box reaches beyond its chart, or a legend label Vega shortened with "…".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import AppServer
from tests.e2e.test_e2e_browser import PAGE_URLS, TIMEOUT, no_exception, open_page, wait_idle
from tests.e2e.test_e2e_screenshots import charts_drawn

pytestmark = pytest.mark.e2e

WIDTHS = (1440, 1280, 800)
SHOTS = Path("test-results") / "widths"

CUT_OFF_JS = """
() => {
  const problems = [];
  const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0
      && getComputedStyle(e).visibility !== 'hidden'; };
  const describe = (e) => (e.innerText || e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
  const clipped = (e) => {
    const s = getComputedStyle(e);
    const hides = s.textOverflow === 'ellipsis' || ['hidden', 'clip'].includes(s.overflowX);
    return hides && e.scrollWidth > e.clientWidth + 1;
  };
  const main = document.querySelector('[data-testid="stMain"]');
  const mainBox = main.getBoundingClientRect();
  const inside = (inner, outer, slack = 1) =>
    inner.left >= outer.left - slack && inner.right <= outer.right + slack;
  const column = (e) => e.closest('[data-testid="stColumn"], [data-testid="stVerticalBlock"]') || main;
  const check = (selector, kind) => {
    for (const el of main.querySelectorAll(selector)) {
      if (!visible(el) || el.closest('[data-testid="stExpanderDetails"]:not([open]) ')) continue;
      for (const part of [el, ...el.querySelectorAll('*')]) {
        if (visible(part) && part.tagName !== 'svg' && clipped(part)) {
          problems.push(`${kind} cut off: "${describe(el)}" (${part.scrollWidth} > ${part.clientWidth} px)`);
          break;
        }
      }
      const box = el.getBoundingClientRect();
      const parent = el.parentElement ? column(el.parentElement) : main;
      if (!inside(box, parent.getBoundingClientRect()) || !inside(box, mainBox)) {
        problems.push(`${kind} outside its container: "${describe(el)}"`);
      }
    }
  };
  check('[data-testid="stButton"] button, [data-testid="stDownloadButton"] button, '
        + '[data-testid="stPageLink"] a, [data-testid="stBaseButton-segmented_control"], '
        + '[data-testid="stBaseButton-segmented_controlActive"]', 'button');
  check('[data-testid="stMetric"]', 'metric');
  for (const chart of main.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    if (!visible(chart)) continue;
    const box = chart.getBoundingClientRect();
    if (!inside(box, mainBox)) problems.push('chart outside the main area');
    for (const legend of chart.querySelectorAll('g.role-legend')) {
      if (!inside(legend.getBoundingClientRect(), box, 2)) {
        problems.push(`legend outside its chart: "${describe(legend)}"`);
      }
      for (const label of legend.querySelectorAll('text')) {
        const text = label.textContent || '';
        if (text.endsWith('…')) problems.push(`legend label shortened: "${text}"`);
      }
    }
  }
  return problems;
}
"""

SIDEBAR_JS = """
() => {
  const bar = document.querySelector('[data-testid="stSidebar"]');
  const main = document.querySelector('[data-testid="stMain"]');
  const box = bar.getBoundingClientRect();
  return {collapsed: bar.getAttribute('data-collapsed') === 'true', sidebarRight: Math.max(0, box.right),
          mainWidth: main.getBoundingClientRect().width};
}
"""


def problems_in_view(page: Page) -> list[str]:
    result: Any = page.evaluate(CUT_OFF_JS)
    return [str(p) for p in result]


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_is_cut_off_on_any_page_at_width(page: Page, app_server: AppServer, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 1000})
    folder = SHOTS / str(width)
    folder.mkdir(parents=True, exist_ok=True)
    found: list[str] = []
    for label, path in PAGE_URLS.items():
        open_page(page, app_server, path)
        expect(page.get_by_role("heading", level=1)).to_be_visible(timeout=TIMEOUT)
        page.wait_for_timeout(1500)  # the narrow-window script runs once the sidebar is drawn
        layout = page.evaluate(SIDEBAR_JS)
        if width < 1000:
            assert layout["collapsed"], f"{label}: the sidebar should start collapsed at {width} px"
            assert layout["mainWidth"] >= 0.95 * width, f"{label}: the content has {layout['mainWidth']} px"
        else:
            assert not layout["collapsed"], f"{label}: the sidebar should be open at {width} px"
            assert layout["mainWidth"] >= width - 400
        charts_drawn(page)
        found += [f"{label}: {p}" for p in problems_in_view(page)]
        slug = path or "data"
        page.screenshot(path=str(folder / f"{slug}.png"))
        tabs = page.get_by_role("tab")
        for i in range(tabs.count()):
            tab = tabs.nth(i)
            name = tab.inner_text().strip().splitlines()[-1]
            tab.click()
            wait_idle(page)
            no_exception(page)
            charts_drawn(page)
            found += [f"{label} / {name}: {p}" for p in problems_in_view(page)]
            page.screenshot(path=str(folder / f"{slug}-{i + 1}.png"))
    assert found == [], "\n".join(found)
