"""Before/after of the pages' first chart in a real browser, robust to a busy machine (issue 16).

Two servers, one on a past commit (exported with ``git archive``) and one on this tree, both warm; each
page is opened in a fresh browser session on one, then on the other (the order alternating per round),
so both see the same load. Per page: the time to the first chart drawn, from the chart's websocket
message to the chart drawn, the largest long task in between and the main-thread CPU of the visit
(``trace_pages.visit``), ms, median of ``--repeat`` rounds, as a markdown table.

Run: .venv/bin/python benchmarks/ab_pages.py --before <commit> [--repeat 5] [--pages "Training runs"]
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_pages import CHROMIUM, WATCH, url_path
from benchmarks.trace_pages import TRACE, visit
from lib.ui.frame import PAGES
from tests.conftest import free_port
from tests.support.paths import ROOT

KEYS = ("chart drawn", "msg→drawn", "largest", "CPU task")


def serve(root: Path, log_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``streamlit run app.py`` in ``root`` (its own ``lib`` first on the path); the process and URL."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with (log_dir / f"streamlit-{port}.log").open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                if answer.read() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGTERM)
    raise RuntimeError(f"the server in {root} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="commit to compare this tree with")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pages", default="Training runs,Input drift,Prediction drift,Timing & cost")
    args = parser.parse_args()
    labels = [p.label for p in PAGES if p.label in args.pages.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "before"
        old.mkdir()
        archive = subprocess.run(["git", "archive", args.before], cwd=ROOT, check=True, capture_output=True)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(old, filter="data")
        trees = {"before": old, "after": ROOT}
        servers = {name: serve(root, Path(tmp)) for name, root in trees.items()}
        results: dict[tuple[str, str], list[dict[str, Any]]] = {(t, lb): [] for t in trees for lb in labels}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )

                def visit_once(tree: str, label: str) -> dict[str, Any]:
                    context = browser.new_context(viewport={"width": 1440, "height": 1000})
                    context.add_init_script(WATCH)
                    context.add_init_script(TRACE)
                    link = next(x for x in PAGES if x.label == label)
                    seen = visit(context.new_page(), f"{servers[tree][1]}/{url_path(link.path)}")
                    context.close()
                    return seen

                for tree in trees:  # warm both servers
                    for label in labels:
                        visit_once(tree, label)
                for round_ in range(args.repeat):
                    order = list(trees) if round_ % 2 == 0 else list(trees)[::-1]
                    for label in labels:
                        for tree in order:
                            results[tree, label].append(visit_once(tree, label))
                browser.close()
        finally:
            for proc, _ in servers.values():
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(15)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load} at the end; median of {args.repeat} interleaved rounds, ms\n")
    print("| page | " + " | ".join(f"{k}: before | {k}: after" for k in KEYS) + " |")
    print("|---|" + "---|---|" * len(KEYS))
    for label in labels:
        cells = [f"{statistics.median(r[k] for r in results[t, label]):.0f}" for k in KEYS for t in trees]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
