"""The Timing page's live latency load: one stated deadline with Stop, like the AWS page's actions.
Network faults come from real local servers (tests/support/fault_servers.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lib.ui import aws_page, timing_page
from tests.support.fault_servers import answering_server, hanging_server, only_fake_credentials
from tests.support.paths import ROOT

PAGE = "pages/4_Timing_and_cost.py"
T0 = 1_714_953_600.0  # 2024-05-06 00:00 UTC


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    only_fake_credentials(monkeypatch)


def connected(url: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(PAGE)
    at.session_state["aws_connection"] = {
        "profile": None, "region": "us-east-1", "endpoint": url, "account": "1", "arn": "a",
    }  # fmt: skip
    at.session_state["timing_tab"] = timing_page.TABS[2]  # the latency tab: only the open tab is drawn
    return at.run()


def load(at: AppTest, endpoint: str = "churn-ep") -> AppTest:
    at.text_input(key="timing_endpoint").input(endpoint)
    return next(b for b in at.button if b.label == "Load from CloudWatch").click().run()


@pytest.fixture
def first_page_then_hang() -> Iterator[tuple[str, list[str]]]:
    """A CloudWatch that sends one page of every series (with a NextToken) and then never answers."""
    release = threading.Event()
    calls: list[str] = []

    def responder(operation: str, request: bytes) -> tuple[int, dict[str, str], bytes, int | None]:
        calls.append(operation)
        if len(calls) > 1:  # the next page (and its retries) hang until the test ends
            release.wait(60)
        queries = json.loads(request)["MetricDataQueries"]
        results = [
            {"Id": q["Id"], "Timestamps": [T0 + 60 * i for i in range(5)], "Values": [1000.0 * (i + 1)] * 5,
             "StatusCode": "PartialData"}
            for i, q in enumerate(queries)
        ]  # fmt: skip
        body = json.dumps({"MetricDataResults": results, "NextToken": f"page-{len(calls)}"}).encode()
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body, None

    with answering_server(responder) as (url, _):
        yield url, calls
        release.set()


def test_the_live_load_states_its_deadline() -> None:
    at = connected("http://127.0.0.1:9")
    assert "Load latency gives up after 120 s; **Stop** ends it sooner." in [c.value for c in at.caption]


def test_a_hanging_endpoint_ends_at_the_deadline_and_keeps_the_latency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(aws_page.ACTION_SECONDS, timing_page.LATENCY_ACTION, 3.0)
    with hanging_server() as (url, seen):
        at = connected(url)
        before = at.session_state["timing_latency"].copy()
        load(at)
    assert not at.exception
    assert any(e.value.startswith("Load latency timed out after 3 s") for e in at.error)
    assert seen.connections <= 3
    assert at.session_state["timing_latency"].equals(before)  # the demo latency is still shown
    assert at.session_state["aws_running"] is None  # it ended: no "stopped" notice next time


def test_records_read_before_the_deadline_are_kept_and_not_cached(
    monkeypatch: pytest.MonkeyPatch, first_page_then_hang: tuple[str, list[str]]
) -> None:
    monkeypatch.setitem(aws_page.ACTION_SECONDS, timing_page.LATENCY_ACTION, 4.0)
    url, calls = first_page_then_hang
    at = load(connected(url))
    assert not at.exception
    latency = at.session_state["timing_latency"]
    assert latency.attrs["partial"] is True
    assert len(latency) == 5 * len(latency[["metric", "stat"]].drop_duplicates())  # page one, every series
    assert at.session_state["timing_latency_label"].endswith("(incomplete)")
    assert any("before CloudWatch sent every page" in w.value for w in at.warning)
    first = len(calls)
    load(at)  # a cut-short load was not cached: asking again asks CloudWatch again
    assert len(calls) > first


def test_a_stopped_live_load_says_so_and_keeps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop reruns the page; Streamlit ends the running script at its next element call. Simulated by
    ending the run inside the load, as that rerun does."""

    def stopped(*args: Any, **kwargs: Any) -> Any:
        st.stop()

    monkeypatch.setattr(timing_page.endpoint_latency, "load_endpoint_latency", stopped)
    at = connected("http://127.0.0.1:9")
    before = at.session_state["timing_latency"].copy()
    load(at)
    assert at.session_state["aws_running"] == timing_page.LATENCY_ACTION
    at.run()  # the rerun after Stop
    assert "Load latency was stopped before it finished: nothing from it was kept." in [
        w.value for w in at.warning
    ]
    assert at.session_state["timing_latency"].equals(before)
