"""Sessões ativas in a real browser: two browser contexts of the same person (two browsers,
separate cookies); one ends the other from the page, and the other's next navigation lands on
the sign-in page."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from portal.core.cpf import format_cpf
from portal.models import User
from tests.e2e.conftest import screenshot
from tests.e2e.test_login_e2e import sign_in

OTHER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"


def test_one_browser_ends_the_other_from_the_page(
    page: Page, browser: Browser, live_server: str, make_user: Callable[..., User]
) -> None:
    user = make_user(name="Felipe Rodrigues")
    # The second browser says it is Firefox, so the list tells the two apart.
    other = browser.new_context(
        locale="pt-BR",
        timezone_id="America/Sao_Paulo",
        base_url=live_server,
        user_agent=OTHER_AGENT,
    )
    other.set_default_timeout(10_000)
    try:
        elsewhere = other.new_page()
        sign_in(elsewhere, format_cpf(user.cpf))
        expect(elsewhere.get_by_role("heading", name=re.compile("Olá, Felipe"))).to_be_visible()

        sign_in(page, format_cpf(user.cpf))
        expect(page.get_by_role("heading", name=re.compile("Olá, Felipe"))).to_be_visible()
        page.goto("/perfil")
        page.get_by_role("link", name="Sessões ativas").click()
        expect(page.get_by_role("heading", name="Sessões ativas", level=1)).to_be_visible()
        sessions = page.locator("li.session-line")
        expect(sessions).to_have_count(2)
        expect(page.locator("li.session-line.current")).to_contain_text("Esta sessão")
        theirs = page.locator("li.session-line:not(.current)")
        expect(theirs).to_contain_text("Firefox no Linux")
        screenshot(page, "sessions")
        theirs.get_by_role("button", name=re.compile("^Encerrar")).click()
        expect(page.get_by_text("Sessão encerrada.")).to_be_visible()
        expect(sessions).to_have_count(1)

        elsewhere.goto("/solicitacoes")
        expect(elsewhere).to_have_url(re.compile(r"/login"))
        expect(elsewhere.get_by_role("button", name="Entrar")).to_be_visible()
        # This browser is still signed in.
        page.goto("/perfil/acessos")
        expect(page.get_by_role("heading", name="Histórico de acessos", level=1)).to_be_visible()
        expect(page.locator("li.sign-in-line")).to_have_count(2)
    finally:
        other.close()
    assert page.problems == []
