"""Real browser: team mode's login round trip through Streamlit's OIDC login (``st.login``) with a
stub identity provider on 127.0.0.1 (tests/support/oidc_stub.py): logged out, only the login screen;
after the provider's redirect, the app, with who is logged in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import conftest
from tests.conftest import AppServer
from tests.e2e.test_e2e_browser import TIMEOUT, no_exception, wait_idle
from tests.support.oidc_stub import CLIENT_ID, CLIENT_SECRET, oidc_provider

pytestmark = pytest.mark.e2e


def test_team_mode_logs_in_through_the_identity_provider(
    page: Page, fresh_server: Callable[..., AppServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = conftest.free_port()
    monkeypatch.setattr(conftest, "free_port", lambda: port)  # the redirect URI must name the app's port
    with oidc_provider(email="ada@example.com") as idp:
        secrets_file = tmp_path / "secrets.toml"
        secrets_file.write_text(
            "[driftwatch]\nteam_mode = true\n\n[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "stub-cookie-secret-0123456789abcdef"\n'
            f'client_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
            f'server_metadata_url = "{idp.url}/.well-known/openid-configuration"\n'
        )
        server = fresh_server(env={"STREAMLIT_SECRETS_FILES": str(secrets_file)})
        assert server.port == port
        page.goto(f"{server.url}/Load_from_AWS")
        login = page.locator(".st-key-auth_login button")
        expect(login).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_text("log in to continue")).to_be_visible()
        expect(page.get_by_text("Load from AWS")).to_have_count(0)  # no page, no navigation
        expect(page.get_by_test_id("stSidebar")).to_have_count(0)
        login.click()
        expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible(timeout=TIMEOUT)
        wait_idle(page)
        no_exception(page)
        expect(page.get_by_test_id("stSidebar").get_by_text("Logged in as ada@example.com")).to_be_visible()
        assert len(idp.authorized) == 1
        assert idp.authorized[0]["client_id"] == CLIENT_ID
        assert idp.tokens_issued == 1
