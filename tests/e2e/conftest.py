"""Browser tests: the test app served on loopback, driven by Playwright in Debian's chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
MISSING = (
    "/usr/bin/chromium is missing: browser tests SKIPPED "
    "(run `make chromium` as root, or apt-get install chromium)"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not CHROMIUM.exists():
        terminalreporter.write_sep("!", MISSING, red=True, bold=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(MISSING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield instance
        instance.close()


def _closing(app: WSGIApplication) -> WSGIApplication:
    """Read each response whole and close it before werkzeug writes it.

    When the browser drops a connection (a page left while its fonts load), the development
    server's draining read raises before it closes the response, so a static file stayed open
    until some later test's garbage collection reported it."""

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()

    return serve


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app (same database) on a free loopback port, in a thread."""
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
    # Request threads are joined at the end, so none still holds a database connection when
    # the test's engine is disposed (it would be reported, unclosed, during a later test).
    server.daemon_threads = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(
        locale="pt-BR",
        timezone_id="America/Sao_Paulo",
        base_url=live_server,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems = []  # type: ignore[attr-defined]  # console errors, failed assets, requests leaving
    # Pages answer 4xx on purpose (a refused form); what must never fail is a script, a style,
    # a font or an image, and nothing may be blocked by the Content-Security-Policy.
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and "Failed to load resource" not in m.text
            and page.problems.append(f"console: {m.text}")
        ),
    )
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and r.request.resource_type != "document"
            and page.problems.append(f"{r.status}: {r.url}")
        ),
    )
    page.on(
        "request",
        lambda r: (
            r.url.startswith(("http://127.0.0.1", "data:"))
            or page.problems.append(f"request: {r.url}")
        ),
    )
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
