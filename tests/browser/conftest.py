"""A live server and Debian's Chromium, driven by Playwright.

Each browser test gets the app from ``tests.conftest`` (so it runs on SQLite and on
PostgreSQL), seeded with ``factories.build_world()`` and served by Werkzeug on a free
port in a background thread. Browser contexts may only talk to that server: every other
request is aborted and reported, so no map tile or font ever leaves the machine.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 10_000


@pytest.fixture
def app_config():
    """No tile server (the map shows only boundaries) and CSRF on, as in production."""
    return {"MAP_TILE_URL": "", "WTF_CSRF_ENABLED": True}


@dataclass
class LiveServer:
    url: str
    world: object


@pytest.fixture
def live_server(app, world):
    """The seeded app on 127.0.0.1, on a free port, for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", world=world)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        db.session.remove()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Browsing:
    """Opens contexts on the live server and records what should never happen."""

    browser: object
    server: LiveServer
    backend: str
    contexts: list = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def new_context(self, **options):
        options.setdefault("locale", "vi-VN")
        options.setdefault("timezone_id", "Asia/Ho_Chi_Minh")
        context = self.browser.new_context(base_url=self.server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.route("**/*", self._only_local)
        self.contexts.append(context)
        return context

    def new_page(self, **options):
        """A page in a context of its own (own cookies): one person at one device."""
        page = self.new_context(**options).new_page()
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: self._console(page, message))
        return page

    def _console(self, page, message):
        # A 4xx answer (inline validation's 422) or an aborted request logs "Failed to
        # load resource"; those are expected. Anything else (a CSP refusal, a script
        # error) is not.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.page_errors.append(f"{page.url}: console: {message.text}")

    def _only_local(self, route):
        url = route.request.url
        if url == self.server.url or url.startswith(self.server.url + "/"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def log_in(self, page, email: str, *, keyboard: bool = False) -> None:
        """Sign ``page`` in as the staff member ``email`` through the login form (with
        ``keyboard``, by pressing Enter in the password field)."""
        from playwright.sync_api import expect

        from tests import factories

        page.goto("/dang-nhap")
        page.locator("#email").fill(email)
        page.locator("#password").fill(factories.PASSWORD)
        with page.expect_navigation():
            if keyboard:
                page.locator("#password").press("Enter")
            else:
                page.get_by_role("button", name="Đăng nhập").click()
        expect(page).not_to_have_url(re.compile(r"/dang-nhap"))

    def screenshot(self, page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}-{self.backend}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser, live_server, backend):
    session = Browsing(browser=browser, server=live_server, backend=backend)
    yield session
    session.close()
    problems = []
    if session.blocked:
        problems.append(f"requests to other hosts: {session.blocked}")
    if session.page_errors:
        problems.append(f"JavaScript or console errors: {session.page_errors}")
    if problems:
        pytest.fail("; ".join(problems))
