"""The API's documentation page in a real browser: Swagger UI starts from local files only
(no request leaves 127.0.0.1, nothing blocked by the Content-Security-Policy), lists the
operations of /api/v1/openapi.json, and passes axe at 1280 px and at 320 px."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.a11y import axe_problems, horizontal_overflow


def test_the_docs_page_is_local_and_accessible(page: Page, live_server: str) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/api/v1/docs")
    expect(page.get_by_role("heading", name="API v1 do Portal de Atendimento")).to_be_visible()
    expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/catalog/items").first
    ).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/me")).to_be_visible()
    assert any(url.endswith("/api/v1/openapi.json") for url in requested)
    assert all(url.startswith((live_server, "data:")) for url in requested), requested
    assert page.problems == []  # type: ignore[attr-defined]
    problems = axe_problems(page)
    assert problems == [], "\n".join(problems)
    # An operation opened: its parameters, responses and the Problem schema.
    page.locator(".opblock-summary-path", has_text="/api/v1/catalog/items").first.click()
    expect(page.locator(".parameters").first).to_be_visible()
    problems = axe_problems(page)
    assert problems == [], "\n".join(problems)
    page.set_viewport_size({"width": 320, "height": 800})
    assert axe_problems(page) == []
    assert horizontal_overflow(page) <= 0
