"""An agent works a request from the queue to the solution; the requester accepts."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot
from tests.e2e.test_login_e2e import sign_in
from tests.e2e.test_tutorial_e2e import open_request_page, sign_out


def test_agent_works_a_request_and_the_requester_accepts(
    page: Page, make_user, make_org, make_request
) -> None:
    felipe = make_user(name="Felipe Rodrigues Andrade")
    dataprev = make_org(name="DATAPREV", kind="outro", uf="DF")
    ana = make_user(
        name="Ana Paula Atendente", role="agent", organisation=dataprev, groups=["Suporte GERID"]
    )
    request = make_request(felipe, description="Não consigo atribuir perfil.")

    sign_in(page, ana.cpf)
    expect(page.get_by_role("heading", name="Fila de Atendimento")).to_be_visible()
    page.get_by_label("Atribuído a").select_option("ninguem")
    page.locator("#main-content").get_by_role("button", name="Pesquisar").click()
    screenshot(page, "queue")
    page.get_by_role("link", name=request.number).click()
    page.get_by_role("button", name="Atribuir a mim").click()
    expect(page.locator("#request-assignee")).to_have_text("Ana Paula Atendente")
    page.get_by_role("button", name="Iniciar atendimento").click()
    expect(page.locator("#request-state")).to_have_text("Em andamento")

    page.locator("#note-body").fill("Perfil bloqueado por regra antiga; corrigindo.")
    page.get_by_label("Tempo gasto (minutos)").fill("30")
    page.get_by_role("button", name="Adicionar nota").click()
    expect(page.get_by_text("Nota registrada.")).to_be_visible()
    page.locator("#note-body").fill("Identificamos a causa e já estamos corrigindo.")
    page.get_by_label("Tempo gasto (minutos)").fill("5")
    page.get_by_label("Visível ao solicitante").check()
    page.get_by_label("Enviar ao e-mail").check()
    page.get_by_role("button", name="Adicionar nota").click()
    expect(page.locator("#time-spent-total")).to_have_text("35 min")
    page.get_by_text("Resolver", exact=True).click()
    page.get_by_label("Solução").fill("Perfil de entrevistador atribuído.")
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#request-state")).to_have_text("Aguardando posição do usuário final")
    screenshot(page, "agent-request")
    sign_out(page)

    sign_in(page, felipe.cpf)
    open_request_page(page, request.number)
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Identificamos a causa e já estamos corrigindo.")
    expect(timeline).to_contain_text("Perfil de entrevistador atribuído.")
    expect(timeline).not_to_contain_text("regra antiga")
    page.get_by_role("button", name="Aceitar Solução").click()
    expect(page.get_by_text("Você aceitou esta solução")).to_be_visible()
    sign_out(page)

    sign_in(page, ana.cpf)
    page.goto(f"/solicitacoes/{request.number}")
    page.locator("#history summary").click()
    history = page.locator("#history table")
    expect(history).to_contain_text("Aceitar Solução")
    expect(history).to_contain_text(re.compile("Aguardando posição do usuário final → Fechado"))
    expect(page.locator("#history-total")).to_have_text("35 min")
    assert page.problems == []
