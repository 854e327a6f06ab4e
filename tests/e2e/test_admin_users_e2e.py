"""Administração > Grupos and Usuários in the browser: an admin creates a group and an agent in
it; the agent's first-access link sets a password, the agent signs in and works that group's
queue."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.accounts.models import SupportGroup, User
from portal.core.cpf import format_cpf, make_cpf
from portal.core.extensions import db
from portal.core.outbox import deliver_pending
from portal.demo import DEMO_PASSWORD, USERS, load_demo_data
from tests.e2e.test_login_e2e import sign_in

CPF = {user.name.split()[0].lower(): user.cpf for user in USERS}
AGENT_CPF = make_cpf("605118273")
AGENT_EMAIL = "joana.sibec@dataprev.gov.br"
NEW_PASSWORD = "Sibec-beneficios-2026"


def _create_group(page: Page) -> int:
    page.goto("/admin/")
    page.get_by_role("link", name="Grupos").click()
    page.get_by_role("link", name="Novo grupo").click()
    page.locator("#name").fill("Suporte SIBEC")
    page.locator("#email").fill("sibec@dataprev.gov.br")
    page.get_by_role("button", name="Criar grupo").click()
    expect(page.get_by_role("heading", name="Suporte SIBEC", level=1)).to_be_visible()
    expect(page.get_by_text("Nenhum membro ainda.")).to_be_visible()
    db.session.rollback()
    group = db.session.scalar(select(SupportGroup).where(SupportGroup.name == "Suporte SIBEC"))
    assert group is not None
    return group.id


def _create_agent(page: Page, group_id: int) -> None:
    page.goto("/admin/usuarios/")
    page.get_by_role("link", name="Novo usuário").click()
    page.locator("#cpf").fill(format_cpf(AGENT_CPF))
    page.locator("#full_name").fill("Joana Sibec Atendente")
    page.locator("#email").fill(AGENT_EMAIL)
    page.locator("#role").select_option("agent")
    page.locator("#org_busca").fill("dataprev")
    page.get_by_role("button", name="Buscar").click()
    # Found without JavaScript: the form came back with what was typed.
    expect(page.locator("#full_name")).to_have_value("Joana Sibec Atendente")
    page.locator("#organisation_id").select_option(label="DATAPREV (DF) – 42422253000101")
    page.locator(f"label[for=group-{group_id}]").click()
    page.get_by_role("button", name="Criar usuário").click()
    expect(page.get_by_role("heading", name="Joana Sibec Atendente", level=1)).to_be_visible()
    expect(page.get_by_text("Ele recebe por e-mail o link")).to_be_visible()
    expect(page.get_by_text("Ainda não criada (primeiro acesso pendente)")).to_be_visible()
    page.goto(f"/admin/grupos/{group_id}")
    expect(page.locator("#members-now")).to_have_text("Hoje: Joana Sibec Atendente.")


def _first_access(page: Page, smtp_server: Any) -> None:
    deliver_pending(db.session)
    db.session.commit()
    mail = smtp_server.to(AGENT_EMAIL)
    assert len(mail) == 1
    text = mail[0].get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"/redefinir-senha/\S+", text).group(0)
    page.goto(path)
    page.get_by_label("Nova senha", exact=False).first.fill(NEW_PASSWORD)
    page.get_by_label("Confirme", exact=False).fill(NEW_PASSWORD)
    page.get_by_role("button", name=re.compile("Salvar|Redefinir|Confirmar")).click()
    sign_in(page, format_cpf(AGENT_CPF), NEW_PASSWORD)
    expect(page.locator(".user-name")).to_have_text("Joana")


def test_an_admin_creates_a_group_and_an_agent_who_signs_in(
    page: Page, live_server: str, app: Flask, smtp_server: Any
) -> None:
    load_demo_data(db.session)
    db.session.commit()
    sign_in(page, format_cpf(CPF["carla"]), DEMO_PASSWORD)
    group_id = _create_group(page)
    _create_agent(page, group_id)
    page.context.clear_cookies()

    _first_access(page, smtp_server)
    expect(page).to_have_url(re.compile(r"/atendimento"))  # an agent's home is the queue
    expect(page.locator("#grupo option", has_text="Suporte SIBEC")).to_have_count(1)
    db.session.rollback()
    agent = db.session.scalar(select(User).where(User.cpf == AGENT_CPF))
    assert agent is not None and agent.last_login_at is not None
    assert page.problems == []  # type: ignore[attr-defined]
