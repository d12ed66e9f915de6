"""A team's load: N sessions at once, each uploading its own ~10 MB pair of tables to Input drift.

Two clients (``--client``):
- ``protocol`` (default): each session speaks Streamlit's own protocol as the browser does (websocket
  ``/_stcore/stream``, upload URLs, multipart PUT, reruns with the uploaders' states; see
  :class:`ProtocolSession`) and renders nothing. In a team the browsers run on each user's machine;
  this measures the server, the one thing the team shares. One real browser session on the same files
  checks that the verdict is the same (``--no-check`` skips it).
- ``browser``: one Chromium tab per session, on this machine (the browsers then need ~3× the server's
  CPU and set the figure on 2 cores).

Measures, against one ``streamlit run app.py`` server on this machine:
- the time from dropping the files to the verdict on screen (the status box names both uploads and the
  "Columns drifted" tile shows the uploaded column count), for 1 session alone (three times) and for
  ``--sessions`` sessions started together (every file differs, so no session gets another's cache);
- the server's resident memory (the process group's VmRSS): the baseline (after a warm-up session,
  once that session was closed), the peak, and 10 s … 180 s after the sessions end;
- CPU seconds (user + system, from /proc) of the server's process group per session, and of the
  browser (this script's descendants), alone and for the concurrent sessions: the machine may be shared,
  CPU seconds are much less sensitive to that than wall times.

Run: .venv/bin/python benchmarks/bench_load.py [--client protocol|browser] [--sessions 10] [--mb 10]
(about 5 minutes, 3 of them sampling memory; progress on stderr, a markdown table on stdout).
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

import httpx
import numpy as np
import pandas as pd
import websockets
from playwright.async_api import Browser, async_playwright, expect
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileUploaderState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import AppServer

CHROMIUM = os.environ.get("DRIFTWATCH_CHROMIUM", "/usr/bin/chromium")
TIMEOUT = 600_000  # ms: a loaded server may take minutes; the figure is what we want, not a failure
COLUMNS = 25


def progress(text: str) -> None:
    """A line on stderr while the bench runs (the results go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


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


async def one_session(browser: Browser, url: str, reference: Path, current: Path) -> tuple[float, str]:
    """Seconds from dropping both files to the verdict on the uploads, and the tile's "N of 25"."""
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
        took = time.perf_counter() - start
        text = await tile.inner_text(timeout=TIMEOUT)  # "Columns drifted\n7 of 25"
        return took, text.strip().splitlines()[-1].strip()
    finally:
        await context.close()


class ProtocolSession:
    """One browser session as the server sees it: Streamlit's websocket protocol and upload endpoint.

    Does what the Streamlit 1.67 frontend does, message for message: connect ``/_stcore/stream``
    (the XSRF token from the cookie as second subprotocol), run the page by name, and for each
    dropped file ask for an upload URL (``file_urls_request``), PUT the bytes as multipart form data
    with the XSRF header, then rerun with the uploader's ``FileUploaderState``. Renders nothing:
    it only reads the deltas it waits for, so the CPU it costs is small and measured apart.
    """

    retries = 0  # upload URLs asked again (see _file_urls), over all sessions

    def __init__(self, url: str) -> None:
        self.url = url
        self.session_id = ""
        self.page_hash = ""
        self.uploaders: dict[str, str] = {}  # label -> widget id
        self.states: dict[str, FileUploaderState] = {}  # widget id -> FileUploaderState
        self._client = httpx.AsyncClient(base_url=url, timeout=TIMEOUT / 1000)
        self._ws: websockets.ClientConnection | None = None
        self._request = 0

    async def __aenter__(self) -> ProtocolSession:
        await self._client.get("/_stcore/health")  # sets the XSRF cookie, as the page load does
        xsrf = self._client.cookies.get("_streamlit_xsrf", "")
        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        cookie = "; ".join(f"{k}={v}" for k, v in self._client.cookies.items())
        self._ws = await websockets.connect(
            ws_url,
            subprotocols=[websockets.Subprotocol("streamlit"), websockets.Subprotocol(xsrf or "x")],
            additional_headers={"Cookie": cookie, "Origin": self.url},
            max_size=None,
            open_timeout=TIMEOUT / 1000,
            ping_interval=None,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        await self._client.aclose()

    async def _send(self, msg: BackMsg) -> None:
        assert self._ws is not None
        await self._ws.send(msg.SerializeToString())

    async def _receive(self, timeout: float = TIMEOUT / 1000) -> ForwardMsg:
        assert self._ws is not None
        msg = ForwardMsg()
        msg.ParseFromString(await asyncio.wait_for(self._ws.recv(), timeout))
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.session_id = msg.new_session.initialize.session_id or self.session_id
        elif kind == "navigation":  # the page this run is (st.navigation apps name it here)
            self.page_hash = msg.navigation.page_script_hash
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            if element.WhichOneof("type") == "file_uploader":
                self.uploaders[element.file_uploader.label] = element.file_uploader.id
            elif element.WhichOneof("type") == "exception":
                raise RuntimeError(f"the page raised: {element.exception.message}")
        return msg

    async def rerun(self, page_name: str = "") -> None:
        """Ask for a run of the page with the current widget states (as the frontend does on load
        and on every widget change)."""
        msg = BackMsg()
        state = msg.rerun_script
        state.page_script_hash = self.page_hash
        state.page_name = page_name
        for widget_id, value in self.states.items():
            widget = state.widget_states.widgets.add()
            widget.id = widget_id
            widget.file_uploader_state_value.CopyFrom(value)
        await self._send(msg)

    async def wait_finished(self) -> None:
        """Read messages until a run finishes successfully."""
        while True:
            msg = await self._receive()
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished == 0:
                return

    async def open(self, page_name: str) -> None:
        """Load a page by its URL name and wait for its first run."""
        await self.rerun(page_name)
        await self.wait_finished()

    async def _file_urls(self, name: str) -> ForwardMsg:
        """Ask for an upload URL; asked again after 2 s without an answer. Streamlit 1.67 drops a
        ``file_urls_response`` still queued when a run starts (``ForwardMsgQueue.clear`` keeps only
        lifecycle messages), a race a client that asks right after a rerun can hit (:meth:`upload`
        avoids it); counted in :attr:`retries`."""
        while True:
            self._request += 1
            msg = BackMsg()
            msg.file_urls_request.request_id = str(self._request)
            msg.file_urls_request.file_names.append(name)
            msg.file_urls_request.session_id = self.session_id
            await self._send(msg)
            deadline = time.perf_counter() + 2.0
            while (left := deadline - time.perf_counter()) > 0:
                try:
                    reply = await self._receive(timeout=left)
                except TimeoutError:
                    break
                kind = reply.WhichOneof("type")
                if kind == "file_urls_response" and reply.file_urls_response.response_id == str(
                    self._request
                ):
                    return reply
            ProtocolSession.retries += 1

    async def upload(self, label: str, path: Path) -> None:
        """Drop a file on the uploader labelled ``label``: URL request, PUT, rerun (not awaited)."""
        reply = await self._file_urls(path.name)
        urls = reply.file_urls_response.file_urls[0]
        content = path.read_bytes()
        response = await self._client.put(
            urls.upload_url,
            files={"file": (path.name, content, "text/csv")},
            headers={"X-Xsrftoken": self._client.cookies.get("_streamlit_xsrf") or ""},
        )
        response.raise_for_status()
        value = FileUploaderState()
        info = value.uploaded_file_info.add()
        info.name, info.size, info.file_id = path.name, len(content), urls.file_id
        info.file_urls.CopyFrom(urls)
        self.states[self.uploaders[label]] = value
        await self.rerun()
        # The browser is slower than this client: by the time it asks for the next upload URL, the run
        # this rerun starts has begun. Waiting for that start (its new_session message) keeps this client
        # out of the race in _file_urls (a dropped answer) instead of paying 2 s per retry.
        while (await self._receive()).WhichOneof("type") != "new_session":
            pass

    async def verdict(self, names: tuple[str, ...]) -> str:
        """Wait for the status box naming every upload and the "Columns drifted" tile; its text."""
        status = tile = ""
        while not (status and tile):
            msg = await self._receive()
            if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
                continue
            element = msg.delta.new_element
            if element.WhichOneof("type") == "alert":
                body = element.alert.body.replace("\\", "")
                if "Reference:" in body and all(name in body for name in names):
                    status = body
            elif element.WhichOneof("type") == "metric" and element.metric.label == "Columns drifted":
                tile = element.metric.body if element.metric.body.endswith(f"of {COLUMNS}") else tile
        return tile


async def protocol_session(url: str, reference: Path, current: Path) -> tuple[float, str]:
    """Seconds from dropping both files to the verdict (as :func:`one_session`), and the tile text."""
    async with ProtocolSession(url) as session:
        await session.open("Input_drift")
        start = time.perf_counter()
        await session.upload("Reference data", reference)
        await session.upload("Current data", current)
        tile = await session.verdict((reference.name, current.name))
        took = time.perf_counter() - start
        await session.wait_finished()
        return took, tile


def client_cpu() -> float:
    """CPU seconds used so far by this process (the protocol client; the browser is
    :func:`browser_cpu`)."""
    return time.process_time()


async def measure(client: str, sessions: int, megabytes: float, check: bool) -> None:
    """The whole benchmark with one kind of client; prints a markdown table."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # Every session its own files: 0 … sessions-1 at once, the next 3 alone, the last the warm-up.
        pairs = [tables(folder, seed, megabytes) for seed in range(sessions + 4)]
        size = pairs[0][1].stat().st_size / 1e6
        server = AppServer(folder)
        pid = server.proc.pid
        checked = ""
        try:
            async with async_playwright() as p:
                browser = None
                if client == "browser" or check:
                    browser = await p.chromium.launch(
                        executable_path=CHROMIUM,
                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                    )

                async def session(reference: Path, current: Path) -> tuple[float, str]:
                    if client == "protocol":
                        return await protocol_session(server.url, reference, current)
                    assert browser is not None
                    return await one_session(browser, server.url, reference, current)

                progress(f"server up; {client} client; warm-up session")
                _, warm_tile = await session(*pairs[-1])  # warm-up: imports, first-run caches
                progress(f"warm-up verdict {warm_tile!r}")
                if client == "protocol" and check and browser is not None:
                    progress("the same files in a browser session")
                if client == "protocol" and check and browser is not None:
                    # The same files in a real browser must give the same verdict.
                    _, browser_tile = await one_session(browser, server.url, *pairs[-1])
                    assert browser_tile == warm_tile, (browser_tile, warm_tile)
                    checked = (
                        f"verdict checked against a browser session on the same files: {warm_tile!r} both"
                    )
                if browser is not None and client == "protocol":
                    await browser.close()
                # Baseline: the warm-up session closed too (lib.ui.housekeeping closes a session after its
                # browser left, checking every 10 s), so the server holds no session data.
                progress("45 s for the warm-up session to be closed (the baseline)")
                await asyncio.sleep(45)
                load_start = os.getloadavg()
                baseline = rss_mb(pid)
                cpu0, ccpu0 = server_cpu(pid), client_cpu() + browser_cpu(pid)
                # (Until session 5 the third single session reused a pair, and so the cached report.)
                single = [(await session(*pairs[sessions + i]))[0] for i in range(3)]
                cpu1, ccpu1 = server_cpu(pid), client_cpu() + browser_cpu(pid)
                progress(
                    f"1 session alone: {', '.join(f'{t:.2f}' for t in single)} s; now {sessions} at once"
                )
                load_mid = os.getloadavg()
                with PeakMemory(pid) as memory:
                    start = time.perf_counter()
                    results = await asyncio.gather(
                        *(session(*pairs[i]) for i in range(sessions)), return_exceptions=True
                    )
                    wall = time.perf_counter() - start
                cpu2, ccpu2 = server_cpu(pid), client_cpu() + browser_cpu(pid)
                load_end = os.getloadavg()
                closed_early = server.log().count("housekeeping: closed session")
                if client == "browser" and browser is not None:
                    await browser.close()
            # Sessions end when their websockets close; sample the server's memory for three minutes.
            progress(f"{sessions} sessions done in {wall:.1f} s; server memory for 3 minutes")
            after: dict[int, float] = {}
            start = time.perf_counter()
            for mark in (10, 30, 60, 120, 180):
                await asyncio.sleep(max(0.0, mark - (time.perf_counter() - start)))
                after[mark] = rss_mb(pid)
        finally:
            server.stop()
    failed = [r for r in results if isinstance(r, BaseException)]
    times = [r[0] for r in results if not isinstance(r, BaseException)]
    for err in failed:
        print(f"a session failed: {str(err).splitlines()[0] if str(err) else repr(err)}")
    one, many = statistics.median(single), statistics.median(times)
    alone, together = (cpu1 - cpu0) / 3, (cpu2 - cpu1) / sessions
    c_alone, c_together = (ccpu1 - ccpu0) / 3, (ccpu2 - ccpu1) / sessions
    timeline = ", ".join(f"+{mark} s: {mb:.0f} MB" for mark, mb in after.items())
    loads = " → ".join(f"{la[0]:.2f}" for la in (load_start, load_mid, load_end))
    print(f"\n### bench_load.py --client {client} --sessions {sessions} --mb {megabytes:g}\n")
    print(
        f"2 × {size:.1f} MB CSV per session ({COLUMNS} columns), {os.cpu_count()} cores, "
        f"1-min load average {loads} (start, after the single runs, after the concurrent ones)"
    )
    if checked:
        print(checked)
    if ProtocolSession.retries:
        print(
            f"upload URLs asked again after 2 s without answer (a Streamlit race): {ProtocolSession.retries}"
        )
    print(
        f"sessions closed by housekeeping before the concurrent ones ended: {closed_early} "
        "(at most the 4 earlier sessions; more would mean a live session was closed)\n"
    )
    print("| measure | value |\n|---|---|")
    print(f"| 1 session alone, median of 3 | **{one:.2f} s** ({', '.join(f'{t:.2f}' for t in single)}) |")
    print(
        f"| {sessions} sessions at once: median / max / all done | **{many:.2f} s** / {max(times):.2f} s / "
        f"{wall:.2f} s |"
    )
    print(f"| median ratio (issue 15: ≤ 3×) | **{many / one:.2f}×** |")
    print(f"| server CPU per session: alone / concurrent | {alone:.2f} s / {together:.2f} s |")
    print(f"| client ({client}) CPU per session: alone / concurrent | {c_alone:.2f} s / {c_together:.2f} s |")
    print(f"| server RSS: baseline / peak | {baseline:.0f} MB / {memory.peak:.0f} MB |")
    print(f"| server RSS after the end | {timeline} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--mb", type=float, default=10.0, help="size of each uploaded CSV")
    parser.add_argument(
        "--client",
        choices=("protocol", "browser"),
        default="protocol",
        help="protocol: Streamlit's websocket + upload endpoint, as the browser speaks them (measures the "
        "server alone); browser: one Chromium tab per session on this machine",
    )
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="protocol client: skip the one browser session that checks the verdict is the same",
    )
    args = parser.parse_args()
    asyncio.run(measure(args.client, args.sessions, args.mb, check=not args.no_check))


if __name__ == "__main__":
    main()
