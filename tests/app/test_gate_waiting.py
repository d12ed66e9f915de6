"""AppTest: a drift upload that waits for its turn (lib.ui.gate) says so, then is read and compared."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib.ui import gate
from tests.support.paths import ROOT


def table_csv(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"gate_a": rng.normal(size=60), "gate_b": rng.choice(["p", "q"], 60)})
    return frame.to_csv(index=False).encode()


def test_an_upload_waiting_for_its_turn_shows_its_place_then_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    fair = gate.FairGate(1)
    monkeypatch.setattr(gate, "server_gate", lambda: fair)
    told: list[str] = []
    asked = threading.Event()
    real_text = gate.waiting_text

    def waiting_text(ahead: int, slots: int) -> str:
        told.append(real_text(ahead, slots))
        asked.set()
        return told[-1]

    monkeypatch.setattr(gate, "waiting_text", waiting_text)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/2_Input_drift.py")
    at.run()

    def other_session() -> None:
        with fair.turn("another session"):
            asked.wait(30)  # holds the only slot until the page has said it waits
        fair.release("another session")

    holder = threading.Thread(target=other_session, daemon=True)
    holder.start()
    for _ in range(1000):
        if fair.queued():
            break
        threading.Event().wait(0.01)
    uploader = next(u for u in at.file_uploader if u.label.startswith("Reference"))
    uploader.set_value(("gate-ref.csv", table_csv(1), "text/csv")).run()
    holder.join(30)
    assert told
    assert told[0].startswith("Waiting for 1 other analysis to finish (number 1 in the queue)")
    assert not at.exception
    assert any(info.value.startswith("**Reference loaded") for info in at.info)  # the file was read
    assert not any(info.value.startswith("Waiting for") for info in at.info)  # the notice is gone
    assert fair.queued() == []  # released once the run had nothing more to compare
