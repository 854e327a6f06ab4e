"""Administração > Catálogo > an item's form: the field services, the Campos, Pré-visualizar
and Versões pages, and what the requester's form and request page make of a definition."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.catalog import field_services as fields
from portal.catalog import versions
from portal.catalog.admin_services import ItemInput, create_item
from portal.catalog.field_services import FieldInput
from portal.catalog.models import CatalogItem, FieldType, FormVersion, ItemField
from portal.catalog.services import upsert_item
from portal.core.errors import Forbidden, FormErrors, ValidationError
from portal.core.extensions import db
from portal.models import AuditEntry, ServiceRequest, User
from tests.conftest import SETUP, AuthActions

ERROR_RE = re.compile(
    r'<span class="feedback danger" role="alert" id="([a-z0-9_]+)-error">'
    r"<i [^>]*></i> ([^<]*)</span>"
)


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _field_errors(html: str) -> dict[str, str]:
    return {key: html_lib.unescape(text) for key, text in ERROR_RE.findall(html)}


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(name="Carla Admin", role="admin")


@pytest.fixture
def item(app: Any) -> CatalogItem:
    """A new item with its group and no fields of its own yet (published as version 1)."""
    created = upsert_item(
        db.session,
        SETUP,
        {
            "path": ["SIBEC"],
            "slug": "sibec",
            "name": "SIBEC - Benefícios",
            "group": "Suporte SIBEC",
            "fields": [],
        },
    )
    db.session.commit()
    return created


def add(actor: Any, item: CatalogItem, **values: Any) -> ItemField:
    created = fields.add_field(db.session, actor, item, FieldInput(**values))
    db.session.commit()
    return created


def sibec_form(actor: Any, item: CatalogItem) -> None:
    """A dependent pair, a required date, a field shown only for one option, a yes/no."""
    add(actor, item, label="Módulo", type="select", required=True, options="Benefícios\nPagamentos")
    add(
        actor,
        item,
        label="Funcionalidade",
        type="dependent_select",
        required=True,
        depends_on="modulo",
        options_by_parent="Benefícios: Consulta; Concessão\nPagamentos: Folha; Extrato",
    )
    add(actor, item, label="Data do ocorrido", type="date", required=True, help_text="Quando.")
    add(
        actor,
        item,
        label="Número do benefício",
        type="number",
        required=True,
        show_when_key="modulo",
        show_when_value="Pagamentos",
    )
    add(actor, item, label="Urgente", type="yes_no", default="Não")


def publish(actor: Any, item: CatalogItem) -> FormVersion:
    version = versions.publish_form(db.session, actor, item)
    db.session.commit()
    return version


# ------------------------------------------------------------------ the services


def test_keys_come_from_labels_and_stay(admin: User, item: CatalogItem) -> None:
    first = add(admin, item, label="Número do Benefício (NB)")
    second = add(admin, item, label="número do benefício – nb")
    reserved = add(admin, item, label="Descrição")
    digits = add(admin, item, label="2ª via")
    assert [first.key, second.key, reserved.key, digits.key] == [
        "numero_do_beneficio_nb",
        "numero_do_beneficio_nb_2",
        "descricao",
        "campo_2a_via",
    ]
    assert fields.derive_key("Description", set()) == "description_2"  # the form's own input
    assert fields.derive_key("???", set()) == "campo"
    assert len(fields.derive_key("x" * 300, set())) <= 40
    fields.update_field(db.session, admin, item, first, FieldInput(label="NB"))
    assert first.key == "numero_do_beneficio_nb" and first.label == "NB"


def test_only_admins_keep_fields(make_user: Callable[..., User], item: CatalogItem) -> None:
    agent = make_user(role="agent")
    with pytest.raises(Forbidden):
        fields.add_field(db.session, agent, item, FieldInput(label="X"))


def _refused(admin: User, item: CatalogItem, **values: Any) -> dict[str, str]:
    with pytest.raises(FormErrors) as refused:
        fields.add_field(db.session, admin, item, FieldInput(**values))
    db.session.rollback()
    return {e.field or "": str(e) for e in refused.value.errors}


def test_definitions_are_checked_with_clear_messages(admin: User, item: CatalogItem) -> None:
    add(admin, item, label="Módulo", type="select", options="Benefícios\nPagamentos")
    add(admin, item, label="Observação", type="text")
    assert _refused(admin, item, label="") == {"label": "Informe o rótulo do campo."}
    assert "Já existe" in _refused(admin, item, label="Módulo")["label"]
    assert _refused(admin, item, label="S", type="select", options="\n \n") == {
        "options": "Informe as opções, uma por linha."
    }
    assert _refused(admin, item, label="F", type="fixed") == {"preset": "Informe o valor fixo."}
    assert (
        "Escolha o campo do qual"
        in _refused(admin, item, label="D", type="dependent_select", depends_on="observacao")[
            "depends_on"
        ]
    )
    bad_parent = _refused(
        admin,
        item,
        label="D",
        type="dependent_select",
        depends_on="modulo",
        options_by_parent="Benefícios: A\nSaúde: B",
    )
    assert bad_parent["options_by_parent"] == (
        "“Saúde” não é um valor de “Módulo”. Comece cada linha com um destes valores e "
        "dois-pontos: Benefícios, Pagamentos."
    )
    required_gap = _refused(
        admin,
        item,
        label="D",
        type="dependent_select",
        required=True,
        depends_on="modulo",
        options_by_parent="Benefícios: A",
    )
    assert required_gap["options_by_parent"] == (
        "O campo é obrigatório: informe opções também para “Pagamentos”."
    )
    assert (
        "condição"
        in _refused(admin, item, label="C", show_when_key="modulo", show_when_value="Saúde")[
            "condition"
        ]
    )
    assert (
        "condição"
        in _refused(admin, item, label="C", show_when_key="observacao", show_when_value="x")[
            "condition"
        ]
    )
    assert _refused(admin, item, label="Data", type="date", default="31/02/2025") == {
        "default": "Valor inicial inválido. “Data”: informe a data como DD/MM/AAAA."
    }
    assert _refused(admin, item, label="S", type="yes_no", default="Talvez") == {
        "default": "Valor inicial inválido. Escolha uma opção válida para “S”."
    }


def test_a_valid_definition_is_stored_cleaned_and_audited(admin: User, item: CatalogItem) -> None:
    add(admin, item, label="Módulo", type="select", options="Benefícios\n\nPagamentos\nBenefícios")
    child = add(
        admin,
        item,
        label="Funcionalidade",
        type="dependent_select",
        depends_on="modulo",
        options_by_parent=(
            "Benefícios: Consulta; Concessão;\n Pagamentos:Folha\nBenefícios: Revisão"
        ),
        show_when_key="modulo",
        show_when_value="Pagamentos",
        preset="ignored for this type",
    )
    when = add(admin, item, label="Quando", type="date", default="2025-02-05")
    assert item.fields[0].options == ["Benefícios", "Pagamentos"]
    assert child.options_by_parent == {
        "Benefícios": ["Consulta", "Concessão", "Revisão"],
        "Pagamentos": ["Folha"],
    }
    assert (child.preset, child.show_when_key, child.show_when_value) == (
        None,
        "modulo",
        "Pagamentos",
    )
    assert when.default_value == "05/02/2025"
    assert FieldInput.of(child).options_by_parent == (
        "Benefícios: Consulta; Concessão; Revisão\nPagamentos: Folha"
    )
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "item_field.create")
    ).all()
    assert [e.after["key"] for e in entries] == ["modulo", "funcionalidade", "quando"]
    assert all(e.actor_id == admin.id and e.after["item_id"] == item.id for e in entries)


def test_changing_a_parent_may_not_strand_its_dependents(admin: User, item: CatalogItem) -> None:
    sibec_form(admin, item)
    modulo = item.fields[0]
    with pytest.raises(FormErrors) as refused:
        fields.update_field(
            db.session,
            admin,
            item,
            modulo,
            FieldInput(label="Módulo", type="select", options="Benefícios\nSaúde"),
        )
    db.session.rollback()
    problems = [str(e) for e in refused.value.errors]
    assert "“Funcionalidade” tem opções para “Pagamentos”, que não é um valor de “Módulo”." in (
        problems
    )
    assert any(
        "“Número do benefício” aparece quando “Módulo” for “Pagamentos”" in p for p in problems
    )


def test_removing_a_field_others_use_is_refused_naming_them(admin: User, item: CatalogItem) -> None:
    sibec_form(admin, item)
    with pytest.raises(ValidationError) as refused:
        fields.remove_field(db.session, admin, item, item.fields[0])
    db.session.rollback()
    assert str(refused.value) == (
        "Não é possível remover “Módulo”: “Funcionalidade” depende dele e "
        "“Número do benefício” aparece conforme ele. Altere esses campos antes."
    )
    fields.remove_field(db.session, admin, item, item.fields[2])  # the date: nobody uses it
    db.session.commit()
    db.session.refresh(item)
    assert [(f.key, f.position) for f in item.fields] == [
        ("modulo", 0),
        ("funcionalidade", 1),
        ("numero_do_beneficio", 2),
        ("urgente", 3),
    ]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "item_field.remove"))


def test_moving_keeps_parents_before_their_dependents(admin: User, item: CatalogItem) -> None:
    sibec_form(admin, item)
    with pytest.raises(FormErrors) as refused:
        fields.move_field(db.session, admin, item, item.fields[1], up=True)
    db.session.rollback()
    assert "depende de um campo que não vem antes dele" in str(refused.value)
    fields.move_field(db.session, admin, item, item.fields[4], up=True)
    fields.move_field(db.session, admin, item, item.fields[0], up=True)  # already first: no-op
    db.session.commit()
    db.session.refresh(item)
    assert [f.key for f in item.fields] == [
        "modulo",
        "funcionalidade",
        "data_do_ocorrido",
        "urgente",
        "numero_do_beneficio",
    ]
    assert versions.unpublished_changes(db.session, item)[0] == "Campo “Módulo” adicionado"


# ------------------------------------------------------------------ the Campos page


def test_fields_page_lists_the_draft_with_rules(
    auth: AuthActions, admin: User, item: CatalogItem
) -> None:
    sibec_form(admin, item)
    auth.login(admin)
    html = _html(auth.client.get(f"/admin/catalogo/itens/{item.id}/campos"))
    for text in (
        "Campos: SIBEC - Benefícios",
        "Seleção dependente",
        "Opções conforme Módulo",
        "Mostrar somente quando Módulo for “Pagamentos”",
        "Sim/Não",
        "Campo “Módulo” adicionado",  # unpublished changes
        "Módulo for “Benefícios”",  # a condition the add form offers
        'name="csrf_token"',
    ):
        assert text in html, text


def test_a_refused_definition_comes_back_typed_with_its_errors(
    auth: AuthActions, admin: User, item: CatalogItem
) -> None:
    auth.login(admin)
    url = f"/admin/catalogo/itens/{item.id}/campos"
    response = auth.post(
        url, {"label": "Quando", "type": "date", "default": "ontem", "help_text": "Dia <b>"}
    )
    assert response.status_code == 400
    html = _html(response)
    assert 'value="Quando"' in html and 'value="Dia &lt;b&gt;"' in html
    assert 'aria-describedby="default-hint default-error"' in html
    assert _field_errors(html)["default"].startswith("Valor inicial inválido.")
    assert db.session.scalar(select(ItemField).where(ItemField.item_id == item.id)) is None


def test_add_edit_move_and_remove_through_the_pages(
    auth: AuthActions, admin: User, item: CatalogItem
) -> None:
    auth.login(admin)
    url = f"/admin/catalogo/itens/{item.id}/campos"
    auth.post(url, {"label": "Motivo", "type": "select", "options": "A\nB", "required": "1"})
    response = auth.post(
        url,
        {"label": "Detalhe", "type": "text", "condition": "motivo=B"},
        follow_redirects=True,
    )
    assert "Campo “Detalhe” adicionado ao rascunho." in _html(response)
    motivo, detalhe = db.session.scalars(
        select(ItemField).where(ItemField.item_id == item.id).order_by(ItemField.position)
    ).all()
    assert (motivo.required, motivo.options) == (True, ["A", "B"])
    assert (detalhe.show_when_key, detalhe.show_when_value) == ("motivo", "B")
    edit = _html(auth.client.get(f"{url}/{detalhe.id}"))
    assert '<option value="motivo=B" selected>' in edit
    response = auth.post(f"{url}/{detalhe.id}", {"label": "Detalhes", "type": "textarea"})
    assert response.status_code == 302
    refused = auth.post(f"{url}/{motivo.id}/mover", {"direcao": "descer"}, page=url)
    assert refused.status_code == 302
    db.session.refresh(detalhe)
    assert (detalhe.label, detalhe.type, detalhe.show_when_key) == (
        "Detalhes",
        FieldType.TEXTAREA,
        None,
    )
    auth.post(f"{url}/{motivo.id}/mover", {"direcao": "descer"}, page=url)
    db.session.expire_all()
    assert [f.key for f in db.session.get(CatalogItem, item.id).fields] == ["detalhe", "motivo"]
    motivo_id = motivo.id
    response = auth.post(f"{url}/{motivo_id}/remover", page=url, follow_redirects=True)
    assert "Campo “Motivo” removido do rascunho." in _html(response)
    db.session.expire_all()
    assert db.session.get(ItemField, motivo_id) is None


def test_publishing_refused_without_a_group_then_a_new_version(
    auth: AuthActions, admin: User, item: CatalogItem
) -> None:
    sibec_form(admin, item)
    auth.login(admin)
    page = f"/admin/catalogo/itens/{item.id}/campos"
    group_id = item.group_id
    item.group_id = None
    db.session.commit()
    refused = auth.post(f"/admin/catalogo/itens/{item.id}/publicar", page=page)
    assert refused.status_code == 400
    assert "Escolha o grupo que recebe as solicitações deste item antes de publicar." in _html(
        refused
    )
    assert db.session.get(CatalogItem, item.id).published_version == 1
    db.session.get(CatalogItem, item.id).group_id = group_id
    db.session.commit()
    response = auth.post(
        f"/admin/catalogo/itens/{item.id}/publicar", page=page, follow_redirects=True
    )
    assert "Formulário publicado: versão 2." in _html(response)
    assert "Nada a publicar" in _html(response)
    version = db.session.scalar(
        select(FormVersion).where(FormVersion.item_id == item.id, FormVersion.number == 2)
    )
    assert version.published_by_id == admin.id
    assert "Campo “Funcionalidade” adicionado" in version.changes
    assert [f["key"] for f in version.fields][:2] == ["modulo", "funcionalidade"]


def test_publishing_a_draft_with_problems_shows_them(
    auth: AuthActions, admin: User, item: CatalogItem
) -> None:
    db.session.add(ItemField(item_id=item.id, key="fixo", label="Fixo", type=FieldType.FIXED))
    db.session.commit()
    auth.login(admin)
    page = f"/admin/catalogo/itens/{item.id}/campos"
    response = auth.post(f"/admin/catalogo/itens/{item.id}/publicar", page=page)
    assert response.status_code == 400
    assert "“Fixo” é de valor fixo e não tem valor." in _html(response)


# ------------------------------------------------------------------ preview = real submission

BAD = {
    "modulo": "Pagamentos",
    "funcionalidade": "Consulta",  # an option of Benefícios, not of Pagamentos
    "data_do_ocorrido": "31/02/2025",
    "numero_do_beneficio": "",  # shown for Pagamentos, and required
    "urgente": "Talvez",
}
GOOD = {
    "modulo": "Benefícios",
    "funcionalidade": "Concessão",
    "data_do_ocorrido": "2025-02-05",
    "numero_do_beneficio": "123",  # hidden for Benefícios: ignored
    "urgente": "Sim",
}
CLEANED = {
    "modulo": "Benefícios",
    "funcionalidade": "Concessão",
    "data_do_ocorrido": "05/02/2025",
    "urgente": "Sim",
}


def test_the_preview_validates_exactly_as_a_real_submission(
    auth: AuthActions, admin: User, item: CatalogItem, make_user: Callable[..., User]
) -> None:
    sibec_form(admin, item)
    publish(admin, item)
    requester = make_user(name="Felipe")
    preview = f"/admin/catalogo/itens/{item.id}/pre-visualizar"

    auth.login(admin)
    refused_preview = auth.post(preview, BAD)
    accepted_preview = auth.post(preview, GOOD)
    auth.logout()
    auth.login(requester)
    refused_real = auth.post("/catalogo/sibec", {**BAD, "description": "Ajuda"})
    accepted_real = auth.post("/catalogo/sibec", {**GOOD, "description": "Ajuda"})

    assert refused_preview.status_code == refused_real.status_code == 400
    preview_errors = _field_errors(_html(refused_preview))
    assert set(preview_errors) == {
        "funcionalidade",
        "data_do_ocorrido",
        "numero_do_beneficio",
        "urgente",
    }
    real_errors = _field_errors(_html(refused_real))
    assert {k: real_errors[k] for k in preview_errors} == preview_errors
    assert accepted_preview.status_code == 200
    shown = _html(accepted_preview)
    assert (
        "O envio seria aceito" in shown and "<dt>Data do ocorrido</dt><dd>05/02/2025</dd>" in shown
    )
    assert "Número do benefício</dt>" not in shown
    assert accepted_real.status_code == 302
    created = db.session.scalar(select(ServiceRequest).where(ServiceRequest.item_id == item.id))
    assert created.field_values == CLEANED
    assert created.form_version.number == 2
    assert db.session.scalar(select(ServiceRequest).where(ServiceRequest.id != created.id)) is None


def test_the_preview_renders_the_draft_not_the_published_form(
    auth: AuthActions, admin: User, item: CatalogItem
) -> None:
    sibec_form(admin, item)
    auth.login(admin)
    response = auth.client.get(f"/admin/catalogo/itens/{item.id}/pre-visualizar")
    html = _html(response)
    assert response.status_code == 200
    assert 'data-depends-on="modulo"' in html
    assert 'data-show-when="modulo" data-show-value="Pagamentos"' in html
    assert "Preencha somente se Módulo for “Pagamentos”." in html
    assert 'id="urgente-2" name="urgente" value="Não" checked' in html  # the default
    assert db.session.scalar(select(ServiceRequest)) is None


# ------------------------------------------------------------------ the requester's form


def test_the_requester_form_renders_every_type(
    auth: AuthActions, admin: User, item: CatalogItem, make_user: Callable[..., User]
) -> None:
    for label, kind, extra in (
        ("Curto", "text", {"help_text": "Uma linha."}),
        ("Longo", "textarea", {}),
        ("Lista", "select", {"options": "Um\nDois"}),
        ("Fixo", "fixed", {"preset": "Sempre isto"}),
        ("Fone", "phone", {}),
        ("Correio", "email", {}),
        ("Dia", "date", {"default": "01/01/2025"}),
        ("Quantia", "number", {}),
        ("Documento", "cpf", {}),
        ("Confirma", "yes_no", {"required": True}),
        ("Sub", "dependent_select", {"depends_on": "lista", "options_by_parent": "Um: X"}),
    ):
        add(admin, item, label=label, type=kind, **extra)
    publish(admin, item)
    auth.login(make_user())
    html = _html(auth.client.get("/catalogo/sibec"))
    for fragment in (
        '<input id="curto" name="curto" type="text" value="" aria-describedby="curto-hint">',
        '<p class="hint" id="curto-hint">Uma linha.</p>',
        '<textarea id="longo" name="longo" rows="4">',
        '<select id="lista" name="lista">',
        'id="fixo" name="fixo" type="text" value="Sempre isto" readonly',
        'id="fone" name="fone" type="tel"',
        'id="correio" name="correio" type="email"',
        'id="dia" name="dia" type="text" inputmode="numeric"',
        'value="01/01/2025"',
        'aria-describedby="dia-format"',
        'id="quantia" name="quantia" type="text" inputmode="decimal"',
        'id="documento" name="documento" type="text" inputmode="numeric"',
        '<legend class="field-legend"><span class="required" aria-hidden="true">*</span> Confirma',
        '<input type="radio" id="confirma-1" name="confirma" value="Sim" required>',
        'data-depends-on="lista" data-options="{&#34;Um&#34;: [&#34;X&#34;]}"',
    ):
        assert fragment in html, fragment
    missing = re.search(r'<ul role="list" id="missing-list">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r"<li>([^<]+)</li>", missing) == ["Confirma", "Descrição"]


def test_a_failed_submission_keeps_every_answer_typed(
    auth: AuthActions, admin: User, item: CatalogItem, make_user: Callable[..., User]
) -> None:
    sibec_form(admin, item)
    publish(admin, item)
    auth.login(make_user())
    html = _html(auth.post("/catalogo/sibec", {**GOOD, "description": ""}))
    assert '<option value="Concessão" selected>' in html
    assert 'value="2025-02-05"' in html
    assert 'id="numero_do_beneficio" name="numero_do_beneficio" type="text"' in html
    assert 'value="123"' in html  # hidden by the rules, still kept as typed
    assert 'id="urgente-1" name="urgente" value="Sim" checked' in html


# ------------------------------------------------------------------ versions


def test_an_old_request_keeps_its_labels_after_a_rename_and_a_removal(
    auth: AuthActions,
    admin: User,
    item: CatalogItem,
    make_user: Callable[..., User],
    count_queries: Callable[[], Any],
) -> None:
    motivo = add(admin, item, label="Motivo", type="select", options="Erro\nDúvida")
    observacao = add(admin, item, label="Observação")
    publish(admin, item)
    requester = make_user(name="Felipe")
    auth.login(requester)
    auth.post(
        "/catalogo/sibec", {"motivo": "Erro", "observacao": "Tela branca", "description": "x"}
    )
    number = db.session.scalar(select(ServiceRequest.number))
    fields.update_field(
        db.session, admin, item, motivo, FieldInput(label="Razão", type="select", options="Erro")
    )
    fields.remove_field(db.session, admin, item, observacao)
    db.session.commit()
    assert publish(admin, item).number == 3

    with count_queries() as statements:
        html = _html(auth.client.get(f"/solicitacoes/{number}"))
    assert "<dt>Motivo</dt><dd>Erro</dd>" in html
    assert "<dt>Observação</dt><dd>Tela branca</dd>" in html
    assert "Razão" not in html
    assert not [s for s in statements if s.lstrip().startswith("SELECT form_versions")]
    with count_queries() as statements:
        auth.client.get("/solicitacoes")
    assert not [s for s in statements if "form_versions" in s]
    form = _html(auth.client.get("/catalogo/sibec"))
    assert "Razão" in form and "Observação" not in form

    auth.logout()
    auth.login(admin)
    history = _html(auth.client.get(f"/admin/catalogo/itens/{item.id}/versoes"))
    assert history.index("Versão 3") < history.index("Versão 2") < history.index("Versão 1")
    assert "Campo “Observação” removido" in history
    assert "Campo “Motivo” renomeado para “Razão”" in history
    assert "Carla Admin" in history


def test_answers_the_version_does_not_name_show_under_their_key(
    auth: AuthActions, admin: User, item: CatalogItem, make_user: Callable[..., User]
) -> None:
    add(admin, item, label="Motivo", type="select", options="Erro")
    publish(admin, item)
    requester = make_user()
    auth.login(requester)
    auth.post("/catalogo/sibec", {"motivo": "Erro", "description": "x"})
    req = db.session.scalar(select(ServiceRequest))
    req.field_values = {"motivo": "Erro", "antigo": "Valor antigo"}
    db.session.commit()
    html = _html(auth.client.get(f"/solicitacoes/{req.number}"))
    assert "<dt>Motivo</dt><dd>Erro</dd>" in html
    assert "<dt>antigo</dt><dd>Valor antigo</dd>" in html
    req.form_version_id = None
    db.session.commit()
    html = _html(auth.client.get(f"/solicitacoes/{req.number}"))
    assert "<dt>motivo</dt><dd>Erro</dd>" in html


def test_form_pages_are_404_for_non_admins(
    auth: AuthActions, item: CatalogItem, make_user: Callable[..., User]
) -> None:
    auth.login(make_user(role="agent"))
    for path in ("campos", "pre-visualizar", "versoes"):
        assert auth.client.get(f"/admin/catalogo/itens/{item.id}/{path}").status_code == 404


def test_posts_without_csrf_are_refused(auth: AuthActions, admin: User, item: CatalogItem) -> None:
    auth.login(admin)
    response = auth.client.post(f"/admin/catalogo/itens/{item.id}/campos", data={"label": "X"})
    assert response.status_code == 400
    assert db.session.scalar(select(ItemField)) is None


def test_an_item_first_published_from_its_fields_page_is_found_in_search(
    auth: AuthActions, admin: User, make_user: Callable[..., User]
) -> None:
    # Caught by the browser walk: an item created on the admin pages (never
    # published, so not in search) stayed out of search after its first publication.
    group = upsert_item(
        db.session, SETUP, {"path": ["X"], "slug": "x", "name": "X", "group": "Suporte SIBEC"}
    ).group
    created = create_item(
        db.session,
        admin,
        ItemInput(
            name="SIBEC - Benefícios",
            short_description="Consulta de benefícios",
            category_id=db.session.scalar(select(CatalogItem.category_id).limit(1)),
            group_id=group.id,
        ),
    )
    db.session.commit()
    auth.login(make_user())
    assert f"/catalogo/{created.slug}" not in _html(auth.client.get("/pesquisa?q=sibec"))
    auth.logout()
    auth.login(admin)
    page = f"/admin/catalogo/itens/{created.id}/campos"
    published = auth.post(f"/admin/catalogo/itens/{created.id}/publicar", page=page)
    assert published.status_code == 302, _html(published)[-3000:]
    auth.logout()
    auth.login(make_user())
    assert f"/catalogo/{created.slug}" in _html(auth.client.get("/pesquisa?q=sibec"))
