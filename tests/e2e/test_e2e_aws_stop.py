"""Real browser: a Find that hangs shows its deadline and a Stop button; Stop ends it and says so.

The "AWS" is a local server (tests/support/fault_servers.py) that answers STS GetCallerIdentity and
holds SageMaker Search open without answering, as a hanging endpoint does.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import AppServer
from tests.e2e.test_e2e_browser import TIMEOUT, no_exception, open_page, wait_idle
from tests.support import aws_server
from tests.support.aws_server import ACCOUNT
from tests.support.fault_servers import answering_server

pytestmark = pytest.mark.e2e

IDENTITY = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    f"<Arn>arn:aws:iam::{ACCOUNT}:user/tester</Arn><UserId>AIDATESTER</UserId><Account>{ACCOUNT}</Account>"
    "</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
    "</GetCallerIdentityResponse>"
).encode()


def test_stop_ends_a_hanging_find_and_the_page_says_so(
    page: Page, fresh_server: Callable[..., AppServer], tmp_path: Path
) -> None:
    release = threading.Event()

    def responder(operation: str, request: bytes) -> tuple[int, dict[str, str], bytes, int | None]:
        if operation == "GetCallerIdentity":
            return 200, {"Content-Type": "text/xml"}, IDENTITY, None
        release.wait(90)  # hold Search open, as a hanging endpoint does
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, b'{"Results": []}', None

    try:
        with answering_server(responder) as (url, seen):
            server = fresh_server(env=aws_server.app_env(url, tmp_path))
            open_page(page, server, "Load_from_AWS")
            expect(page.get_by_text("Connect gives up after 20 s")).to_be_visible()
            page.locator(".st-key-aws_connect_button button").click()
            wait_idle(page)
            expect(page.get_by_text(f"Connected to account {ACCOUNT}")).to_be_visible(timeout=TIMEOUT)
            expect(page.get_by_text("Find jobs gives up after 60 s")).to_be_visible()
            page.locator(".st-key-aws_find_button button").click()
            stop = page.locator(".st-key-aws_stop button:visible")
            expect(stop.first).to_be_visible(timeout=TIMEOUT)
            # "running, gives up after 60 s", then the time used between calls
            expect(page.get_by_text(re.compile(r"^Find jobs: .*60 s"))).to_be_visible()
            waited = 0
            while "Search" not in seen.requests and waited < TIMEOUT:  # the request is being held
                page.wait_for_timeout(200)
                waited += 200
            assert "Search" in seen.requests
            stop.first.click()
            # Stop takes effect at the next AWS call: within one wait for an answer (15 s)
            expect(page.get_by_text("Find jobs was stopped before it finished")).to_be_visible(
                timeout=TIMEOUT
            )
            wait_idle(page)
            no_exception(page)
            expect(page.get_by_text("press Find jobs")).to_be_visible()  # no job list was kept
            expect(stop).to_have_count(0)
    finally:
        release.set()
