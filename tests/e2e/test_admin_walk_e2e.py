"""Issue 17's "done when", walked in the browser from start to end on the demo data.

An admin creates a group and a new agent in it, the catalog item "SIBEC - Benefícios" with a
dependent field pair, a required date and a field shown only for one option, and routes it to
that group. A requester finds it in search, the dependent options and the conditional field
work, and the request lands in the new agent's queue. The admin removes a field and renames
another: the old request still shows both answers under their old labels. The admin publishes
a Comunicado for UF BA only: a BA user sees it, a PE user does not. Auditoria lists every step,
`portal audit verify` is clean, and after a row is edited in the database it names that row.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.accounts.services import set_password
from portal.core import audit
from portal.core.actors import COMMAND_LINE
from portal.core.cpf import format_cpf, make_cpf
from portal.core.extensions import db
from portal.demo import DEMO_PASSWORD, USERS, load_demo_data
from portal.models import AuditEntry, ServiceRequest, User
from tests.e2e.test_admin_forms_e2e import add_field, options_of
from tests.e2e.test_login_e2e import sign_in
from tests.e2e.test_tutorial_e2e import sign_out

CPF = {u.name.split()[0].lower(): format_cpf(u.cpf) for u in USERS}
AGENT_CPF = make_cpf("605118273")
AGENT_PASSWORD = "Sibec-beneficios-2026"
NOTICE = "Recadastramento na Bahia"


def _new_group_and_agent(page: Page) -> int:
    page.goto("/admin/grupos/novo")
    page.locator("#name").fill("Suporte SIBEC")
    page.locator("#email").fill("sibec@dataprev.gov.br")
    page.get_by_role("button", name="Criar grupo").click()
    expect(page.get_by_role("heading", name="Suporte SIBEC", level=1)).to_be_visible()
    group_id = int(re.search(r"/admin/grupos/(\d+)", page.url).group(1))  # type: ignore[union-attr]

    page.goto("/admin/usuarios/novo")
    page.locator("#cpf").fill(format_cpf(AGENT_CPF))
    page.locator("#full_name").fill("Joana Sibec Atendente")
    page.locator("#email").fill("joana.sibec@dataprev.gov.br")
    page.locator("#role").select_option("agent")
    page.locator("#org_busca").fill("dataprev")
    page.get_by_role("button", name="Buscar").click()
    page.locator("#organisation_id").select_option(label="DATAPREV (DF) – 42422253000101")
    page.locator(f"label[for=group-{group_id}]").click()
    page.get_by_role("button", name="Criar usuário").click()
    expect(page.get_by_role("heading", name="Joana Sibec Atendente", level=1)).to_be_visible()
    return group_id


def _new_item(page: Page) -> int:
    page.goto("/admin/catalogo/")
    page.locator("#category-name").fill("SIBEC")
    page.get_by_role("button", name="Criar categoria").click()
    page.get_by_role("link", name="Novo item em SIBEC").click()
    page.locator("#name").fill("SIBEC - Benefícios")
    page.locator("#short_description").fill("Consulta e bloqueio de benefícios")
    page.locator("#group_id").select_option(label="Suporte SIBEC")
    page.get_by_role("button", name="Criar item").click()
    expect(page.get_by_role("heading", name=re.compile("SIBEC - Benefícios"))).to_be_visible()
    page.get_by_role("link", name="Campos do formulário").first.click()
    add_field(page, "Módulo", "Seleção", required="1", options="Benefícios\nPagamentos")
    add_field(
        page,
        "Funcionalidade",
        "Seleção dependente",
        required="1",
        depends_on="Módulo",
        options_by_parent="Benefícios: Consulta; Concessão\nPagamentos: Folha; Extrato",
    )
    add_field(page, "Data do ocorrido", "Data", required="1")
    add_field(
        page, "Número do benefício", "Número", condition="Módulo for “Pagamentos”", required="1"
    )
    page.get_by_role("button", name="Publicar").click()
    expect(page.get_by_text(re.compile(r"Formulário publicado: versão 1\."))).to_be_visible()
    return int(re.search(r"/itens/(\d+)/", page.url).group(1))  # type: ignore[union-attr]


def _request_sibec(page: Page) -> str:
    """Felipe (Salvador, BA) finds the item in search and fills it in."""
    page.locator("#header-q").fill("sibec")
    page.locator("#header-q").press("Enter")
    page.get_by_role("link", name="SIBEC - Benefícios").first.click()
    conditional = page.locator("#field-numero_do_beneficio")
    expect(conditional).to_be_hidden()
    page.locator("#modulo").select_option("Pagamentos")
    assert options_of(page, "funcionalidade") == ["Folha", "Extrato"]
    expect(conditional).to_be_visible()
    page.locator("#funcionalidade").select_option("Extrato")
    page.locator("#data_do_ocorrido").fill("05/02/2026")
    page.locator("#numero_do_beneficio").fill("1234567890")
    page.locator("#description").fill("O extrato do benefício não abre.")
    page.get_by_role("button", name="Enviar").click()
    flash = page.get_by_text(re.compile(r"Solicitação CS\d+ registrada\."))
    expect(flash).to_be_visible()
    return re.search(r"CS\d+", flash.inner_text()).group(0)  # type: ignore[union-attr]


def _remove_one_field_and_rename_another(page: Page, item_id: int) -> None:
    page.goto(f"/admin/catalogo/itens/{item_id}/campos")
    page.get_by_role("button", name="Remover Número do benefício").click()
    expect(page.locator("table tbody tr")).to_have_count(3)
    page.get_by_role("link", name="Editar Data do ocorrido").click()
    page.locator("#label").fill("Data do problema")
    page.get_by_role("button", name="Salvar campo").click()
    expect(page.get_by_text("Campo alterado no rascunho.")).to_be_visible()
    page.get_by_role("button", name="Publicar").click()
    expect(page.get_by_text("Formulário publicado: versão 2.")).to_be_visible()


def _comunicado_for_ba(page: Page) -> None:
    page.goto("/admin/comunicados/novo")
    page.locator("#titulo").fill(NOTICE)
    page.locator("#texto").fill("Atualize o cadastro das famílias até **30/06**.")
    page.locator("label[for=publico-uf]").click()
    page.locator("#uf").select_option("BA")
    page.locator("button[value=salvar]").click()
    page.locator("main form button", has_text="Publicar").click()
    expect(page.locator(".flash")).to_contain_text("Comunicado publicado")


def _verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["portal", "audit", "verify"])
    return result.exit_code, result.output


def test_issue_17_done_when(page: Page, app: Flask) -> None:
    load_demo_data(db.session)
    db.session.commit()

    sign_in(page, CPF["carla"], DEMO_PASSWORD)
    group_id = _new_group_and_agent(page)
    item_id = _new_item(page)
    sign_out(page)

    sign_in(page, CPF["felipe"], DEMO_PASSWORD)
    number = _request_sibec(page)
    sign_out(page)
    db.session.rollback()
    request = db.session.scalar(select(ServiceRequest).where(ServiceRequest.number == number))
    assert request is not None and request.group_id == group_id

    # The new agent (password set here; the first-access e-mail has its own test) sees it.
    agent = db.session.scalar(select(User).where(User.cpf == AGENT_CPF))
    assert agent is not None
    set_password(db.session, COMMAND_LINE, agent, AGENT_PASSWORD)
    db.session.commit()
    sign_in(page, format_cpf(AGENT_CPF), AGENT_PASSWORD)
    expect(page).to_have_url(re.compile(r"/atendimento"))
    expect(page.get_by_role("link", name=number)).to_be_visible()
    sign_out(page)

    sign_in(page, CPF["carla"], DEMO_PASSWORD)
    _remove_one_field_and_rename_another(page, item_id)
    page.goto(f"/solicitacoes/{number}")
    details = page.locator("section[aria-labelledby=details-title] dl.details")
    for label, answer in (
        ("Data do ocorrido", "05/02/2026"),
        ("Número do benefício", "1234567890"),
    ):
        expect(details.locator("div", has=page.locator("dt", has_text=label))).to_contain_text(
            answer
        )
    expect(details).not_to_contain_text("Data do problema")
    _comunicado_for_ba(page)
    sign_out(page)

    sign_in(page, CPF["felipe"], DEMO_PASSWORD)  # Salvador, BA
    expect(page.get_by_role("region", name="Comunicados")).to_contain_text(NOTICE)
    sign_out(page)
    sign_in(page, CPF["roberto"], DEMO_PASSWORD)  # Recife, PE
    expect(page.locator("main")).not_to_contain_text(NOTICE)
    sign_out(page)

    sign_in(page, CPF["carla"], DEMO_PASSWORD)
    page.goto("/admin/auditoria")
    listed = page.locator("main")
    for step in (
        "Grupo: criação",
        "Usuário: criação",
        "Categoria do catálogo: criação",
        "Item do catálogo: criação",
        "Campo de formulário: criação",
        "Campo de formulário: remoção",
        "Campo de formulário: alteração",
        "Item do catálogo: publicação",
        "Comunicado: publicação",
    ):
        expect(listed).to_contain_text(step)
    assert _verify(app)[0] == 0

    # Edit one row behind the portal's back: verify names it.
    db.session.rollback()
    target = db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "group.create").limit(1)
    )
    db.session.commit()
    with db.engine.begin() as conn:
        audit.drop_append_only(conn)
        conn.execute(
            sa.update(AuditEntry).where(AuditEntry.id == target).values(actor_label="Outra pessoa")
        )
        audit.install_append_only(conn)
    code, output = _verify(app)
    assert code == 1
    assert f"A entrada {target} foi alterada" in output
    assert page.problems == []  # type: ignore[attr-defined]
