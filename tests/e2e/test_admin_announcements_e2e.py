"""Administração > Comunicados in the browser: the admin publishes a crítico for UF BA only; a
BA requester sees it on the home and as the banner on every page until "Fechar"; a PE
requester never sees it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.core.cpf import format_cpf
from portal.core.extensions import db
from portal.demo import DEMO_PASSWORD, USERS, load_demo_data
from portal.home.models import Announcement
from tests.e2e.conftest import screenshot
from tests.e2e.test_login_e2e import sign_in

CPF = {u.name.split()[0].lower(): format_cpf(u.cpf) for u in USERS}
TITLE = "Recadastramento obrigatório na Bahia"


def _as(page: Page, who: str) -> None:
    page.context.clear_cookies()
    sign_in(page, CPF[who], DEMO_PASSWORD)
    expect(page.locator(".user-name")).to_be_visible()


def test_a_comunicado_for_ba_only_reaches_ba_and_its_banner_closes(page: Page) -> None:
    load_demo_data(db.session)  # Felipe: Salvador (BA); Roberto: Recife (PE); Carla: admin
    db.session.commit()

    _as(page, "carla")
    page.goto("/admin/")
    page.get_by_role("link", name="Comunicados").click()
    page.get_by_role("link", name="Novo comunicado").click()
    page.locator("#titulo").fill(TITLE)
    page.locator("#texto").fill("Atualize o cadastro das famílias até **30/06**.")
    page.locator("label[for=gravidade-critical]").click()
    page.locator("label[for=publico-uf]").click()
    page.locator("#uf").select_option("BA")
    page.locator("#inicio").fill("01/01/2026 08:00")
    page.locator("button[value=salvar]").click()
    expect(page.locator(".flash")).to_contain_text("rascunho")
    expect(page.locator(".announcement-preview strong")).to_have_text("30/06")
    page.locator("main form button", has_text="Publicar").click()
    expect(page.locator(".flash")).to_contain_text("Comunicado publicado")
    page.get_by_role("link", name="Comunicados").first.click()  # the breadcrumb
    row = page.locator("tr", has_text=TITLE)
    for text in ("Crítico", "UF: BA", "Publicado", "No ar"):
        expect(row).to_contain_text(text)
    db.session.rollback()
    stored = db.session.scalar(select(Announcement).where(Announcement.title == TITLE))
    assert stored is not None and (stored.audience, stored.audience_value) == ("uf", "BA")
    screenshot(page, "admin-comunicados")

    _as(page, "felipe")
    page.goto("/")
    expect(page.locator(".home-panel .notice", has_text=TITLE)).to_contain_text("Crítico:")
    page.goto("/catalogo")
    banner = page.locator(".critical-banner")
    expect(banner).to_contain_text(TITLE)
    screenshot(page, "comunicado-banner")
    banner.get_by_role("button", name="Fechar").click()
    expect(page).to_have_url(re.compile(r"/catalogo$"))
    expect(page.locator(".critical-banner")).to_have_count(0)
    expect(page.locator(".flash")).to_contain_text("Comunicado fechado")
    page.goto("/perfil")
    expect(page.locator(".critical-banner")).to_have_count(0)
    page.goto("/")
    expect(page.get_by_role("region", name="Comunicados")).to_contain_text(TITLE)  # still there

    _as(page, "roberto")
    page.goto("/")
    expect(page.locator("main")).not_to_contain_text(TITLE)
    # Roberto has the demo's crítico for PE as his banner instead.
    expect(page.locator(".critical-banner")).to_contain_text("Pernambuco")
    assert page.problems == []  # type: ignore[attr-defined]
