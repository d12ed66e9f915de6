"""Misbehaving "AWS endpoints" on 127.0.0.1 for fault tests: one that answers whatever a test says,
one that accepts connections and never answers.

Both are real sockets, so botocore's own HTTP stack, parsers, timeouts and retries run exactly as
against AWS. Each counts what reached it: tests assert on attempts, never on wall time.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

#: ``responder(operation, body) -> (status, headers, body, declared_length)``: ``operation`` is the
#: X-Amz-Target / Action of the request ('' for REST calls such as S3); ``declared_length`` None
#: sends the true Content-Length, a larger number sends that and closes early (a cut-off body).
Responder = Callable[[str, bytes], tuple[int, dict[str, str], bytes, int | None]]


@dataclass
class Seen:
    """What a fault server received."""

    requests: list[str] = field(default_factory=list)  # operation names, in order
    connections: int = 0


def answer(body: bytes, *, status: int = 200, content_type: str = "application/json") -> Responder:
    """A responder giving every request the same answer."""
    return lambda operation, request: (status, {"Content-Type": content_type}, body, None)


def _operation(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> str:
    target = handler.headers.get("X-Amz-Target") or ""
    if target:
        return target.rsplit(".", 1)[-1]
    for part in body.decode("latin-1").split("&"):
        if part.startswith("Action="):
            return part[len("Action=") :]
    return f"{handler.command} {handler.path.split('?', 1)[0]}"


@contextmanager
def answering_server(responder: Responder) -> Iterator[tuple[str, Seen]]:
    """``(url, seen)`` of an HTTP server answering each request with ``responder``'s answer."""
    seen = Seen()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            request = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            operation = _operation(self, request)
            seen.requests.append(operation)
            status, headers, body, declared = responder(operation, request)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body) if declared is None else declared))
            if declared is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = _any  # noqa: N815 - http.server names them so

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def hanging_server() -> Iterator[tuple[str, Seen]]:
    """``(url, seen)`` of a server that accepts every connection and never sends a byte."""
    seen = Seen()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            seen.connections += 1
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


def only_fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake static credentials, no profile, endpoint, instance metadata or AWS config files: a test can
    reach only the fault server it names."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKE0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fakeSecretKeyValue0123456789abcdefghijKLMN")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
