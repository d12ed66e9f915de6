"""Where a page's first-chart time goes in the browser (issue 16): server run vs browser work.

For every page with a chart, in a fresh browser session opened by the page's URL (server warm), the
browser clock (ms since navigation start) of:
- ``ws open``: the app's websocket opened (Streamlit's own start of a session),
- ``1st chart msg``: the first websocket message that carries a Vega-Lite spec (server side done
  for that chart: script run up to it, spec, Arrow tables),
- ``chart drawn``: the first chart's canvas/svg has a size (as ``bench_pages.py`` sees it),
and the long tasks (> 50 ms, PerformanceObserver) between the chart message and the chart drawn:
the browser's own work on the chart (React, Vega parse/compile/render), with the CDP ``TaskDuration``
and ``ScriptDuration`` of the whole visit (CPU time of the page's main thread: less sensitive to a
busy machine than wall clock). Median of ``--repeat`` runs; prints a markdown table.

Run: .venv/bin/python benchmarks/trace_pages.py [--repeat 3] [--pages "Training runs,Input drift"]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_pages import CHROMIUM, TIMEOUT, WATCH, url_path
from lib.ui.frame import PAGES
from tests.conftest import AppServer

#: Added to ``bench_pages.WATCH``: websocket message times (and whether one carries a Vega-Lite
#: spec) and the long tasks of the visit.
TRACE = """
(() => {
  const t = (window.__tr = { open: null, firstMsg: null, chartMsg: null, msgs: 0, longtasks: [] });
  const Orig = window.WebSocket;
  const dec = new TextDecoder();
  window.WebSocket = function (...args) {
    const ws = new Orig(...args);
    ws.addEventListener("open", () => { if (t.open === null) t.open = performance.now(); });
    ws.addEventListener("message", (e) => {
      const now = performance.now();
      t.msgs += 1;
      if (t.firstMsg === null) t.firstMsg = now;
      if (t.chartMsg === null && e.data instanceof ArrayBuffer && e.data.byteLength > 200) {
        if (dec.decode(e.data).includes("vega.github.io/schema/vega-lite")) t.chartMsg = now;
      }
    });
    return ws;
  };
  window.WebSocket.prototype = Orig.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) t.longtasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
})();
"""


def visit(page: Page, url: str) -> dict[str, Any]:
    """Open ``url``; the trace figures in ms (browser clock since navigation start)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
    page.goto(url)
    drawn = "window.__dw && window.__dw.done !== null && window.__dw.chart !== null"
    page.wait_for_function(drawn, timeout=TIMEOUT)
    page.wait_for_timeout(300)  # the long task that drew the chart is reported after it ends
    dw = page.evaluate("window.__dw")
    tr = page.evaluate("window.__tr")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    chart_msg, drawn = tr["chartMsg"], dw["chart"]
    between = [d for s, d in tr["longtasks"] if chart_msg is not None and chart_msg - 1 <= s <= drawn]
    before = [d for s, d in tr["longtasks"] if s < (chart_msg or 0)]
    return {
        "ws open": tr["open"],
        "1st msg": tr["firstMsg"],
        "chart msg": chart_msg,
        "chart drawn": drawn,
        "run done": dw["done"] * 1 if dw["done"] is not None else None,
        "msg→drawn": None if chart_msg is None else drawn - chart_msg,
        "long tasks msg→drawn": sum(between),
        "largest": max(between, default=0.0),
        "long tasks before msg": sum(before),
        "CPU task": metrics.get("TaskDuration", 0.0) * 1000,
        "CPU script": metrics.get("ScriptDuration", 0.0) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pages", default="Training runs,Input drift,Prediction drift,Timing & cost")
    args = parser.parse_args()
    wanted = [p for p in PAGES if p.label in args.pages.split(",")]
    results: dict[str, list[dict[str, Any]]] = {p.label: [] for p in wanted}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        server = AppServer(Path(tmp))
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )

        def new_page() -> Page:
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            context.add_init_script(WATCH)
            context.add_init_script(TRACE)
            return context.new_page()

        try:
            for link in wanted:  # warm the server
                page = new_page()
                visit(page, f"{server.url}/{url_path(link.path)}")
                page.context.close()
            for _ in range(args.repeat):
                for link in wanted:
                    page = new_page()
                    results[link.label].append(visit(page, f"{server.url}/{url_path(link.path)}"))
                    page.context.close()
        finally:
            browser.close()
            server.stop()
    keys = list(next(iter(results.values()))[0])
    print(f"load average {tuple(round(x, 2) for x in os.getloadavg())}; median of {args.repeat}, ms\n")
    print("| page | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for label, runs in results.items():
        cells = []
        for k in keys:
            vals = [r[k] for r in runs if r[k] is not None]
            cells.append(f"{statistics.median(vals):.0f}" if vals else "-")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
