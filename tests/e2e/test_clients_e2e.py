"""Issue 16's "done when", in the browser: a client registered from the IBGE list with an
external contact who then signs in; a NEGATIVO occurrence with two images from the client's
page (a third refused); the health summary and the Ocorrências list find it; a requester gets
404 everywhere in the area."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.clients.models import Occurrence, Organisation
from portal.core.cpf import format_cpf, make_cpf
from portal.core.extensions import db
from portal.core.models import Attachment
from portal.core.outbox import deliver_pending
from portal.demo import DEMO_PASSWORD, USERS, load_demo_data
from tests.e2e.test_login_e2e import sign_in
from tests.files import png_bytes

CPF = {user.name.split()[0].lower(): user.cpf for user in USERS}
CONTACT_CPF = make_cpf("417305928")
CONTACT_EMAIL = "joana.master@feiradesantana.ba.gov.br"
NEW_PASSWORD = "Feira-de-Santana-2026"


def _images(tmp_path: Path, count: int) -> list[str]:
    paths = []
    for index in range(count):
        path = tmp_path / f"foto-{index + 1}.png"
        path.write_bytes(png_bytes())
        paths.append(str(path))
    return paths


def _register_feira_de_santana(page: Page) -> None:
    page.goto("/")
    page.get_by_text("Cadastros").click()
    page.get_by_role("link", name="Cliente", exact=True).click()
    page.get_by_role("link", name="Cadastrar cliente").click()
    page.get_by_label("Nome, código IBGE ou CNPJ").fill("Feira de Santana")
    page.get_by_role("main").get_by_role("button", name="Pesquisar").click()
    page.get_by_role(
        "button", name=re.compile("Cadastrar a partir desta empresa.*Feira de Santana")
    ).click()

    # 1 of 4: the type comes from the município; the category is chosen.
    expect(page.get_by_role("heading", name=re.compile("Etapa 1 de"))).to_be_visible()
    expect(page.get_by_role("button", name="Finalizar")).to_be_disabled()
    page.get_by_label("Categoria do cliente").select_option(
        label="Gestão municipal do Cadastro Único"
    )
    page.get_by_role("button", name="Próximo").click()

    # 2 of 4: the IBGE code is filled in; the name becomes the prefeitura's.
    expect(page.get_by_role("heading", name="Etapa 2 de 4: Identificação")).to_be_visible()
    expect(page.get_by_label("Código IBGE", exact=False)).to_have_value("2910800")
    page.get_by_label("Nome", exact=False).fill("Prefeitura Municipal de Feira de Santana")
    page.get_by_role("button", name="Próximo").click()

    # 3 of 4: the category's own field, first left empty (kept, and named), then filled.
    expect(page.get_by_role("heading", name="Etapa 3 de 4: Informações adicionais")).to_be_visible()
    page.get_by_role("button", name="Próximo").click()
    expect(
        page.get_by_text("Preencha o campo “Gestor(a) municipal do Cadastro Único”.")
    ).to_be_visible()
    page.get_by_label("Gestor(a) municipal do Cadastro Único").fill("Joana Pereira Lima")
    page.get_by_role("button", name="Anterior").click()
    expect(page.get_by_label("Nome", exact=False)).to_have_value(
        "Prefeitura Municipal de Feira de Santana"
    )
    page.get_by_role("button", name="Próximo").click()
    expect(page.get_by_label("Gestor(a) municipal do Cadastro Único")).to_have_value(
        "Joana Pereira Lima"
    )
    page.get_by_role("button", name="Próximo").click()

    # 4 of 4: one contact, as an external user.
    expect(page.get_by_role("heading", name="Etapa 4 de 4: Contatos da empresa")).to_be_visible()
    page.get_by_label("Nome", exact=False).fill("Joana Pereira Lima")
    page.get_by_label("Cargo").fill("Gestora municipal do Cadastro Único")
    page.get_by_label("E-mail").fill(CONTACT_EMAIL)
    page.get_by_label("CPF", exact=False).fill(format_cpf(CONTACT_CPF))
    page.locator("label[for=contact_external]").click()
    page.get_by_role("button", name="Adicionar contato").click()
    expect(page.get_by_text("Contatos adicionados (1)")).to_be_visible()
    page.get_by_role("button", name="Finalizar").click()
    expect(
        page.get_by_role("heading", name=re.compile("Prefeitura Municipal de Feira de Santana"))
    ).to_be_visible()


def _first_access(page: Page, smtp_server: Any) -> None:
    deliver_pending(db.session)
    db.session.commit()
    mail = smtp_server.to(CONTACT_EMAIL)
    assert len(mail) == 1
    text = mail[0].get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"/redefinir-senha/\S+", text).group(0)
    page.goto(path)
    page.get_by_label("Nova senha", exact=False).first.fill(NEW_PASSWORD)
    page.get_by_label("Confirme", exact=False).fill(NEW_PASSWORD)
    page.get_by_role("button", name=re.compile("Salvar|Redefinir|Confirmar")).click()
    sign_in(page, format_cpf(CONTACT_CPF), NEW_PASSWORD)
    expect(page.locator(".user-name")).to_have_text("Joana")


def test_clients_and_occurrences_done_when(
    page: Page, live_server: str, app: Flask, smtp_server: Any, tmp_path: Path
) -> None:
    load_demo_data(db.session)
    db.session.commit()

    sign_in(page, format_cpf(CPF["carla"]), DEMO_PASSWORD)
    _register_feira_de_santana(page)
    client_id = db.session.scalar(
        select(Organisation.id).where(Organisation.identifier == "2910800")
    )
    page.context.clear_cookies()
    _first_access(page, smtp_server)
    page.context.clear_cookies()

    # An agent records a NEGATIVO occurrence with two images from the client's page.
    sign_in(page, format_cpf(CPF["ana"]), DEMO_PASSWORD)
    page.goto(f"/clientes/{client_id}")
    expect(page.get_by_text("Nenhuma ocorrência")).to_be_visible()
    page.get_by_role("link", name="Cadastrar ocorrência").click()
    page.locator("#descricao").fill("Gestora relatou bloqueio de senha recorrente.")
    page.locator("#categoria").select_option(label="Reclamação")
    page.locator("label[for=impacto-negativo]").click()
    page.get_by_label("Data da ocorrência", exact=False).fill("01/12/2026")
    page.locator("#attachments").set_input_files(_images(tmp_path, 3))
    page.get_by_role("button", name="Cadastrar").click()
    refused = page.locator("#attachments-error")
    expect(refused).to_contain_text("foto-3.png")
    expect(refused).to_contain_text("no máximo 2 imagens")
    # The first two are kept; nothing typed is lost.
    expect(page.locator(".pending-uploads li")).to_have_count(2)
    expect(page.locator("#descricao")).to_have_value(
        "Gestora relatou bloqueio de senha recorrente."
    )
    db.session.rollback()
    assert (
        db.session.scalar(select(Occurrence.id).where(Occurrence.organisation_id == client_id))
        is None
    )
    page.get_by_role("button", name="Cadastrar", exact=True).click()
    expect(page.get_by_text("Gestora relatou bloqueio de senha recorrente.")).to_be_visible()

    db.session.rollback()  # end the test's read transaction: see what the server wrote
    occurrence = db.session.scalar(
        select(Occurrence).where(Occurrence.organisation_id == client_id)
    )
    assert occurrence is not None and occurrence.impact == "negativo"
    images = db.session.scalars(
        select(Attachment.original_name).where(
            Attachment.owner_type == "occurrence", Attachment.owner_id == occurrence.id
        )
    ).all()
    assert sorted(images) == ["foto-1.png", "foto-2.png"]

    # The health summary counts it.
    negative = page.locator("[data-measure=negativo]")
    expect(negative.locator(".count-number")).to_have_text("1")
    expect(negative).to_contain_text("NEGATIVO")
    expect(page.locator("[data-measure=positivo] .count-number")).to_have_text("0")

    # The Ocorrências list finds it by impact.
    page.goto("/ocorrencias")
    page.get_by_label("Impacto").select_option("negativo")
    page.get_by_role("button", name="Filtrar").click()
    expect(page.get_by_text("Gestora relatou bloqueio de senha recorrente.")).to_be_visible()
    page.context.clear_cookies()

    # A requester gets 404 on every clients and occurrences URL.
    occurrence_id = db.session.scalar(
        select(Occurrence.id).where(Occurrence.organisation_id == client_id)
    )
    sign_in(page, format_cpf(CPF["felipe"]), DEMO_PASSWORD)
    urls = [
        "/clientes",
        f"/clientes/{client_id}",
        "/clientes/novo",
        f"/clientes/{client_id}/dados",
        "/clientes/buscar?q=feira",
        "/ocorrencias",
        "/ocorrencias/nova",
        f"/ocorrencias/nova?cliente={client_id}",
        "/ocorrencias/exportar.csv",
        f"/ocorrencias/{occurrence_id}/editar",
        f"/ocorrencias/{occurrence_id}/remover",
    ]
    for url in urls:
        response = page.request.get(url)
        assert response.status == 404, url
