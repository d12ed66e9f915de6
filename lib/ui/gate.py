"""Heavy work served in turn: one process-wide first-come-first-served queue.

Ten sessions that each read two 9 MB uploads and test their columns at the same moment share the
server's cores (and the GIL): processor sharing makes all of them finish together, near the end, so
the median session waits as long as the last. Admitted :data:`SLOTS` at a time (the core count, or
the environment variable ``DRIFTWATCH_HEAVY_SLOTS``), in arrival order, the first ones finish early:
the same total work, about half the median wait. A waiting session is told its place ("Waiting for 3
other analyses to finish…"), never left waiting in silence.

A session keeps its place and its turn across the steps of one action (read the upload, then compare)
and across a rerun that interrupts it: a ticket is released explicitly when the heavy part of a run
is over (:func:`release`), and otherwise :data:`LEASE_S` after the session last used it (a run that
stopped or failed, a browser that left). A waiting session whose browser has left gives up its place.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lib.errors import InputError

#: How many sessions do heavy work at once (default: the machine's cores).
SLOTS_ENV: Final = "DRIFTWATCH_HEAVY_SLOTS"
#: A ticket nobody is inside is dropped this long after it was last left.
LEASE_S: Final = 2.0
#: How often a waiting session looks at the queue (and tells its user).
POLL_S: Final = 0.25


@dataclass
class _Ticket:
    """A place in the queue: ``inside`` counts the threads waiting or working on it; ``left_at`` is
    when the last of them left (the lease runs from then); ``released`` drops it when they have."""

    owner: str
    inside: int = 0
    left_at: float | None = None
    released: bool = False


class FairGate:
    """At most ``slots`` owners at work at once; the others wait in arrival order (thread-safe).

    ``clock`` is injectable for tests. An owner's ticket is its place: entering again while it holds
    one (a rerun, the next step) keeps that place.
    """

    def __init__(self, slots: int, *, lease_s: float = LEASE_S, clock: Callable[[], float] = time.monotonic):
        self.slots = max(1, slots)
        self.lease_s = lease_s
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: list[_Ticket] = []

    def _expire(self) -> None:
        """Drop tickets nobody has been inside for ``lease_s`` (caller holds the lock)."""
        now = self._clock()
        kept = [t for t in self._queue if t.inside or t.left_at is None or now - t.left_at < self.lease_s]
        if len(kept) != len(self._queue):
            self._queue = kept
            self._cond.notify_all()

    def _find(self, owner: str) -> _Ticket | None:
        return next((t for t in self._queue if t.owner == owner), None)

    def ahead(self, owner: str) -> int:
        """How many tickets are ahead of ``owner``'s (at work or waiting); -1 without a ticket."""
        with self._cond:
            self._expire()
            ticket = self._find(owner)
            return -1 if ticket is None else self._queue.index(ticket)

    def queued(self) -> list[str]:
        """The owners in queue order (the first ``slots`` are at work)."""
        with self._cond:
            self._expire()
            return [t.owner for t in self._queue]

    @contextlib.contextmanager
    def turn(self, owner: str, on_wait: Callable[[int], None] | None = None) -> Iterator[None]:
        """Wait for ``owner``'s turn, then run the body. ``on_wait(ahead)`` is called about every
        :data:`POLL_S` while waiting, outside the lock; it may raise to give up (the place is then
        kept for the lease, so a rerun that comes back at once keeps it)."""
        with self._cond:
            self._expire()
            ticket = self._find(owner)
            if ticket is None:
                ticket = _Ticket(owner)
                self._queue.append(ticket)
            ticket.inside += 1
            ticket.left_at = None
        try:
            while True:
                with self._cond:
                    self._expire()  # never drops this ticket: a ticket with a thread inside is kept
                    place = self._queue.index(ticket)
                    if place >= self.slots:
                        self._cond.wait(POLL_S)
                        self._expire()
                        place = self._queue.index(ticket)
                if place < self.slots:
                    break
                if on_wait is not None:
                    on_wait(place)
            yield
        finally:
            with self._cond:
                ticket.inside -= 1
                if ticket.inside == 0:
                    ticket.left_at = self._clock()
                    if ticket.released and ticket in self._queue:
                        self._queue.remove(ticket)
                self._cond.notify_all()

    def release(self, owner: str) -> None:
        """Give up ``owner``'s place now (its heavy work is done); a ticket still in use is dropped
        when its last user leaves."""
        with self._cond:
            ticket = self._find(owner)
            if ticket is not None and ticket.inside == 0:
                self._queue.remove(ticket)
            elif ticket is not None:
                ticket.released = True  # dropped as soon as it is left
            self._cond.notify_all()


def slots_from(environ: dict[str, str] | os._Environ[str]) -> int:
    """The number of slots: ``DRIFTWATCH_HEAVY_SLOTS`` if set (a positive integer), else the cores."""
    raw = environ.get(SLOTS_ENV, "").strip()
    if not raw:
        return os.cpu_count() or 1
    try:
        slots = int(raw)
    except ValueError:
        slots = 0
    if slots < 1:
        raise InputError(f"{SLOTS_ENV}={raw!r} is not a positive whole number.", hint="For example 2.")
    return slots


@st.cache_resource(show_spinner=False)
def server_gate() -> FairGate:
    """The server's one gate (shared by every session)."""
    return FairGate(slots_from(os.environ))


def waiting_text(ahead: int, slots: int) -> str:
    """What a waiting session is told: how many analyses are ahead and its place in the queue."""
    others = "analysis" if ahead == 1 else "analyses"
    place = ahead - slots + 1
    return (
        f"Waiting for {ahead} other {others} to finish (number {place} in the queue): the server works on "
        f"{slots} at a time so that each finishes sooner."
    )


def _session() -> tuple[str, Any]:
    """The running session's id ("" outside a session) and the runtime (None outside a server)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    server: Any = runtime.get_instance() if runtime.exists() else None
    return (ctx.session_id if ctx is not None else ""), server


@contextlib.contextmanager
def heavy_turn() -> Iterator[None]:
    """Run the body in this session's turn, showing its place while it waits; gives up (``st.stop``)
    if the session's browser leaves while waiting."""
    owner, server = _session()
    if not owner:
        yield
        return
    gate = server_gate()
    box: Any = None
    is_active = getattr(server, "is_active_session", None)

    def on_wait(ahead: int) -> None:
        nonlocal box
        if callable(is_active) and not is_active(owner):
            gate.release(owner)
            st.stop()
        # Drawn at every poll, changed or not: each Streamlit call lets a rerun request (a second drop,
        # a click) interrupt the wait at once, the place kept for the lease.
        box = box or st.empty()
        box.info(waiting_text(ahead, gate.slots), icon=":material/hourglass_top:")

    try:
        with gate.turn(owner, on_wait):
            if box is not None:
                box.empty()
            yield
    finally:
        if box is not None:
            box.empty()


def release() -> None:
    """This session's heavy work in this run is over: let the next one in."""
    owner, _ = _session()
    if owner:
        server_gate().release(owner)
