"""A team's load: N browser sessions at once, each uploading its own ~10 MB pair of tables to Input drift.

Measures, against one ``streamlit run app.py`` server on this machine:
- the time from dropping the files to the verdict on screen (the status box names both uploads and the
  "Columns drifted" tile shows the uploaded column count), for 1 session alone (three times) and for
  ``--sessions`` sessions started together (every file differs, so no session gets another's cache);
- the server's resident memory (the process group's VmRSS): the baseline (after a warm-up session,
  once that session was closed), the peak, and 10 s … 180 s after the sessions end;
- CPU seconds (user + system, from /proc) of the server's process group per session, and of the
  browser (this script's descendants), alone and for the concurrent sessions: the machine may be shared,
  CPU seconds are much less sensitive to that than wall times.

Run: .venv/bin/python benchmarks/bench_load.py [--sessions 10] [--mb 10]   (a few minutes on 2 cores)
Needs Debian's Chromium (``make browser``); run it on a quiet machine and record the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from playwright.async_api import Browser, async_playwright, expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import AppServer

CHROMIUM = os.environ.get("DRIFTWATCH_CHROMIUM", "/usr/bin/chromium")
TIMEOUT = 600_000  # ms: a loaded server may take minutes; the figure is what we want, not a failure
COLUMNS = 25


def tables(folder: Path, seed: int, megabytes: float) -> tuple[Path, Path]:
    """A reference and a current CSV of about ``megabytes`` each (20 numeric, 5 categorical columns)."""
    rng = np.random.default_rng(seed)
    rows = int(megabytes * 1e6 / 190)  # ~190 bytes per row with these columns
    paths = []
    for side, shift in (("reference", 0.0), ("current", 0.3)):
        data: dict[str, np.ndarray] = {}
        for i in range(20):
            data[f"num_{i:02d}"] = np.round(rng.normal(shift * (i % 3 == 0), 1, rows), 4)
        for i in range(5):
            data[f"cat_{i}"] = rng.choice(["alpha", "beta", "gamma", "delta"], rows)
        path = folder / f"{side}-{seed}.csv"
        pd.DataFrame(data).to_csv(path, index=False)
        paths.append(path)
    return paths[0], paths[1]


def _procs() -> list[tuple[int, int, int, float, str]]:
    """(pid, parent pid, process group, CPU seconds, status text) of every process we may read."""
    tick = os.sysconf("SC_CLK_TCK")
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu = (int(stat[11]) + int(stat[12])) / tick  # utime + stime
        out.append((int(entry.name), int(stat[1]), int(stat[2]), cpu, status))
    return out


def rss_mb(pid: int) -> float:
    """Resident memory of a process group (MB), from /proc."""
    total = 0
    for _, _, pgid, _, status in _procs():
        if pgid != pid:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by a process group (the server)."""
    return sum(cpu for _, _, pgid, cpu, _ in _procs() if pgid == pid)


def browser_cpu(server_pid: int) -> float:
    """CPU seconds used so far by this script's descendants other than the server (the browser)."""
    procs = _procs()
    children: dict[int, list[int]] = {}
    for pid, ppid, *_ in procs:
        children.setdefault(ppid, []).append(pid)
    cpu = {pid: c for pid, _, pgid, c, _ in procs if pgid != server_pid}
    todo, total = list(children.get(os.getpid(), [])), 0.0
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


class PeakMemory:
    """Samples the server's RSS every 0.2 s in a thread; ``peak`` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def one_session(browser: Browser, url: str, reference: Path, current: Path) -> float:
    """Seconds from dropping both files to the verdict on the uploads."""
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    page = await context.new_page()
    try:
        await page.goto(f"{url}/Input_drift", timeout=TIMEOUT)
        sidebar = page.get_by_test_id("stSidebar").get_by_text("Driftwatch")
        await expect(sidebar).to_be_visible(timeout=TIMEOUT)
        await expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT)
        inputs = page.get_by_test_id("stFileUploader").locator('input[type="file"]')
        start = time.perf_counter()
        await inputs.nth(0).set_input_files(reference, timeout=TIMEOUT)
        await expect(page.get_by_test_id("stFileUploader").nth(0).get_by_text(reference.name)).to_be_visible(
            timeout=TIMEOUT
        )
        await inputs.nth(1).set_input_files(current, timeout=TIMEOUT)
        status = page.get_by_test_id("stAlertContainer").filter(has_text="Reference:")
        await expect(status).to_contain_text(current.name, timeout=TIMEOUT)
        await expect(status).to_contain_text(reference.name, timeout=TIMEOUT)
        tile = page.get_by_test_id("stMetric").filter(has_text="Columns drifted")
        await expect(tile).to_contain_text(f"of {COLUMNS}", timeout=TIMEOUT)
        return time.perf_counter() - start
    finally:
        await context.close()


async def run(sessions: int, megabytes: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pairs = [tables(folder, seed, megabytes) for seed in range(sessions + 3)]
        size = pairs[0][1].stat().st_size / 1e6
        server = AppServer(folder)
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                pid = server.proc.pid
                await one_session(browser, server.url, *pairs[-1])  # warm-up: imports, first-run caches
                # Baseline: the warm-up session closed too (lib.ui.housekeeping closes a session 30 s
                # after its browser left, checking every 10 s), so the server holds no session data.
                await asyncio.sleep(45)
                baseline = rss_mb(pid)
                cpu0, bcpu0 = server_cpu(pid), browser_cpu(pid)
                single = [await one_session(browser, server.url, *pairs[-2 - i]) for i in range(2)]
                single.append(await one_session(browser, server.url, *pairs[sessions]))
                cpu1, bcpu1 = server_cpu(pid), browser_cpu(pid)
                with PeakMemory(pid) as memory:
                    start = time.perf_counter()
                    results = await asyncio.gather(
                        *(one_session(browser, server.url, *pairs[i]) for i in range(sessions)),
                        return_exceptions=True,
                    )
                    wall = time.perf_counter() - start
                cpu2, bcpu2 = server_cpu(pid), browser_cpu(pid)
                closed_early = server.log().count("housekeeping: closed session")
                await browser.close()
            # Sessions end when their websockets close; sample the server's memory for three minutes.
            after: dict[int, float] = {}
            start = time.perf_counter()
            for mark in (10, 30, 60, 120, 180):
                await asyncio.sleep(max(0.0, mark - (time.perf_counter() - start)))
                after[mark] = rss_mb(pid)
        finally:
            server.stop()
    failed = [r for r in results if isinstance(r, BaseException)]
    times = [r for r in results if not isinstance(r, BaseException)]
    for err in failed:
        print(f"a session failed: {str(err).splitlines()[0]}")
    one = statistics.median(single)
    many = statistics.median(times)
    print(f"files: 2 x {size:.1f} MB CSV per session ({COLUMNS} columns); load average {os.getloadavg()}")
    print(f"1 session alone: median {one:.1f} s (runs: {', '.join(f'{t:.1f}' for t in single)})")
    print(
        f"{sessions} sessions at once: median {many:.1f} s, max {max(times):.1f} s, all done in {wall:.1f} s "
        f"-> median ratio {many / one:.2f}x"
    )
    alone, together = (cpu1 - cpu0) / 3, (cpu2 - cpu1) / sessions
    b_alone, b_together = (bcpu1 - bcpu0) / 3, (bcpu2 - bcpu1) / sessions
    print(
        f"sessions closed by housekeeping before the concurrent ones ended: {closed_early} "
        "(at most the 4 earlier sessions; more would mean a live session was closed)"
    )
    print(f"server CPU per session: alone {alone:.2f} s, concurrent {together:.2f} s")
    print(f"browser CPU per session: alone {b_alone:.2f} s, concurrent {b_together:.2f} s")
    timeline = ", ".join(f"{mark} s: {mb:.0f} MB" for mark, mb in after.items())
    print(f"server RSS: baseline {baseline:.0f} MB, peak {memory.peak:.0f} MB; after the end: {timeline}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--mb", type=float, default=10.0, help="size of each uploaded CSV")
    args = parser.parse_args()
    asyncio.run(run(args.sessions, args.mb))


if __name__ == "__main__":
    main()
