"""Two-factor sign-in in a real browser: an admin without a second factor is sent to the
set-up, enables it with a code from the secret on the page, keeps the recovery codes, then
signs in with an app code and with a recovery code."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from portal.accounts.models import User
from portal.core.cpf import format_cpf
from tests.conftest import PASSWORD, next_totp_code
from tests.e2e.conftest import screenshot
from tests.e2e.test_login_e2e import set_up_two_factor, sign_in


def _sign_out(page: Page) -> None:
    page.locator("details.user-menu summary").click()
    page.get_by_role("button", name="Logout").click()
    expect(page).to_have_url(re.compile(r"/login"))


def _password_step(page: Page, cpf: str) -> None:
    page.goto("/login")
    page.get_by_label("CPF").fill(cpf)
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page).to_have_url(re.compile(r"/login/codigo"))


def test_an_admin_sets_up_two_factor_and_signs_in_with_codes(
    page: Page, make_user: Callable[..., User]
) -> None:
    admin = make_user("Carla Administradora", role="admin", two_factor=False)
    cpf = format_cpf(admin.cpf)
    sign_in(page, cpf, set_up=False)
    expect(page).to_have_url(re.compile(r"/perfil/dois-fatores$"))
    page.goto("/admin/usuarios/")  # nothing else opens until it is done
    expect(page).to_have_url(re.compile(r"/perfil/dois-fatores$"))
    expect(page.get_by_text("Atendentes e administradores precisam")).to_be_visible()
    qr = page.get_by_role("img", name=re.compile("Código QR"))
    expect(qr).to_be_visible()
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    screenshot(page, "two-factor-setup")

    codes = set_up_two_factor(page, cpf)
    expect(page.get_by_text("Eles não serão mostrados de novo.")).to_be_visible()
    screenshot(page, "two-factor-recovery-codes")
    page.get_by_role("link", name="Já guardei os códigos, continuar").click()
    page.goto("/admin/usuarios/")
    expect(page.get_by_role("heading", name="Usuários", level=1)).to_be_visible()
    _sign_out(page)

    _password_step(page, cpf)
    screenshot(page, "two-factor-code")
    page.get_by_label("Código de verificação").fill(next_totp_code(cpf))
    page.get_by_role("button", name="Verificar").click()
    expect(page.locator(".user-name")).to_have_text("Carla")
    _sign_out(page)

    _password_step(page, cpf)
    page.get_by_text("Usar um código de recuperação").click()
    expect(page.get_by_text("Cada código vale uma só vez.")).to_be_visible()
    page.get_by_label("Código de verificação").fill(codes[0])
    page.get_by_role("button", name="Verificar").click()
    expect(page.get_by_text("Restam 9 códigos")).to_be_visible()
    _sign_out(page)

    _password_step(page, cpf)  # the same recovery code again
    page.get_by_label("Código de verificação").fill(codes[0])
    page.get_by_role("button", name="Verificar").click()
    expect(page.get_by_text("Código incorreto ou já utilizado.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/codigo"))
    assert page.problems == []
