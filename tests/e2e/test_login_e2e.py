"""Sign-in and sign-out in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from portal.core.cpf import format_cpf
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot


def sign_in(page: Page, cpf: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("CPF").fill(cpf)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()


def test_login_wrong_password_then_right_then_logout(page: Page, make_user) -> None:
    user = make_user(name="Felipe Rodrigues")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    screenshot(page, "login")
    sign_in(page, format_cpf(user.cpf), "senha-errada-123")
    expect(page.get_by_role("alert").filter(has_text="CPF ou senha incorretos.")).to_be_visible()
    sign_in(page, format_cpf(user.cpf))
    expect(page.get_by_role("heading", name=re.compile("Olá, Felipe"))).to_be_visible()
    screenshot(page, "home")
    page.locator("details.user-menu summary").click()
    page.get_by_role("button", name="Logout").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_text("Você saiu do portal.")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    assert page.problems == []


def test_every_input_has_a_label_and_assets_are_local(page: Page) -> None:
    for path in ("/login", "/esqueci-senha"):
        page.goto(path)
        for field in page.locator("input:not([type=hidden])").all():
            field_id = field.get_attribute("id")
            assert field_id and page.locator(f"label[for='{field_id}']").count() == 1, field_id
    fonts_loaded = page.evaluate("document.fonts.check('16px Raleway')")
    assert fonts_loaded
    assert page.problems == []
