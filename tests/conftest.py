"""Shared fixtures: tiny canonical frames, a seeded RNG, Streamlit caches, and a real app server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support.paths import ROOT

CHROMIUM = os.environ.get("DRIFTWATCH_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def metrics() -> pd.DataFrame:
    """Two runs × two metrics × three epochs, canonical."""
    from lib.schema import validate_metrics

    t0 = pd.Timestamp("2026-11-02 09:00", tz="UTC")
    rows = []
    for j, job in enumerate(["run-a", "run-b"]):
        for m, metric in enumerate(["train:accuracy", "validation:accuracy"]):
            for epoch in range(3):
                rows.append(
                    {
                        "job": job,
                        "metric": metric,
                        "timestamp": t0 + pd.Timedelta(hours=5 * j, minutes=2 * epoch),
                        "value": 0.5 + 0.1 * epoch - 0.05 * m + 0.02 * j,
                        "epoch": epoch,
                    }
                )
    return validate_metrics(pd.DataFrame(rows))


@pytest.fixture(autouse=True)
def _clear_streamlit_caches() -> Iterator[None]:
    """st.cache_data is process-global; AppTest tests must not see each other's cached values."""
    yield
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_data.clear()
        st.cache_resource.clear()


# ---------------------------------------------------------------- real server + browser (e2e)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ok(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"streamlit did not answer {url} within {timeout} s")


class AppServer:
    """A ``streamlit run app.py`` process (or another ``script``) on a free loopback port."""

    def __init__(self, log_dir: Path, env: dict[str, str] | None = None, *, script: str = "app.py") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"streamlit-{self.port}.log"
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        cmd = [
            sys.executable, "-m", "streamlit", "run", script,
            "--server.headless", "true", "--server.port", str(self.port),
            "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        try:
            _wait_ok(f"{self.url}/_stcore/health", self.proc)
        except RuntimeError:
            self.stop()
            raise

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """One app server shared by the browser tests that do not need a cold start."""
    server = AppServer(tmp_path_factory.mktemp("server"))
    yield server
    server.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Callable[..., AppServer]]:
    """Factory for a brand-new server (cold deep links, custom environment)."""
    servers: list[AppServer] = []

    def start(env: dict[str, str] | None = None) -> AppServer:
        servers.append(AppServer(tmp_path, env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, object]) -> dict[str, object]:
    """Debian's Chromium (Playwright's own download is not available here). Missing = failure."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests cannot run. "
            "`make test` installs it with apt-get (needs root)."
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-quic",
        ],
    }  # fmt: skip


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, object]) -> dict[str, object]:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}, "accept_downloads": True}
