"""Housekeeping: sessions whose browser has gone are closed after a grace period, then memory is
given back (the figures are in benchmarks/README.md, bench_load.py)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lib.ui import housekeeping
from tests.support.paths import ROOT


def test_a_disconnected_session_is_closed_after_the_grace_period_and_only_once() -> None:
    now = [0.0]
    active = {"s1": True, "s2": True}
    closed: list[str] = []
    keeper = housekeeping.Housekeeper(
        lambda sid: active.get(sid, False), closed.append, grace_s=30.0, clock=lambda: now[0]
    )
    keeper.register("s1")
    keeper.register("s2")
    assert keeper.sweep() == 0
    active["s1"] = False  # its browser went away
    now[0] = 10.0
    assert keeper.sweep() == 0  # first seen gone: the grace period starts
    now[0] = 35.0
    assert keeper.sweep() == 0  # 25 s gone: a network blip may still reconnect
    now[0] = 41.0
    assert keeper.sweep() == 1
    assert closed == ["s1"]
    assert keeper.sweep() == 0  # not closed twice
    assert len(keeper) == 1
    assert keeper.take_runs() == 2  # page runs since the start: memory is collected after runs
    assert keeper.take_runs() == 0


def test_a_session_that_reconnects_in_time_is_kept() -> None:
    now = [0.0]
    active = {"s1": False}
    closed: list[str] = []
    keeper = housekeeping.Housekeeper(
        lambda sid: active[sid], closed.append, grace_s=30.0, clock=lambda: now[0]
    )
    keeper.register("s1")
    keeper.sweep()
    now[0] = 20.0
    active["s1"] = True  # reconnected
    keeper.sweep()
    active["s1"] = False
    now[0] = 45.0
    keeper.sweep()  # gone again: a new grace period from here
    now[0] = 70.0
    assert keeper.sweep() == 0
    assert closed == []


def test_release_memory_runs_here() -> None:
    housekeeping.release_memory()  # gc, Arrow's pool, malloc_trim on glibc: never raises


def test_without_a_server_runtime_there_is_no_housekeeper() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert housekeeping.housekeeper() is None
