"""Memory given back after a team's sessions end.

Streamlit keeps a disconnected session (its ``session_state``, its uploaded files) for reconnection:
``server.disconnectedSessionTTL`` (120 s), and after that drops it only lazily, on the next disconnect,
without shutting it down, so the uploads of ended sessions stay in its upload manager. Ten sessions
of two 9 MB uploads each kept the server ~750 MB above its baseline 60 s after they ended. A reload
does not need the old session (the reload store, :mod:`lib.ui.session_store`, gives the data back), so
a background sweep closes sessions that have been disconnected for :data:`GRACE_S` (a network blip
shorter than that still reconnects to the same session), then returns freed memory to the system:
``gc.collect()``, Arrow's memory pool ``release_unused()`` and, on Linux with glibc, ``malloc_trim(0)``
(glibc keeps freed memory in its arenas otherwise).

It uses Streamlit's thread-safe ``Runtime.is_active_session`` and ``Runtime.clear_user_info_for_session``
(the latter closes a stored session on the event loop, the way a logout does); where these are missing
(another Streamlit version, AppTest) the sweep does nothing.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import streamlit as st
from streamlit import runtime
from streamlit.logger import get_logger
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lib.memory import return_freed_memory

#: A session disconnected this long is closed (its state and uploads freed). Three times the first
#: choice (30 s lost one live session's upload under heavy load: benchmarks/README.md, session 4), and
#: below Streamlit's own ``server.disconnectedSessionTTL`` (120 s): past that Streamlit may already have
#: dropped the session from its manager, unclosed, and its memory would never come back.
GRACE_S: Final = 90.0
#: How often the sweep runs.
INTERVAL_S: Final = 10.0
_LOG = get_logger(__name__)


def release_memory() -> None:
    """Give memory freed by Python, Arrow and malloc back to the operating system (best effort)."""
    gc.collect()
    return_freed_memory()


@dataclass
class Housekeeper:
    """Closes sessions disconnected for ``grace_s`` (thread-safe); ``is_active`` and ``close`` are the
    runtime's, tests pass their own."""

    is_active: Callable[[str], bool]
    close: Callable[[str], None]
    grace_s: float = GRACE_S
    clock: Callable[[], float] = time.monotonic
    _gone_since: dict[str, float | None] = field(default_factory=dict)
    _runs: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, session_id: str) -> None:
        """A session ran a page: watch it."""
        with self._lock:
            self._gone_since[session_id] = None
            self._runs += 1

    def take_runs(self) -> int:
        """Page runs since the last call."""
        with self._lock:
            runs, self._runs = self._runs, 0
            return runs

    def sweep(self) -> int:
        """Close sessions disconnected for ``grace_s``; how many were closed."""
        now, closed = self.clock(), []
        with self._lock:
            for session_id, since in list(self._gone_since.items()):
                if self.is_active(session_id):
                    self._gone_since[session_id] = None
                elif since is None:
                    self._gone_since[session_id] = now
                elif now - since >= self.grace_s:
                    closed.append((session_id, now - since))
                    del self._gone_since[session_id]
        for session_id, gone in closed:
            _LOG.info("housekeeping: closed session %s, disconnected for %.0f s", session_id, gone)
            self.close(session_id)
        return len(closed)

    def __len__(self) -> int:
        with self._lock:
            return len(self._gone_since)


def _run(keeper: Housekeeper, interval_s: float) -> None:
    """The sweeping thread: every ``interval_s``, close what has gone, and give memory back when
    sessions were closed (closing runs on the event loop: wait a moment for it) or pages ran.

    This collection replaces Streamlit's own after every script run (``runner.postScriptGC = false``
    in ``.streamlit/config.toml``): a full ``gc.collect()`` takes 0.1-0.25 s of CPU with the GIL held,
    after each of a session's runs, in every session at once; here it runs at most once per interval.
    """
    while True:
        time.sleep(interval_s)
        with contextlib.suppress(Exception):  # a failed sweep must never end the thread
            if keeper.sweep():
                time.sleep(2.0)
                keeper.take_runs()
                release_memory()
            elif keeper.take_runs():
                release_memory()


@st.cache_resource(show_spinner=False)
def housekeeper() -> Housekeeper | None:
    """The server's one housekeeper and its sweeping thread; None outside a running server."""
    if not runtime.exists():
        return None
    server: Any = runtime.get_instance()
    if not issubclass(type(server), runtime.Runtime) or not hasattr(server, "clear_user_info_for_session"):
        return None  # AppTest's stand-in, or a Streamlit without the method
    keeper = Housekeeper(server.is_active_session, server.clear_user_info_for_session)
    threading.Thread(
        target=_run, args=(keeper, INTERVAL_S), name="driftwatch-housekeeping", daemon=True
    ).start()
    return keeper


def watch_session() -> None:
    """Register the running session with the housekeeper (called at the start of every page run)."""
    keeper = housekeeper()
    ctx = get_script_run_ctx(suppress_warning=True)
    if keeper is not None and ctx is not None:
        keeper.register(ctx.session_id)
