"""The Pronto Cliente tutorial (sections 1 to 7), step by step, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from portal.core.cpf import format_cpf
from portal.core.extensions import db
from portal.models import ServiceRequest, User
from portal.requests import services as request_service
from portal.requests.lifecycle import Action
from tests.e2e.conftest import screenshot
from tests.e2e.test_login_e2e import sign_in
from tests.files import pdf_bytes, png_bytes


def sign_out(page: Page) -> None:
    page.locator("details.user-menu summary").click()
    page.get_by_role("button", name="Logout").click()
    expect(page).to_have_url(re.compile(r"/login"))


def open_request_page(page: Page, number: str) -> None:
    page.locator("details.nav-menu").filter(has_text="Solicitações").locator("summary").click()
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Ver minhas solicitações"
    ).click()
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=number)).to_be_visible()


def agent_acts(number: str, action: Action, agent: User, reason: str | None = None) -> None:
    """The agent side, through the service layer (the agent workspace is another issue)."""
    db.session.rollback()
    request = db.session.scalar(db.select(ServiceRequest).where(ServiceRequest.number == number))
    request_service.fire(db.session, request, action, actor=agent, reason=reason)
    db.session.commit()


def test_the_tutorial_from_login_to_logout(page: Page, make_user, catalog) -> None:
    felipe = make_user(name="Felipe Rodrigues Andrade", phone="(71) 3202-0000")
    ellem = make_user(name="Ellem Saraiva Reis")
    agent = make_user(name="Atendente Suporte", role="agent")

    # 1. Sign in with CPF and password.
    sign_in(page, format_cpf(felipe.cpf))
    expect(page.get_by_role("heading", name=re.compile("Olá, Felipe"))).to_be_visible()

    # 2. Search "GERID" and open the form result.
    page.get_by_label("Pesquisar", exact=True).first.fill("GERID")
    page.keyboard.press("Enter")
    page.get_by_role("link", name=re.compile("^GERID")).click()
    expect(page.get_by_role("heading", name="GERID", exact=True)).to_be_visible()
    expect(page.get_by_text("Indica campo obrigatório")).to_be_visible()
    expect(page.locator("nav.br-breadcrumb")).to_contain_text("ACESSO MULTICLIENTE")
    expect(page.get_by_label("E-mail")).to_have_value(felipe.email)
    missing = page.locator("#missing-list li")
    expect(missing).to_have_text(["Motivo", "Funcionalidade", "Descrição"])
    page.get_by_label("Motivo").select_option("Problema de acesso")
    expect(missing).to_have_text(["Funcionalidade", "Descrição"])  # live, with JavaScript
    page.locator("#followers-filter").fill("saraiva")  # search as you type
    expect(page.locator("#followers-list li:not([hidden])")).to_have_text(["Ellem Saraiva Reis"])
    page.get_by_label("Ellem Saraiva Reis").check()
    page.get_by_label("Telefone Adicional").fill("(71) 99999-8888")
    page.get_by_label("Funcionalidade").select_option("Acesso")
    page.get_by_label("Descrição").fill("Usuária Maria da Silva, CPF 123.456.789-09, sem acesso.")
    page.get_by_label("Adicionar anexos").set_input_files(
        {"name": "tela.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    expect(page.locator("#missing-done")).to_be_visible()
    screenshot(page, "form")
    page.get_by_role("button", name="Enviar").click()
    expect(page.get_by_role("heading", name="CS0000001")).to_be_visible()
    expect(page.get_by_text("Solicitação CS0000001 registrada.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("CS0000001 Criado")

    # 4. Find it in Minhas Solicitações with the Número and Estado filters.
    page.locator("details.nav-menu").filter(has_text="Solicitações").locator("summary").click()
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Ver minhas solicitações"
    ).click()
    page.get_by_label("Número").fill("0001")
    page.get_by_label("Estado").select_option(label="Aberto")
    page.locator("#main-content").get_by_role("button", name="Pesquisar").click()
    expect(page.get_by_text("Linhas 1 - 1 de 1")).to_be_visible()
    page.get_by_role("link", name="CS0000001").click()

    # Write a message, then attach a file with the clip.
    page.get_by_placeholder("Digite sua mensagem aqui...").fill("Segue o print atualizado.")
    page.get_by_role("button", name="Enviar").click()
    expect(page.locator(".timeline")).to_contain_text("Segue o print atualizado.")
    expect(page.locator(".timeline")).to_contain_text("Comentários adicionais")
    page.locator("#message-files").set_input_files(
        {"name": "relatorio.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}
    )
    page.get_by_role("button", name="Enviar").click()
    expect(page.locator("section[aria-labelledby=attachments-title]")).to_contain_text(
        "relatorio.pdf"
    )
    screenshot(page, "request")
    sign_out(page)

    # 4.2 The follower finds it in Meus Acompanhamentos.
    sign_in(page, ellem.cpf)
    page.locator("details.nav-menu").filter(has_text="Solicitações").locator("summary").click()
    page.get_by_role("link", name="Ver meus acompanhamentos").click()
    expect(page.get_by_role("link", name="CS0000001")).to_be_visible()
    sign_out(page)

    # 5. The agent resolves; Felipe rejects, then accepts the second solution.
    agent_acts("CS0000001", Action.START, agent)
    agent_acts("CS0000001", Action.RESOLVE, agent, "Acesso liberado.")
    sign_in(page, felipe.cpf)
    open_request_page(page, "CS0000001")
    expect(page.locator("#closes-at")).to_contain_text("fechada automaticamente")
    page.get_by_text("Rejeitar Solução").click()
    page.get_by_label("Motivo da rejeição").fill("Ainda não consigo entrar.")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_text("Você rejeitou esta solução")).to_be_visible()
    expect(page.locator("#request-state")).to_have_text("Em andamento")
    agent_acts("CS0000001", Action.RESOLVE, agent, "Senha redefinida.")
    page.reload()
    page.get_by_role("button", name="Aceitar Solução").click()
    expect(page.get_by_text("Você aceitou esta solução")).to_be_visible()
    expect(page.locator("#request-state")).to_have_text("Fechado")
    expect(page.get_by_placeholder("Digite sua mensagem aqui...")).to_have_count(0)

    # 6. Cancel another request with a reason.
    page.goto("/catalogo/portal-rede-atendimento")
    page.get_by_label("Motivo").select_option("Dúvida")
    page.get_by_label("Funcionalidade").select_option("Login do Usuário")
    page.get_by_label("Sintoma").select_option("Lento")
    page.get_by_label("Descrição").fill("teste")
    page.get_by_role("button", name="Enviar").click()
    expect(page.get_by_role("heading", name="CS0000002")).to_be_visible()
    page.get_by_text("Cancelar Solicitação").click()
    page.get_by_label("Motivo do Cancelamento").fill("Aberta por engano.")
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#request-state")).to_have_text("Cancelado")
    expect(page.locator(".timeline")).to_contain_text("Motivo do Cancelamento:")

    # 7. Sign out from the user menu.
    sign_out(page)
    assert page.problems == []
