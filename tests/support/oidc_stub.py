"""A stub OpenID Connect identity provider on 127.0.0.1 for the login round trip of a browser test.

Serves discovery (``/.well-known/openid-configuration``), ``/jwks``, ``/authorize`` (no login form:
it redirects straight back with a code, as an IdP does for a user with a live session) and ``/token``
(an RS256-signed ID token carrying the nonce of the authorize request). Enough for Streamlit's
``st.login`` (Authlib) to complete a real authorization-code flow; nothing here is secure.
"""

from __future__ import annotations

import http.server
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "driftwatch-test"
CLIENT_SECRET = "driftwatch-test-secret"


@dataclass
class StubIdP:
    """The running provider: its URL, the user it logs in and what it saw."""

    url: str
    email: str
    authorized: list[dict[str, str]] = field(default_factory=list)
    tokens_issued: int = 0


@contextmanager
def oidc_provider(email: str = "ada@example.com") -> Iterator[StubIdP]:
    """Run the stub provider; yields a :class:`StubIdP`."""
    key = RSAKey.generate_key(2048, parameters={"kid": "stub-1", "use": "sig", "alg": "RS256"})
    codes: dict[str, dict[str, str]] = {}
    idp = StubIdP(url="", email=email)

    class Handler(http.server.BaseHTTPRequestHandler):
        def _json(self, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path == "/.well-known/openid-configuration":
                self._json(
                    {
                        "issuer": idp.url,
                        "authorization_endpoint": f"{idp.url}/authorize",
                        "token_endpoint": f"{idp.url}/token",
                        "jwks_uri": f"{idp.url}/jwks",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "token_endpoint_auth_methods_supported": [
                            "client_secret_basic",
                            "client_secret_post",
                        ],
                    }
                )
            elif path == "/jwks":
                self._json({"keys": [key.as_dict(private=False)]})
            elif path == "/authorize":
                params = dict(urllib.parse.parse_qsl(query))
                idp.authorized.append(params)
                code = secrets.token_urlsafe(16)
                codes[code] = params
                back = f"{params['redirect_uri']}?" + urllib.parse.urlencode(
                    {"code": code, "state": params.get("state", "")}
                )
                self.send_response(302)
                self.send_header("Location", back)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            if self.path.partition("?")[0] != "/token":
                self.send_error(404)
                return
            form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
            request = codes.pop(form.get("code", ""), None)
            if request is None:
                self.send_error(400, "unknown code")
                return
            now = int(time.time())
            claims = {
                "iss": idp.url,
                "sub": "user-1",
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 600,
                "nonce": request.get("nonce", ""),
                "email": idp.email,
                "name": "Ada Lovelace",
            }
            id_token = jwt.encode({"alg": "RS256", "kid": "stub-1"}, claims, key)
            idp.tokens_issued += 1
            self._json(
                {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 600,
                 "id_token": id_token}
            )  # fmt: skip

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    idp.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        server.shutdown()
        server.server_close()
