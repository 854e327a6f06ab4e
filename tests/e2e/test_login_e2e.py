"""Sign-in and sign-out in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from portal.core.cpf import format_cpf
from tests.conftest import PASSWORD, TOTP_SECRETS, next_totp_code
from tests.e2e.conftest import screenshot


def sign_in(page: Page, cpf: str, password: str = PASSWORD, *, set_up: bool = True) -> None:
    """Sign in through the form. When the code page appears, type a valid code; when a staff
    account without a second factor lands on the set-up page (demo staff, staff created through
    the admin pages), set it up as a person would, reading the secret from the page, unless
    `set_up=False`."""
    page.goto("/login")
    page.get_by_label("CPF").fill(cpf)
    page.get_by_label("Senha").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Entrar").click()
    if "/login/codigo" in page.url:
        page.get_by_label("Código de verificação").fill(next_totp_code(cpf))
        with page.expect_navigation():
            page.get_by_role("button", name="Verificar").click()
    elif (
        set_up
        and page.url.endswith("/perfil/dois-fatores")
        and page.locator("#totp-secret").count()
    ):
        set_up_two_factor(page, cpf)
        page.get_by_role("link", name="Já guardei os códigos, continuar").click()


def set_up_two_factor(page: Page, cpf: str) -> list[str]:
    """On the set-up page: read the secret, type its code, return the recovery codes shown."""
    secret = (page.locator("#totp-secret").text_content() or "").replace(" ", "")
    TOTP_SECRETS[re.sub(r"\D", "", cpf)] = secret
    page.get_by_label("Código do aplicativo").fill(next_totp_code(cpf))
    page.get_by_role("button", name="Ativar").click()
    codes = page.locator("#recovery-codes code")
    expect(codes).to_have_count(10)
    return codes.all_text_contents()


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
