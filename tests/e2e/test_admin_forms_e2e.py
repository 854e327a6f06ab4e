"""An admin builds a form in the browser (a dependent pair, a required date, a field shown
only for one option), previews it, publishes it; a requester then fills it in, with the
dependent options narrowing and the conditional field appearing only for its option."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.catalog.services import upsert_item
from portal.core.cpf import format_cpf
from portal.core.extensions import db
from portal.models import ServiceRequest
from tests.conftest import SETUP
from tests.e2e.conftest import screenshot
from tests.e2e.test_login_e2e import sign_in
from tests.e2e.test_tutorial_e2e import sign_out


def add_field(page: Page, label: str, kind: str, **extra: str) -> None:
    """The Adicionar campo form; extra names its inputs by id (required="1" ticks the box)."""
    form = page.locator("form.field-definition")
    form.locator("#label").fill(label)
    form.locator("#type").select_option(label=kind)
    if extra.pop("required", None):
        form.locator("label[for=required]").click()
    if "condition" in extra:
        form.locator("#condition").select_option(label=extra.pop("condition"))
    if "depends_on" in extra:
        form.locator("#depends_on").select_option(label=extra.pop("depends_on"))
    for name, value in extra.items():
        form.locator(f"#{name}").fill(value)
    form.get_by_role("button", name="Adicionar campo").click()
    expect(page.get_by_text(f"Campo “{label}” adicionado ao rascunho.")).to_be_visible()


def options_of(page: Page, select_id: str) -> list[str]:
    return page.locator(f"#{select_id} option").all_inner_texts()[1:]


def test_admin_builds_previews_and_publishes_a_form(page: Page, make_user) -> None:
    item = upsert_item(
        db.session,
        SETUP,
        {
            "path": ["SIBEC"],
            "slug": "sibec",
            "name": "SIBEC - Benefícios",
            "group": "Suporte SIBEC",
        },
    )
    db.session.commit()
    item_id = item.id
    admin = make_user(name="Carla Admin", role="admin")
    requester = make_user(name="Felipe Rodrigues")

    sign_in(page, format_cpf(admin.cpf))
    page.goto(f"/admin/catalogo/itens/{item_id}/campos")
    expect(page.get_by_role("heading", name="Campos: SIBEC - Benefícios")).to_be_visible()
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
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(3)).to_contain_text("Mostrar somente quando Módulo for “Pagamentos”")
    screenshot(page, "admin-form-fields")

    # Pré-visualizar: the same rules, live, and the same checks as a real submission.
    page.get_by_role("link", name="Pré-visualizar").click()
    expect(page.locator("#field-numero_do_beneficio")).to_be_hidden()
    page.locator("#modulo").select_option("Pagamentos")
    expect(page.locator("#numero_do_beneficio")).to_be_visible()
    assert options_of(page, "funcionalidade") == ["Folha", "Extrato"]
    page.locator("#funcionalidade").select_option("Extrato")
    page.get_by_role("button", name="Conferir respostas").click()
    expect(page.locator("#data_do_ocorrido-error")).to_contain_text("obrigatório")
    expect(page.locator("#numero_do_beneficio-error")).to_contain_text("obrigatório")
    expect(page.locator("#funcionalidade")).to_have_value("Extrato")  # kept as typed
    page.locator("#data_do_ocorrido").fill("05/02/2025")
    page.locator("#numero_do_beneficio").fill("1234567890")
    page.get_by_role("button", name="Conferir respostas").click()
    expect(page.locator("#preview-result")).to_contain_text("O envio seria aceito")
    expect(page.locator("#preview-result")).to_contain_text("1234567890")
    db.session.rollback()
    assert db.session.scalar(select(ServiceRequest)) is None

    # Publicar: a new version, with what changed.
    page.get_by_role("link", name="Voltar aos campos").click()
    expect(page.locator(".change-list")).to_contain_text("Campo “Data do ocorrido” adicionado")
    page.get_by_role("button", name="Publicar").click()
    expect(page.get_by_text("Formulário publicado: versão 2.")).to_be_visible()
    page.get_by_role("link", name="Versões").click()
    expect(page.locator("#versao-2")).to_contain_text("Carla Admin")
    sign_out(page)

    # The requester: the dependent options narrow, the conditional field shows for its option.
    sign_in(page, format_cpf(requester.cpf))
    page.goto("/catalogo/sibec")
    number_field = page.locator("#field-numero_do_beneficio")
    expect(number_field).to_be_hidden()
    assert options_of(page, "funcionalidade") == ["Consulta", "Concessão", "Folha", "Extrato"]
    page.locator("#modulo").select_option("Pagamentos")
    expect(number_field).to_be_visible()
    assert options_of(page, "funcionalidade") == ["Folha", "Extrato"]
    expect(page.locator("#missing-list li")).to_have_text(
        ["Funcionalidade", "Data do ocorrido", "Número do benefício", "Descrição"]
    )
    page.locator("#numero_do_beneficio").fill("987")
    page.locator("#modulo").select_option("Benefícios")
    expect(number_field).to_be_hidden()
    expect(page.locator("#numero_do_beneficio")).to_be_disabled()
    assert options_of(page, "funcionalidade") == ["Consulta", "Concessão"]
    page.locator("#funcionalidade").select_option("Concessão")
    page.locator("#data_do_ocorrido").fill("05/02/2025")
    page.locator("#description").fill("Benefício não aparece na consulta.")
    expect(page.locator("#missing-done")).to_be_visible()
    screenshot(page, "requester-sibec-form")
    page.get_by_role("button", name="Enviar").click()
    expect(page.get_by_text(re.compile(r"Solicitação CS\d+ registrada\."))).to_be_visible()
    details = page.locator("dl.details")
    expect(details).to_contain_text("Funcionalidade")
    expect(details).not_to_contain_text("Número do benefício")
    db.session.rollback()
    created = db.session.scalar(select(ServiceRequest))
    assert created.field_values == {
        "modulo": "Benefícios",
        "funcionalidade": "Concessão",
        "data_do_ocorrido": "05/02/2025",
    }
    assert page.problems == []  # type: ignore[attr-defined]
