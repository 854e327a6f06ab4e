"""Administração › Catálogo in the browser: the admin creates a category and an item sent to a
new group, routes the Nordeste to another group (the region box ticks its UFs), then
withdraws the item; every step is in the audit trail."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.accounts.services import find_or_create_group
from portal.catalog.models import CatalogItem, Category
from portal.core.actors import COMMAND_LINE
from portal.core.cpf import format_cpf
from portal.core.extensions import db
from portal.core.models import AuditEntry
from portal.demo import DEMO_PASSWORD, USERS, load_demo_data
from tests.e2e.test_login_e2e import sign_in

CPF = {user.name.split()[0].lower(): user.cpf for user in USERS}
NORDESTE = ["AL", "BA", "CE", "MA", "PB", "PE", "PI", "RN", "SE"]


def test_admin_builds_an_item_routes_the_nordeste_and_withdraws_it(
    page: Page, live_server: str, app: Flask
) -> None:
    load_demo_data(db.session)
    for name in ("Suporte SIBEC", "Suporte CadÚnico NE"):
        find_or_create_group(db.session, COMMAND_LINE, name)
    db.session.commit()
    sign_in(page, format_cpf(CPF["carla"]), DEMO_PASSWORD)

    page.get_by_role("link", name="Administração").click()
    page.get_by_role("main").get_by_role("link", name="Catálogo").click()
    expect(page.get_by_role("heading", name="Catálogo", exact=True)).to_be_visible()
    page.locator("#category-name").fill("SIBEC")
    page.get_by_role("button", name="Criar categoria").click()
    expect(page.get_by_text("Categoria “SIBEC” criada.")).to_be_visible()

    page.get_by_role("link", name="Novo item em SIBEC").click()
    expect(page.locator("#category_id option:checked")).to_have_text("SIBEC")
    page.locator("#name").fill("SIBEC - Benefícios")
    page.locator("#short_description").fill("Consulta e bloqueio de benefícios")
    page.locator("#group_id").select_option(label="Suporte SIBEC")
    page.locator("label[for=icon-fa-hand-holding-usd]").click()
    page.get_by_role("button", name="Criar item").click()
    expect(page.get_by_role("heading", name=re.compile("SIBEC - Benefícios"))).to_contain_text(
        "Rascunho"
    )
    expect(page.get_by_role("link", name="Campos do formulário").first).to_have_attribute(
        "href", re.compile(r"/admin/catalogo/itens/\d+/campos$")
    )

    page.locator("#regra-grupo").select_option(label="Suporte CadÚnico NE")
    page.locator("label[for=regiao-nordeste]").click()
    expect(page.locator("#uf-BA")).to_be_checked()  # the script ticks the region's UFs
    expect(page.locator("#uf-SP")).not_to_be_checked()
    page.get_by_role("button", name="Adicionar regra").click()
    expect(page.get_by_text("Regra de encaminhamento adicionada.")).to_be_visible()
    expect(page.locator(".admin-rules")).to_contain_text(
        "Do Nordeste (AL, BA, CE, MA, PB, PE, PI, RN, SE) → Suporte CadÚnico NE"
    )

    page.get_by_role("button", name="Retirar do catálogo").click()
    expect(page.get_by_text("Item retirado do catálogo")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("SIBEC - Benefícios"))).to_contain_text(
        "Retirado"
    )
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Catálogo").click()
    expect(page.get_by_role("row", name=re.compile("SIBEC - Benefícios"))).to_contain_text(
        "Suporte SIBEC"
    )

    db.session.rollback()
    item = db.session.scalar(select(CatalogItem).where(CatalogItem.slug == "sibec-beneficios"))
    assert item is not None and item.active is False and item.published_version is None
    assert item.group is not None and item.group.name == "Suporte SIBEC"
    assert item.category.name == "SIBEC"
    assert db.session.scalar(select(Category.parent_id).where(Category.name == "SIBEC")) is None
    [rule] = item.routing_rules
    assert rule.ufs == NORDESTE and rule.group.name == "Suporte CadÚnico NE"
    actions = set(
        db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_label.startswith("Carla"))
        )
    )
    assert {
        "category.create",
        "catalog_item.create",
        "routing_rule.create",
        "catalog_item.withdraw",
    } <= actions
