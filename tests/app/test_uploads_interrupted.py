"""AppTest: no upload is ever silently ignored. A rerun that interrupts the read of a dropped file (a
second drop, a click: Streamlit stops the script where it is) must leave the file unread, so the next
run reads it; a file dropped twice is merged once. Every page that takes uploads is covered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.runtime.scriptrunner import StopException
from streamlit.testing.v1 import AppTest

import lib.drift
from lib.sources import latency as latency_files
from lib.ui import data_page, monitor_page, timing_page
from tests.support.paths import DATA, ROOT

LONG = (
    b"job,metric,timestamp,value\n"
    b"run-a,train:loss,2024-05-01T10:00:00Z,0.5\nrun-a,train:loss,2024-05-01T10:01:00Z,0.25\n"
)


class Interrupt:
    """Wraps a reader: the first ``times`` calls are interrupted as a rerun interrupts the script."""

    def __init__(self, real: Callable[..., Any], times: int = 1) -> None:
        self.real, self.left, self.calls = real, times, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.left > 0:
            self.left -= 1
            raise StopException()
        return self.real(*args, **kwargs)


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if page:
        at.switch_page(page)
    return at.run()


def table_csv(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"upload_col_a": rng.normal(size=50), "upload_col_b": rng.choice(["p", "q"], 50)})
    return frame.to_csv(index=False).encode()


def test_drift_upload_interrupted_mid_read_is_read_by_the_next_run(monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page("pages/2_Input_drift.py")
    reader = Interrupt(lib.drift.read_table)
    monkeypatch.setattr(lib.drift, "read_table", reader)
    uploader = next(u for u in at.file_uploader if u.label.startswith("Reference"))
    uploader.set_value(("mine.csv", table_csv(1), "text/csv")).run()
    assert reader.calls == 1
    assert "drift_reference" not in at.session_state  # the read was cut short
    at.run()  # the rerun that interrupted it
    assert not at.exception, at.exception
    assert reader.calls == 2
    assert at.session_state["drift_reference_label"] == "mine.csv"
    assert list(at.session_state["drift_reference"].columns) == ["upload_col_a", "upload_col_b"]
    at.run()
    assert reader.calls == 2  # read once it succeeded: never again


def test_drift_same_file_dropped_again_is_not_read_twice_and_new_content_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = open_page("pages/2_Input_drift.py")
    calls: list[str] = []
    real = lib.drift.read_table
    monkeypatch.setattr(lib.drift, "read_table", lambda *a, **k: calls.append(k["name"]) or real(*a, **k))
    uploader = next(u for u in at.file_uploader if u.label.startswith("Current"))
    uploader.set_value(("a.csv", table_csv(2), "text/csv")).run()
    at.run().run()
    assert calls == ["a.csv"]
    uploader = next(u for u in at.file_uploader if u.label.startswith("Current"))
    uploader.set_value(("b.csv", table_csv(3), "text/csv")).run()
    assert calls == ["a.csv", "b.csv"]
    assert at.session_state["drift_current_label"] == "b.csv"


def test_data_page_upload_interrupted_mid_read_is_merged_by_the_next_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = open_page()
    reader = Interrupt(data_page.load_export)
    monkeypatch.setattr(data_page, "load_export", reader)
    at.file_uploader[0].set_value(("metrics.csv", LONG, "text/csv")).run()
    assert at.session_state["is_demo"]  # interrupted
    at.run()
    assert not at.exception, at.exception
    assert not at.session_state["is_demo"]
    assert [s["file"] for s in at.session_state["sources"]] == ["metrics.csv"]
    assert len(at.session_state["metrics"]) == 2


def test_data_page_same_file_dropped_twice_at_once_is_merged_once() -> None:
    at = open_page()
    at.file_uploader[0].set_value([("a.csv", LONG, "text/csv"), ("copy.csv", LONG, "text/csv")]).run()
    assert not at.exception, at.exception
    assert len(at.session_state["metrics"]) == 2  # not 4
    notes = [s["notes"] for s in at.session_state["sources"]]
    assert len(notes) == 2
    assert "Same content as a.csv, already loaded: nothing new was added." in notes  # names the original
    assert len(at.session_state["loaded_ids"]) == 2


def test_monitor_upload_interrupted_mid_read_is_read_by_the_next_run(monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page("pages/5_Model_Monitor.py")
    reader = Interrupt(monitor_page.monitor_artifacts)
    monkeypatch.setattr(monitor_page, "monitor_artifacts", reader)
    stats = (DATA / "model_monitor" / "statistics.json").read_bytes()
    at.file_uploader[1].set_value(("statistics.json", stats, "application/json")).run()
    assert "statistics" not in at.session_state["monitor_files"]
    at.run()
    assert not at.exception, at.exception
    assert [n for n, _ in at.session_state["monitor_files"]["statistics"]] == ["statistics.json"]


def test_latency_upload_interrupted_mid_read_is_read_by_the_next_run(monkeypatch: pytest.MonkeyPatch) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/4_Timing_and_cost.py")
    at.session_state["timing_tab"] = timing_page.TABS[2]  # the uploader is on the latency tab
    at.run()
    reader = Interrupt(latency_files.read_latency_export)
    monkeypatch.setattr(latency_files, "read_latency_export", reader)
    sample = DATA / "endpoint_latency_get_metric_data.json"
    at.file_uploader(key="timing_latency_upload").set_value(
        (sample.name, sample.read_bytes(), "application/json")
    )
    at.run()
    assert at.session_state["timing_latency_label"] != sample.name
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["timing_latency_label"] == sample.name
    assert reader.calls == 2
