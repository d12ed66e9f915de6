"""Team deployment: the setting, the login gate (Streamlit's OIDC ``st.login``) and the endpoint allow-list.

Run for a team (README "Team deployment"), the app serves visitors who are not the owner of the AWS
credentials it runs with. Team mode then (1) lets nobody in before they log in with the
organisation's OpenID Connect provider, configured in ``.streamlit/secrets.toml`` ``[auth]``, and
failing closed when it is not; (2) takes the endpoint URL from an allow-list instead of a free text
box, so a visitor cannot make the server sign requests with its credentials for any host:port;
(3) shows one message for every network failure, so errors tell nothing about which hosts and ports
answer (``lib.ui.aws_page``).

Team mode is on when ``DRIFTWATCH_TEAM_MODE`` is 1/true/yes/on, or ``[driftwatch] team_mode = true``
in the secrets; either one turns it on, neither can turn the other off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from lib.errors import InputError

TEAM_MODE_ENV: Final = "DRIFTWATCH_TEAM_MODE"
ALLOW_LIST_ENV: Final = "DRIFTWATCH_ENDPOINT_ALLOW_LIST"
_TRUE: Final = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class TeamSettings:
    """How this deployment treats its visitors (see the module docstring)."""

    team_mode: bool = False
    #: Endpoint URLs a visitor may choose in team mode ('' = AWS itself is always allowed).
    endpoint_allow_list: tuple[str, ...] = ()
    #: ``st.login(provider)`` for an ``[auth.<provider>]`` section; None uses ``[auth]`` itself.
    login_provider: str | None = None


def read_team_settings(environ: Mapping[str, str], secrets: Mapping[str, Any]) -> TeamSettings:
    """The settings from the environment and the ``[driftwatch]`` secrets section (pure: tests pass dicts).

    Raises
    ------
    InputError
        If the allow-list is neither a list of strings nor a comma-separated string.
    """
    section = secrets.get("driftwatch") or {}
    on = str(environ.get(TEAM_MODE_ENV, "")).strip().lower() in _TRUE or section.get("team_mode") is True
    listed: Any = section.get("endpoint_allow_list", ())
    if isinstance(listed, str):
        listed = listed.split(",")
    if not isinstance(listed, list | tuple) or not all(isinstance(u, str) for u in listed):
        raise InputError("[driftwatch] endpoint_allow_list must be a list of URLs.")
    from_env = environ.get(ALLOW_LIST_ENV, "").split(",")
    allowed = tuple(dict.fromkeys(u.strip().rstrip("/") for u in [*listed, *from_env] if u.strip()))
    provider = section.get("login_provider")
    return TeamSettings(
        team_mode=on, endpoint_allow_list=allowed, login_provider=str(provider) if provider else None
    )


def _secrets() -> Mapping[str, Any]:
    try:
        return {key: st.secrets[key] for key in st.secrets}
    except (StreamlitSecretNotFoundError, FileNotFoundError):
        return {}  # no secrets.toml at all


def team_settings() -> TeamSettings:
    """This deployment's :class:`TeamSettings` (environment + ``st.secrets``)."""
    return read_team_settings(os.environ, _secrets())


def check_endpoint_allowed(url: str | None, settings: TeamSettings) -> None:
    """In team mode, refuse an endpoint URL that is not on the allow-list ('' / None = AWS: allowed).

    The check the server makes whatever the page shows: a visitor can send any widget value.

    Raises
    ------
    InputError
        Without echoing the refused URL's host details beyond what was typed.
    """
    url = (url or "").strip().rstrip("/")
    if settings.team_mode and url and url not in settings.endpoint_allow_list:
        raise InputError(
            "This team deployment only connects to AWS itself"
            + (" or to the endpoints it lists." if settings.endpoint_allow_list else "."),
            hint="Ask whoever runs this Driftwatch to add the endpoint to [driftwatch] endpoint_allow_list.",
        )


def login_configured(secrets: Mapping[str, Any]) -> bool:
    """True when ``[auth]`` has what ``st.login`` needs (redirect URI and cookie secret)."""
    section = secrets.get("auth") or {}
    return bool(section.get("redirect_uri")) and bool(section.get("cookie_secret"))


def require_login() -> None:
    """Team mode: show only a login screen until the visitor has logged in (then end the run).

    Outside team mode this does nothing. In team mode without a usable ``[auth]`` section it fails
    closed: an error for the operator, nothing else rendered.
    """
    secrets = _secrets()
    try:
        settings = read_team_settings(os.environ, secrets)
    except InputError as err:  # a broken setting must not open the door: fail closed
        st.error(f"The team deployment settings are invalid: {err.message}", icon=":material/lock:")
        st.stop()
    if not settings.team_mode:
        return
    if not login_configured(secrets):
        st.error(
            "Team mode is on, but no login is configured: add an [auth] section (redirect_uri, "
            "cookie_secret, client_id, client_secret, server_metadata_url) to .streamlit/secrets.toml.",
            icon=":material/lock:",
        )
        st.stop()
    if not st.user.get("is_logged_in", False):
        st.title("Driftwatch")
        st.write("This Driftwatch is shared by a team: log in to continue.")
        st.button(
            "Log in",
            key="auth_login",
            type="primary",
            icon=":material/login:",
            on_click=st.login,
            args=(settings.login_provider,) if settings.login_provider else (),
        )
        st.stop()
    with st.sidebar:
        who = st.user.get("email") or st.user.get("name") or "a team member"
        st.text(f"Logged in as {who}")  # plain text: an e-mail address is not Markdown
        st.button("Log out", key="auth_logout", icon=":material/logout:", on_click=st.logout)
