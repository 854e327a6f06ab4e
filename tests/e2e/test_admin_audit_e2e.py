"""Administração > Auditoria in the browser: the admin finds the demo loader's user creations
by who and what, follows an entry to the user's admin page, exports the same filter as CSV,
and `portal audit verify` is clean until a row is edited in the database, then names it."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from portal.core import audit
from portal.core.cpf import format_cpf
from portal.core.extensions import db
from portal.core.models import AuditEntry
from portal.demo import DEMO_PASSWORD, USERS, load_demo_data
from tests.e2e.test_login_e2e import sign_in

CPF = {user.name.split()[0].lower(): user.cpf for user in USERS}


def test_an_admin_filters_the_trail_follows_an_entry_and_exports_it(
    page: Page, live_server: str, app: Flask
) -> None:
    load_demo_data(db.session)
    db.session.commit()
    creations = db.session.scalar(
        sa.select(sa.func.count()).where(AuditEntry.action == "user.create")
    )
    sign_in(page, format_cpf(CPF["carla"]), DEMO_PASSWORD)
    page.goto("/admin/")
    page.get_by_role("link", name="Auditoria").click()
    expect(page.get_by_role("heading", name="Auditoria", level=1)).to_be_visible()

    page.locator("#quem").select_option(label="Sistema (linha de comando e rotinas)")
    page.locator("#acao").select_option(label="Usuário: criação")
    page.get_by_role("button", name="Filtrar").click()
    expect(page.locator(".audit-count")).to_have_text(
        re.compile(rf"Entradas 1 - {min(creations, 20)} de {creations}$")
    )
    expect(page.locator(".audit-action").first).to_have_text("Usuário: criação")
    first = page.locator(".audit-entry").first
    expect(first).to_contain_text("sistema (dados de demonstração)")
    name = first.locator("tr", has=page.locator("th", has_text="Nome")).locator("td").nth(1)
    person = name.inner_text()

    with page.expect_download() as download:
        page.get_by_role("link", name="Exportar CSV").click()
    text = download.value.path().read_text("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Entrada;Data;Quem;Endereço;Ação;")
    assert len(lines) == 1 + creations and all(";user.create;" in line for line in lines[1:])

    first.locator(".audit-facts a").click()
    expect(page.get_by_role("heading", name=person, level=1)).to_be_visible()

    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "audit", "verify"])
    assert result.exit_code == 0 and result.output.startswith("Cadeia íntegra: ")
    victim = db.session.scalar(
        sa.select(AuditEntry.id).where(AuditEntry.action == "user.create").limit(1)
    )
    db.session.commit()
    with db.engine.begin() as conn:
        audit.drop_append_only(conn)
        conn.execute(
            sa.text("UPDATE audit_entries SET actor_label = 'outra pessoa' WHERE id = :id"),
            {"id": victim},
        )
        audit.install_append_only(conn)
    result = runner.invoke(args=["portal", "audit", "verify"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"A entrada {victim} foi alterada")
    assert page.problems == []  # type: ignore[attr-defined]
