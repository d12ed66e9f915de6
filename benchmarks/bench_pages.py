"""How fast each page shows its answer in a real browser, on the demo data (issue 16).

For every page, in a fresh browser session opened by the page's URL (the server already warm: one
earlier visit has imported everything), the time from the request to:
- the sidebar (our page links) being visible,
- the first chart drawn (a Vega-Lite canvas/svg; for pages without a chart on the demo, the first
  table or the page title),
- the script run finished (Streamlit's running indicator gone).
Then, within one session, switching to each page by its sidebar link: the time to its first chart.
Each figure is the median of ``--repeat`` runs, printed as a markdown table for
benchmarks/README.md. The same figures for a bare Streamlit script (a sidebar
line, a title and one two-point Altair chart: :data:`FLOOR_SCRIPT`) are the floor this machine and
Streamlit set: no page can draw its sidebar or a chart sooner.

Run: .venv/bin/python benchmarks/bench_pages.py [--repeat 3]   (needs Debian's Chromium: ``make browser``)
Run it on a quiet machine and record the load average with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.ui.frame import PAGES
from tests.conftest import AppServer

CHROMIUM = os.environ.get("DRIFTWATCH_CHROMIUM", "/usr/bin/chromium")
FLOOR_SCRIPT = """
import altair as alt
import pandas as pd
import streamlit as st

st.set_page_config(layout="wide")
st.sidebar.markdown("### Driftwatch")
st.title("Floor")
st.altair_chart(alt.Chart(pd.DataFrame({"x": [1, 2], "y": [1, 2]})).mark_line().encode(x="x", y="y"))
"""
TIMEOUT = 120_000


def url_path(script: str) -> str:
    """The URL path Streamlit gives a page script (``pages/2_Input_drift.py`` -> ``Input_drift``)."""
    if script == "app.py":
        return ""
    stem = Path(script).stem
    return stem.split("_", 1)[1] if stem[0].isdigit() else stem


#: Installed in every page before its scripts: a MutationObserver notes (browser clock, ms since
#: ``t0``: the navigation start, or the click for a page switch) when the sidebar appears, when the
#: first chart of the current run is drawn (Streamlit marks elements left from the previous run stale),
#: and when the script run ends.
WATCH = """
(() => {
  const fresh = '[data-testid="stElementContainer"][data-stale="false"] [data-testid="stVegaLiteChart"]';
  const w = (window.__dw = { t0: 0, sidebar: null, chart: null, done: null, ran: false });
  window.__dwReset = (title) =>
    Object.assign(w, { t0: performance.now(), chart: null, done: null, ran: false, expect: title });
  const check = () => {
    const now = performance.now() - w.t0;
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app ? app.getAttribute("data-test-script-state") : null;
    if (state === "running" || state === "rerunRequested") w.ran = true; // this run, not the last page's
    // A switch whose run is too quick for React to ever render "running": the new page's title is up
    // and nothing on screen is left over from the previous page.
    const h1 = document.querySelector("h1");
    const leftover = document.querySelector('[data-stale="true"]');
    if (!w.ran && w.expect && h1 && h1.innerText.trim() === w.expect && !leftover) w.ran = true;
    const side = document.querySelector('[data-testid="stSidebar"]');
    if (w.sidebar === null && side && side.innerText.includes("Driftwatch")) w.sidebar = now;
    for (const el of document.querySelectorAll(fresh)) {
      const drawn = el.querySelector("canvas, svg");
      if (w.chart === null && w.ran && drawn && drawn.getBoundingClientRect().height > 0) w.chart = now;
    }

    if (w.done === null && w.ran && state === "notRunning") w.done = now;
  };
  // A run of a few milliseconds sets "running" and "notRunning" within one task: the observer then sees
  // only the last value, so the attribute's old values are read too.
  const seen = (records) => {
    for (const r of records)
      if (r.attributeName === "data-test-script-state" && ["running", "rerunRequested"].includes(r.oldValue))
        w.ran = true;
    check();
  };
  new MutationObserver(seen).observe(document, {
    subtree: true, childList: true, attributes: true, attributeOldValue: true,
  });
  setInterval(check, 10); // a chart may get its size without a DOM mutation
})();
"""


def measured(page: Page) -> dict[str, float | None]:
    """Wait until the run is done (and the chart drawn, if any); seconds since ``t0``."""
    page.wait_for_function("window.__dw && window.__dw.done !== null", timeout=TIMEOUT)
    with contextlib.suppress(PlaywrightTimeout):  # a chart may draw after the run ends; some pages have none
        page.wait_for_function("window.__dw.chart !== null", timeout=10_000)
    raw = page.evaluate("window.__dw")
    return {k: (None if raw[k] is None else raw[k] / 1000) for k in ("sidebar", "chart", "done")}


def cold_open(page: Page, server: AppServer, path: str) -> dict[str, float | None]:
    page.goto(f"{server.url}/{path}")
    return measured(page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cold: dict[str, list[dict[str, float | None]]] = {p.label: [] for p in PAGES}
    cold["(bare Streamlit)"] = []
    switch: dict[str, list[dict[str, float | None]]] = {p.label: [] for p in PAGES}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        server = AppServer(Path(tmp))
        floor_path = Path(tmp) / "floor.py"
        floor_path.write_text(FLOOR_SCRIPT)
        floor = AppServer(Path(tmp), script=str(floor_path))
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            browser_contexts = []

            def new_page() -> Page:
                context = browser.new_context(viewport={"width": 1440, "height": 1000})
                context.add_init_script(WATCH)
                browser_contexts.append(context)
                return context.new_page()

            warm = new_page()
            for link in PAGES:  # warm the server: imports and first-run caches
                cold_open(warm, server, url_path(link.path))
            cold_open(warm, floor, "")
            warm.close()
            for _ in range(args.repeat):
                for link in PAGES:
                    page = new_page()
                    cold[link.label].append(cold_open(page, server, url_path(link.path)))
                    page.context.close()
                page = new_page()
                cold["(bare Streamlit)"].append(cold_open(page, floor, ""))
                page.context.close()
                page = new_page()
                cold_open(page, server, "")
                for link in PAGES[1:] + PAGES[:1]:
                    page.evaluate("title => window.__dwReset(title)", link.label)
                    page.get_by_test_id("stSidebar").get_by_test_id("stPageLink").filter(
                        has_text=link.label
                    ).first.click()
                    switch[link.label].append(measured(page))
                page.context.close()
        finally:
            browser.close()
            server.stop()
            floor.stop()

    def med(runs: list[dict[str, float | None]], key: str) -> str:
        values = [r[key] for r in runs if r[key] is not None]
        return f"{statistics.median(values):.2f}" if values else "-"

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"load average {load} at the end; median of {args.repeat} runs, seconds ('-': no chart on the demo)\n"
    )
    print("| page | sidebar | first chart | run done | switch: chart | switch: done |")
    print("|---|---|---|---|---|---|")
    for label in [*(link.label for link in PAGES), "(bare Streamlit)"]:
        c, w = cold[label], switch.get(label, [])
        cells = [med(c, "sidebar"), med(c, "chart"), med(c, "done"), med(w, "chart"), med(w, "done")]
        name = f"*{label}*" if label.startswith("(") else label
        if label.startswith("("):
            cells = [f"*{x}*" if x != "-" else x for x in cells]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
