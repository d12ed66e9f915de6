"""AppTest: the team deployment (login gate, endpoint allow-list, no port-scan oracle) and the
deadline + Stop of every AWS action on the "Load from AWS" page.

AppTest cannot do a real OIDC round trip: ``at.user`` seeds what ``st.user`` reads (logged in or
not) and ``st.login`` is replaced by a recorder. Network faults come from real local servers
(tests/support/fault_servers.py).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lib.sources.aws import load as live
from lib.ui import auth, aws_page
from tests.support import aws_server
from tests.support.aws_server import ACCOUNT, seed_training_jobs
from tests.support.fault_servers import answer, answering_server, hanging_server
from tests.support.paths import ROOT

moto_endpoint = aws_server.moto_endpoint
aws_env = aws_server.aws_env

PAGE = "pages/6_Load_from_AWS.py"
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-test-cookie-secret-not-used-anywhere",
    "client_id": "driftwatch",
    "client_secret": "test-client-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
PAGES = [
    "app.py",
    "pages/1_Training_runs.py",
    "pages/2_Input_drift.py",
    "pages/3_Prediction_drift.py",
    "pages/4_Timing_and_cost.py",
    "pages/5_Model_Monitor.py",
    PAGE,
]


def app(
    *, team: dict[str, Any] | None = None, auth_section: bool = True, user: dict | None = None
) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if team is not None:
        at.secrets["driftwatch"] = team
    if auth_section:
        at.secrets["auth"] = AUTH
    if user is not None:
        at.user = user
    return at


def texts(elements: Any) -> list[str]:
    return [e.value for e in elements]


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def logged_in_team(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Team mode through the environment, with a logged-in visitor."""
    monkeypatch.setenv(auth.TEAM_MODE_ENV, "1")
    monkeypatch.delenv(auth.ALLOW_LIST_ENV, raising=False)
    return {"is_logged_in": True, "email": "ada_lovelace@example.com", "name": "Ada"}


# ---------------------------------------------------------------- the login gate


@pytest.mark.parametrize("script", PAGES)
def test_team_mode_shows_only_the_login_screen_until_logged_in(
    script: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(auth.TEAM_MODE_ENV, "1")
    at = app(user={"is_logged_in": False})
    if script != "app.py":
        at.switch_page(script)
    at.run()
    assert not at.exception
    assert texts(at.title) == ["Driftwatch"]
    assert [b.key for b in at.button] == ["auth_login"]
    assert len(at.sidebar) == 0  # no navigation, no data summary
    assert not at.file_uploader
    assert not at.get("vega_lite_chart")
    assert not at.dataframe
    assert "metrics" not in at.session_state  # the demo was not even loaded


def test_the_login_button_starts_streamlits_oidc_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.TEAM_MODE_ENV, "1")
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(st, "login", lambda *args: calls.append(args))
    at = app(team={"login_provider": "corp"}, user={"is_logged_in": False}).run()
    at.button(key="auth_login").click().run()
    assert calls == [("corp",)]


def test_a_logged_in_visitor_sees_the_app_and_who_they_are(logged_in_team: dict[str, Any]) -> None:
    at = app(user=logged_in_team).run()
    assert not at.exception
    assert texts(at.title) == ["Data"]
    assert "Logged in as ada_lovelace@example.com" in texts(at.sidebar.text)
    assert "auth_logout" in [b.key for b in at.sidebar.button]


def test_team_mode_from_the_secrets_alone_turns_the_gate_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(auth.TEAM_MODE_ENV, raising=False)
    at = app(team={"team_mode": True}, user={"is_logged_in": False}).run()
    assert [b.key for b in at.button] == ["auth_login"]


def test_team_mode_without_a_login_configuration_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.TEAM_MODE_ENV, "1")
    at = app(auth_section=False, team={"team_mode": True}, user={"is_logged_in": True}).run()
    assert not at.exception
    assert len(at.error) == 1
    assert "no login is configured" in at.error[0].value
    assert not at.title
    assert len(at.sidebar) == 0


def test_unreadable_team_settings_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(auth.TEAM_MODE_ENV, raising=False)
    at = app(team={"team_mode": False, "endpoint_allow_list": 5}, user={"is_logged_in": True}).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The team deployment settings are invalid: [driftwatch] endpoint_allow_list must be a list of URLs."
    ]
    assert not at.title


def test_without_team_mode_there_is_no_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(auth.TEAM_MODE_ENV, raising=False)
    at = app(auth_section=False, user={"is_logged_in": False}).run()
    assert texts(at.title) == ["Data"]


def test_read_team_settings_merges_environment_and_secrets() -> None:
    settings = auth.read_team_settings(
        {auth.TEAM_MODE_ENV: "yes", auth.ALLOW_LIST_ENV: "http://b:2/, http://a:1"},
        {"driftwatch": {"endpoint_allow_list": ["http://a:1"], "team_mode": False}},
    )
    assert settings.team_mode  # either source turns it on; neither turns the other off
    assert settings.endpoint_allow_list == ("http://a:1", "http://b:2")
    assert not auth.read_team_settings({auth.TEAM_MODE_ENV: "0"}, {}).team_mode


# ---------------------------------------------------------------- endpoint URL in team mode


def test_team_mode_without_an_allow_list_offers_no_endpoint_field(
    aws_env: str, logged_in_team: dict[str, Any]
) -> None:
    at = app(user=logged_in_team).switch_page(PAGE).run()
    assert not at.exception
    assert "aws_endpoint" not in [t.key for t in at.text_input]
    assert any("AWS itself (set by this team deployment)" in c for c in texts(at.caption))


def test_team_mode_offers_only_the_allow_list(aws_env: str, logged_in_team: dict[str, Any]) -> None:
    at = app(team={"endpoint_allow_list": [aws_env]}, user=logged_in_team).switch_page(PAGE).run()
    assert at.selectbox(key="aws_endpoint").options == ["AWS itself", aws_env]
    at.selectbox(key="aws_endpoint").select(aws_env).run()
    at.button(key="aws_connect_button").click().run()
    assert not at.error
    assert at.session_state["aws_connection"]["account"] == ACCOUNT


def test_a_forged_endpoint_value_never_reaches_the_server(
    aws_env: str, logged_in_team: dict[str, Any]
) -> None:
    """A widget value set by hand (as a crafted websocket message could) is not used."""
    with answering_server(answer(b"{}")) as (url, seen):
        at = app(user=logged_in_team).switch_page(PAGE).run()
        at.session_state["aws_form"]["aws_endpoint"] = url
        at.session_state["aws_endpoint"] = url
        at.button(key="aws_connect_button").click().run()
    assert seen.requests == []
    assert at.session_state["aws_connection"]["endpoint"] is None  # AWS itself (moto via the environment)


def test_connect_itself_refuses_an_endpoint_off_the_allow_list(logged_in_team: dict[str, Any]) -> None:
    """The check the server makes whatever the page draws (defence in depth)."""

    def script() -> None:
        from lib.ui import aws_page
        from lib.ui.frame import friendly_errors

        with friendly_errors(stop=False):
            aws_page.aws_connect(None, "us-east-1", "http://169.254.169.254:80")

    at = AppTest.from_function(script, default_timeout=30).run()
    assert texts(at.error) == ["This team deployment only connects to AWS itself."]
    assert "aws_connection" not in at.session_state or at.session_state["aws_connection"] is None


def test_team_mode_errors_do_not_tell_open_from_closed_ports(
    aws_env: str, logged_in_team: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(aws_page.ACTION_SECONDS, "Connect", 2.0)
    closed = closed_port()
    with (
        hanging_server() as (silent, _),
        answering_server(answer(b"<html>not aws</html>", content_type="text/html")) as (web, _),
    ):
        allowed = [closed, silent, web]
        at = app(team={"endpoint_allow_list": allowed}, user=logged_in_team).switch_page(PAGE).run()
        shown = []
        for url in allowed:
            at.selectbox(key="aws_endpoint").select(url).run()
            at.button(key="aws_connect_button").click().run()
            shown.append((texts(at.error), texts(at.caption)))
    assert shown[0][0] == [aws_page.TEAM_NETWORK_MESSAGE]
    assert shown[0] == shown[1] == shown[2]


# ---------------------------------------------------------------- deadlines and Stop


def test_every_action_states_its_deadline(aws_env: str) -> None:
    at = app(auth_section=False).switch_page(PAGE).run()
    assert "Connect gives up after 20 s; **Stop** ends it sooner." in texts(at.caption)
    at.button(key="aws_connect_button").click().run()
    captions = texts(at.caption)
    assert any(c.startswith("Find jobs gives up after 60 s") for c in captions)
    assert any("Load capture gives up after 600 s" in c for c in captions)


@pytest.fixture
def connected_to_hanging(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AppTest, Any]]:
    """A page connected (to moto), then pointed at an endpoint that accepts and never answers."""
    with hanging_server() as (url, seen):
        at = app(auth_section=False).switch_page(PAGE).run()
        at.button(key="aws_connect_button").click().run()
        at.session_state["aws_connection"] = {**at.session_state["aws_connection"], "endpoint": url}
        yield at, seen


def test_find_against_a_hanging_endpoint_ends_with_timed_out(
    connected_to_hanging: tuple[AppTest, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    at, seen = connected_to_hanging
    monkeypatch.setitem(aws_page.ACTION_SECONDS, "Find jobs", 4.0)
    at.button(key="aws_find_button").click().run()
    assert len(at.error) == 1
    assert at.error[0].value.startswith("Find jobs timed out after 4 s")
    assert seen.connections <= 3  # 0 if a very busy machine spends the budget making the client
    assert at.session_state["aws_running"] is None  # it ended: no "stopped" notice next time
    assert at.session_state["aws_found"] is None


def test_list_endpoints_against_a_hanging_endpoint_ends_with_timed_out(
    connected_to_hanging: tuple[AppTest, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    at, _ = connected_to_hanging
    monkeypatch.setitem(aws_page.ACTION_SECONDS, "List endpoints", 2.0)
    at.button(key="aws_ep_list_button").click().run()
    assert any(e.startswith("List endpoints timed out after 2 s") for e in texts(at.error))


def test_a_stopped_load_says_so_keeps_nothing_and_is_not_cached(
    aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stop (or any click) reruns the page; Streamlit ends the running script at its next element
    call. Simulated here by ending the run inside the load, as that rerun does."""
    seed_training_jobs(aws_env, n_jobs=1, epochs=2, instance_metrics=False)
    real = live.load_jobs_for_charts
    calls: list[int] = []

    def stopped_the_first_time(*args: Any, **kwargs: Any) -> live.LiveLoad:
        calls.append(1)
        if len(calls) == 1:
            kwargs["progress"](0.3, "Fetching metrics (1/2)")
            st.stop()  # the same ScriptControlException family a Stop-triggered rerun raises
        return real(*args, **kwargs)

    monkeypatch.setattr(live, "load_jobs_for_charts", stopped_the_first_time)
    at = app(auth_section=False).switch_page(PAGE).run()
    at.button(key="aws_connect_button").click().run()
    at.button(key="aws_find_button").click().run()
    at.button(key="aws_load_button").click().run()
    assert at.session_state["aws_running"] == "Load"
    assert at.session_state["is_demo"] is True  # nothing from the stopped load was kept
    at.run()  # the rerun after Stop
    assert "Load was stopped before it finished: nothing from it was kept." in texts(at.warning)
    at.button(key="aws_load_button").click().run()
    assert len(calls) == 2  # not served from st.cache_data: the stopped call cached nothing
    assert at.session_state["is_demo"] is False
    assert not any("stopped" in w for w in texts(at.warning))


def test_a_partial_load_is_shown_but_never_cached(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_training_jobs(aws_env, n_jobs=1, epochs=2, instance_metrics=False)
    real = live.load_jobs_for_charts
    calls: list[int] = []

    def partial(*args: Any, **kwargs: Any) -> live.LiveLoad:
        calls.append(1)
        result = real(*args, **kwargs)
        failed = live.LoadWarning("metrics", "CloudWatch GetMetricData failed for 1 series.", failed=True)
        return live.LiveLoad(result.jobs, result.metrics, (*result.warnings, failed), result.notes)

    monkeypatch.setattr(live, "load_jobs_for_charts", partial)
    at = app(auth_section=False).switch_page(PAGE).run()
    at.button(key="aws_connect_button").click().run()
    at.button(key="aws_find_button").click().run()
    at.button(key="aws_load_button").click().run()
    assert any("partly" in s for s in texts(at.success))
    at.button(key="aws_load_button").click().run()
    assert len(calls) == 2
