"""lib.ui.gate: heavy work served first come, first served, a few at a time (threads, no timings)."""

from __future__ import annotations

import threading

import pytest

from lib.errors import InputError
from lib.ui import gate
from lib.ui.gate import FairGate


class Clock:
    """A clock the test moves by hand (leases)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _worker(fair: FairGate, owner: str, order: list[str], start: threading.Event) -> threading.Thread:
    """A thread that waits for its turn, then records it (after ``start`` is set)."""

    def run() -> None:
        with fair.turn(owner):
            order.append(owner)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _wait_queued(fair: FairGate, n: int) -> None:
    """Until ``n`` owners are in the queue (each worker joined before the next starts)."""
    for _ in range(2000):
        if len(fair.queued()) >= n:
            return
        threading.Event().wait(0.005)
    raise AssertionError(f"only {fair.queued()} queued")


def test_waiters_are_served_in_arrival_order() -> None:
    fair = FairGate(1)
    order: list[str] = []
    done = threading.Event()
    with fair.turn("first"):  # holds the only slot while the others line up
        threads = []
        for i, name in enumerate(["a", "b", "c", "d", "e"]):
            threads.append(_worker(fair, name, order, done))
            _wait_queued(fair, i + 2)
        assert fair.queued() == ["first", "a", "b", "c", "d", "e"]
        assert order == []  # nobody passed the holder
    fair.release("first")
    for thread in threads:
        thread.join(10)
    assert order == ["a", "b", "c", "d", "e"]


def test_slots_admit_that_many_at_once() -> None:
    fair = FairGate(2)
    inside = threading.Barrier(2, timeout=10)  # both must be inside together, or this times out

    def run(owner: str) -> None:
        with fair.turn(owner):
            inside.wait()

    threads = [threading.Thread(target=run, args=(o,), daemon=True) for o in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not inside.broken


def test_an_owner_keeps_its_place_and_turn_across_steps_and_reruns() -> None:
    clock = Clock()
    fair = FairGate(1, clock=clock)
    with fair.turn("s1"):
        pass  # first step done, not released: the lease keeps the turn
    fair_order: list[str] = []
    other = _worker(fair, "s2", fair_order, threading.Event())
    _wait_queued(fair, 2)
    clock.now += 1.0  # within the lease: s1 comes back (the next step, or a rerun) and goes first
    with fair.turn("s1"):
        assert fair_order == []
    fair.release("s1")
    other.join(10)
    assert fair_order == ["s2"]


def test_a_ticket_left_alone_expires_after_the_lease() -> None:
    clock = Clock()
    fair = FairGate(1, clock=clock)
    with fair.turn("gone"):
        pass  # its run stopped without releasing (browser left, st.stop, an error)
    assert fair.ahead("gone") == 0
    clock.now += gate.LEASE_S + 0.1
    assert fair.queued() == []
    assert fair.ahead("gone") == -1


def test_a_waiter_that_gives_up_keeps_its_place_for_the_lease_then_loses_it() -> None:
    clock = Clock()
    fair = FairGate(1, clock=clock)
    seen: list[int] = []

    def give_up(ahead: int) -> None:
        seen.append(ahead)
        raise RuntimeError("rerun")  # what Streamlit raises in an interrupted run

    with fair.turn("holder"):
        with pytest.raises(RuntimeError), fair.turn("waiter", give_up):
            pass
        assert seen == [1]
        assert fair.queued() == ["holder", "waiter"]  # the place is kept for the rerun
        clock.now += gate.LEASE_S + 0.1
        assert fair.queued() == ["holder"]  # nobody came back: the place is free again


def test_a_waiter_released_while_waiting_loses_its_place_at_once() -> None:
    fair = FairGate(1, clock=Clock())

    def browser_left(ahead: int) -> None:
        fair.release("waiter")  # what heavy_turn does when the session's browser has gone
        raise RuntimeError("stop")

    with fair.turn("holder"):
        with pytest.raises(RuntimeError), fair.turn("waiter", browser_left):
            pass
        assert fair.queued() == ["holder"]  # no lease kept for a session that left


def test_waiting_callback_reports_how_many_are_ahead() -> None:
    fair = FairGate(1)
    seen: list[int] = []
    asked = threading.Event()
    order: list[str] = []

    def on_wait(ahead: int) -> None:
        seen.append(ahead)
        asked.set()

    def last() -> None:
        with fair.turn("me", on_wait):
            order.append("me")

    with fair.turn("holder"):
        earlier = _worker(fair, "earlier", order, threading.Event())
        _wait_queued(fair, 2)
        thread = threading.Thread(target=last, daemon=True)
        thread.start()
        assert asked.wait(10)
    fair.release("holder")
    earlier.join(10)
    thread.join(10)
    assert seen[0] == 2  # the holder and the earlier waiter
    assert order == ["earlier", "me"]


def test_waiting_text_names_the_others_and_the_place() -> None:
    assert gate.waiting_text(3, 2) == (
        "Waiting for 3 other analyses to finish (number 2 in the queue): the server works on 2 at a time "
        "so that each finishes sooner."
    )
    assert "1 other analysis to finish (number 1 in the queue)" in gate.waiting_text(1, 1)


def test_slots_from_environment() -> None:
    assert gate.slots_from({gate.SLOTS_ENV: "3"}) == 3
    assert gate.slots_from({}) >= 1
    for bad in ("0", "-1", "two"):
        with pytest.raises(InputError, match=gate.SLOTS_ENV):
            gate.slots_from({gate.SLOTS_ENV: bad})
