"""Administração › Catálogo: the category tree (create, rename, move, order, hide), the items
(create, edit, withdraw, reactivate) and their routing rules, through the services and
through the pages; what requesters then see (catalog, search, Itens Populares); and the
rules applied when a request is opened."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal.accounts.models import SupportGroup, User
from portal.accounts.services import find_or_create_group
from portal.catalog import admin_services as items
from portal.catalog import category_services as categories
from portal.catalog import queries as catalog_queries
from portal.catalog import rule_services as rules
from portal.catalog.admin_services import ItemInput
from portal.catalog.models import CatalogItem, Category, RoutingRule
from portal.catalog.regions import REGIONS, describe_places, ufs_chosen
from portal.clients import ibge
from portal.clients.models import Organisation
from portal.core import fulltext
from portal.core.errors import Forbidden, FormErrors, NotFound, ValidationError
from portal.core.extensions import db
from portal.core.models import AuditEntry, SearchDocument
from portal.home import queries as home_queries
from portal.requests import services as request_services
from tests.conftest import SETUP, AuthActions

XSS = '"><svg onload=alert(1)>'
ADMIN = "/admin/catalogo/"
NORDESTE = ["AL", "BA", "CE", "MA", "PB", "PE", "PI", "RN", "SE"]
PORTAL_VALUES = {"motivo": "Dúvida", "funcionalidade": "Consulta Família"}


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _entries(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def _field_errors(exc: pytest.ExceptionInfo[Any]) -> dict[str, str]:
    problems = exc.value.errors if isinstance(exc.value, FormErrors) else [exc.value]
    return {p.field: str(p) for p in problems}


def _category(name: str) -> Category:
    found = db.session.scalar(select(Category).where(Category.name == name))
    assert found is not None, name
    return found


def _searchable(typed: str) -> set[str]:
    page = fulltext.search_documents(db.session, typed, staff=False, kind="item")
    return {hit.slug for hit in page.hits}


def _offered_slugs() -> set[str]:
    tree = catalog_queries.category_tree(db.session)
    return {item.slug for listed in tree.items.values() for item in listed}


@dataclass
class Scene:
    admin: User
    catalog: dict[str, CatalogItem]
    ne_group: SupportGroup


@pytest.fixture
def scene(make_user: Callable[..., User], catalog: dict[str, CatalogItem]) -> Scene:
    admin = make_user(name="Carla Administradora", role="admin")
    group = find_or_create_group(db.session, SETUP, "Suporte CadÚnico NE")
    db.session.commit()
    return Scene(admin, catalog, group)


def _new_item(scene: Scene, name: str = "SIBEC - Benefícios", **extra: Any) -> CatalogItem:
    data = ItemInput(
        name=name,
        short_description="Benefícios do SIBEC",
        icon="fa-hand-holding-usd",
        category_id=_category("CADÚNICO").id,
        group_id=extra.pop("group_id", scene.ne_group.id),
        **extra,
    )
    item = items.create_item(db.session, scene.admin, data)
    db.session.commit()
    return item


# ------------------------------------------------------------------ regions


def test_regions_hold_the_27_ufs_each_once_as_ibge_numbers_them() -> None:
    ibge_region = {"1": "Norte", "2": "Nordeste", "3": "Sudeste", "4": "Sul", "5": "Centro-Oeste"}
    expected = {place.uf: ibge_region[place.code[0]] for place in ibge.states()}
    listed = {uf: region.name for region in REGIONS for uf in region.ufs}
    assert sum(len(region.ufs) for region in REGIONS) == 27
    assert listed == expected


def test_places_read_as_regions_and_ufs() -> None:
    assert describe_places(NORDESTE) == "do Nordeste (AL, BA, CE, MA, PB, PE, PI, RN, SE)"
    assert describe_places(["PE", "BA"]) == "de BA ou PE"
    assert describe_places(["PR", "RS", "SC", "SP"]) == "do Sul (PR, RS, SC) e de SP"
    assert ufs_chosen(["sp", "BA"], ["nordeste"]) == sorted({*NORDESTE, "SP"})


# ------------------------------------------------------------------ categories


def test_categories_are_created_unique_per_parent_and_audited(scene: Scene) -> None:
    root = categories.create_category(db.session, scene.admin, "  SIBEC  ")
    assert root.name == "SIBEC" and root.parent_id is None
    with pytest.raises(ValidationError, match="Já existe a categoria “SIBEC”") as exc:
        categories.create_category(db.session, scene.admin, "sibec")
    assert exc.value.field == "name"
    # the same name under another parent is another category
    child = categories.create_category(db.session, scene.admin, "SIBEC", root.id)
    assert child.parent_id == root.id
    with pytest.raises(ValidationError, match="Informe o nome"):
        categories.create_category(db.session, scene.admin, "   ")
    with pytest.raises(ValidationError) as exc:
        categories.create_category(db.session, scene.admin, "X", parent_id=999_999)
    assert exc.value.field == "parent_id"
    db.session.commit()
    created = [e for e in _entries("category.create") if e.object_id in (root.id, child.id)]
    assert [e.after["parent_id"] for e in created] == [None, root.id]
    assert created[0].actor_id == scene.admin.id


def test_catalog_services_are_for_admins_only(scene: Scene, make_user) -> None:
    agent = make_user(name="Ana Agente", role="agent")
    with pytest.raises(Forbidden):
        categories.create_category(db.session, agent, "Nova")
    with pytest.raises(Forbidden):
        items.withdraw_item(db.session, agent, scene.catalog["gerid"].id)
    with pytest.raises(Forbidden):
        rules.add_rule(db.session, agent, scene.catalog["gerid"].id, scene.ne_group.id, ["BA"])


def test_renaming_a_category_renames_its_items_path_in_search(scene: Scene) -> None:
    cadunico = _category("CADÚNICO")
    categories.rename_category(db.session, scene.admin, cadunico.id, "Cadastro Unificado")
    db.session.commit()
    assert "portal-rede-atendimento" in _searchable("Unificado")
    [entry] = _entries("category.rename")
    assert (entry.before, entry.after) == ({"name": "CADÚNICO"}, {"name": "Cadastro Unificado"})
    # a sibling's name is refused, whatever its case
    mcid = _category("MCID")
    other = categories.create_category(db.session, scene.admin, "Outra", mcid.id)
    with pytest.raises(ValidationError, match="Já existe"):
        categories.rename_category(db.session, scene.admin, other.id, "cadastro unificado")


def test_a_category_cannot_move_into_itself_or_below_itself(scene: Scene) -> None:
    top = _category("SERVIÇOS MULTICLIENTE")
    below = _category("ACESSO MULTICLIENTE")
    deeper = categories.create_category(db.session, scene.admin, "Fundo", below.id)
    for target in (top.id, below.id, deeper.id):
        with pytest.raises(ValidationError, match="dentro dela mesma nem de uma de suas") as exc:
            categories.move_category(db.session, scene.admin, top.id, target)
        assert exc.value.field == "parent_id"
    moved = categories.move_category(db.session, scene.admin, below.id, _category("MCID").id)
    db.session.commit()
    assert moved.parent_id == _category("MCID").id
    assert moved.position == 1  # after CADÚNICO, its new sibling
    [entry] = _entries("category.move")
    assert entry.before["parent_id"] == top.id and entry.after["parent_id"] == moved.parent_id
    # GERID's path in search follows the category
    doc = db.session.scalar(select(SearchDocument).where(SearchDocument.slug == "gerid"))
    assert doc is not None and "MCID" in doc.body and "SERVIÇOS" not in doc.body
    # a name taken at the destination is refused
    categories.create_category(db.session, scene.admin, "CADÚNICO", top.id)
    with pytest.raises(ValidationError, match="Já existe"):
        categories.move_category(db.session, scene.admin, _category("CADÚNICO").id, top.id)


def test_categories_move_up_and_down_among_their_siblings(scene: Scene) -> None:
    def roots() -> list[str]:
        return [c.name for c in catalog_queries.category_tree(db.session).roots]

    multi = _category("SERVIÇOS MULTICLIENTE").id
    assert roots() == ["MCID", "SERVIÇOS MULTICLIENTE"]
    categories.reorder_category(db.session, scene.admin, multi, "up")
    db.session.commit()
    assert roots() == ["SERVIÇOS MULTICLIENTE", "MCID"]
    [entry] = _entries("category.reorder")
    assert entry.before == {"order": ["MCID", "SERVIÇOS MULTICLIENTE"]}
    assert entry.after == {"order": ["SERVIÇOS MULTICLIENTE", "MCID"]}
    # already first: nothing moves, nothing is written
    categories.reorder_category(db.session, scene.admin, multi, "up")
    db.session.commit()
    assert len(_entries("category.reorder")) == 1
    categories.reorder_category(db.session, scene.admin, multi, "down")
    db.session.commit()
    assert roots() == ["MCID", "SERVIÇOS MULTICLIENTE"]
    with pytest.raises(ValidationError):
        categories.reorder_category(db.session, scene.admin, multi, "sideways")


def test_a_hidden_category_leaves_the_requesters_catalog_with_all_below_it(
    scene: Scene, auth: AuthActions, make_user
) -> None:
    top = _category("SERVIÇOS MULTICLIENTE")
    categories.set_category_hidden(db.session, scene.admin, top.id, True)
    db.session.commit()
    tree = catalog_queries.category_tree(db.session)
    assert [c.name for c in tree.roots] == ["MCID"]
    assert _offered_slugs() == {"portal-rede-atendimento"}
    [entry] = _entries("category.hide")
    assert (entry.before, entry.after) == ({"hidden": False}, {"hidden": True})
    auth.login(make_user(name="Felipe Solicitante"))
    html = _html(auth.client.get("/catalogo"))
    assert "Portal Rede Atendimento" in html
    assert "GERID" not in html and "ACESSO MULTICLIENTE" not in html
    # Not only the catalog page: the form's address, the search and Itens Populares too.
    assert auth.client.get("/catalogo/gerid").status_code == 404
    assert "/catalogo/gerid" not in _html(auth.client.get("/pesquisa?q=gerid"))
    assert "/catalogo/gerid" not in _html(auth.client.get("/"))
    categories.set_category_hidden(db.session, scene.admin, top.id, False)
    db.session.commit()
    assert "GERID" in _html(auth.client.get("/catalogo"))
    assert auth.client.get("/catalogo/gerid").status_code == 200
    assert "/catalogo/gerid" in _html(auth.client.get("/pesquisa?q=gerid"))
    assert "/catalogo/gerid" in _html(auth.client.get("/"))
    assert len(_entries("category.show")) == 1


# ------------------------------------------------------------------ items


def test_a_new_item_is_a_draft_nobody_is_offered(
    scene: Scene, auth: AuthActions, make_user
) -> None:
    item = _new_item(scene)
    assert item.slug == "sibec-beneficios"
    assert item.active is True and item.published_version is None
    assert item.position == 1  # after Portal Rede Atendimento in CADÚNICO
    assert "sibec-beneficios" not in _offered_slugs()
    assert _searchable("SIBEC") == set()
    [entry] = [e for e in _entries("catalog_item.create") if e.object_id == item.id]
    assert entry.after["name"] == "SIBEC - Benefícios"
    assert entry.after["published_version"] is None
    # the same name again gets another address
    assert _new_item(scene).slug == "sibec-beneficios-2"
    requester = make_user(name="Felipe Solicitante")
    assert item not in home_queries.popular_items(db.session, requester)
    auth.login(requester)
    assert auth.client.get("/catalogo/sibec-beneficios").status_code == 404
    assert "SIBEC" not in _html(auth.client.get("/catalogo"))
    assert "/catalogo/sibec-beneficios" not in _html(auth.client.get("/pesquisa?q=SIBEC"))


def test_item_input_is_checked_field_by_field(scene: Scene) -> None:
    archived = find_or_create_group(db.session, SETUP, "Arquivado")
    archived.active = False
    db.session.flush()
    with pytest.raises(FormErrors) as exc:
        items.create_item(
            db.session,
            scene.admin,
            ItemInput(name=" ", icon="fa-skull", category_id=None, group_id=archived.id),
        )
    assert set(_field_errors(exc)) == {"name", "icon", "category_id", "group_id"}
    with pytest.raises(FormErrors) as exc:
        items.create_item(
            db.session,
            scene.admin,
            ItemInput(name="X" * 121, short_description="y" * 256, category_id=999_999),
        )
    assert set(_field_errors(exc)) == {"name", "short_description", "category_id"}


def test_updating_an_item_keeps_its_address_and_audits_the_change(scene: Scene) -> None:
    gerid = scene.catalog["gerid"]
    data = ItemInput.of(gerid)
    data.name = "GERID - Credenciais"
    data.icon = "fa-user-lock"
    data.category_id = _category("CADÚNICO").id
    items.update_item(db.session, scene.admin, gerid.id, data)
    db.session.commit()
    assert gerid.slug == "gerid" and gerid.name == "GERID - Credenciais"
    [entry] = _entries("catalog_item.update")
    assert entry.before == {
        "name": "GERID",
        "icon": "fa-id-card",
        "category_id": _category("ACESSO MULTICLIENTE").id,
    }
    assert entry.after["name"] == "GERID - Credenciais"
    assert "gerid" in _searchable("Credenciais")


def test_a_published_item_keeps_a_group_until_it_is_withdrawn(scene: Scene) -> None:
    gerid = scene.catalog["gerid"]
    data = ItemInput.of(gerid)
    data.group_id = None
    with pytest.raises(FormErrors, match="Um item publicado precisa de um grupo") as exc:
        items.update_item(db.session, scene.admin, gerid.id, data)
    assert "group_id" in _field_errors(exc)
    db.session.rollback()
    items.withdraw_item(db.session, scene.admin, gerid.id)
    items.update_item(db.session, scene.admin, gerid.id, data)
    db.session.commit()
    assert gerid.group_id is None
    with pytest.raises(ValidationError, match="antes de reativá-lo"):
        items.reactivate_item(db.session, scene.admin, gerid.id)
    # a draft may have no group at all
    assert _new_item(scene, "Sem grupo", group_id=None).group_id is None


def test_a_withdrawn_item_leaves_catalog_search_and_popular_items_and_its_requests_go_on(
    scene: Scene, auth: AuthActions, make_user, make_request
) -> None:
    requester = make_user(name="Felipe Solicitante")
    request = make_request(requester)
    assert "gerid" in _searchable("GERID")
    auth.login(requester)
    assert 'href="/catalogo/gerid"' in _html(auth.client.get("/pesquisa?q=GERID"))
    gerid = scene.catalog["gerid"]
    items.withdraw_item(db.session, scene.admin, gerid.id)
    db.session.commit()
    assert gerid.active is False and gerid.published_version == 1
    assert "gerid" not in _offered_slugs()
    assert _searchable("GERID") == set()
    assert gerid not in home_queries.popular_items(db.session, requester)
    [entry] = _entries("catalog_item.withdraw")
    assert (entry.before, entry.after) == ({"active": True}, {"active": False})
    assert auth.client.get("/catalogo/gerid").status_code == 404
    assert 'href="/catalogo/gerid"' not in _html(auth.client.get("/pesquisa?q=GERID"))
    page = auth.client.get(f"/solicitacoes/{request.number}")
    assert page.status_code == 200 and request.number in _html(page)
    db.session.refresh(request)
    assert request.state == "open"
    items.reactivate_item(db.session, scene.admin, gerid.id)
    db.session.commit()
    assert "gerid" in _searchable("GERID") and "gerid" in _offered_slugs()
    assert len(_entries("catalog_item.reactivate")) == 1


# ------------------------------------------------------------------ routing rules


def test_rules_are_added_described_ordered_and_removed(scene: Scene) -> None:
    portal = scene.catalog["portal-rede-atendimento"]
    ba = find_or_create_group(db.session, SETUP, "Suporte Bahia")
    first = rules.add_rule(
        db.session, scene.admin, portal.id, scene.ne_group.id, ufs_chosen([], ["nordeste"])
    )
    second = rules.add_rule(db.session, scene.admin, portal.id, ba.id, ["BA"], ["municipio"])
    db.session.commit()
    assert first.ufs == NORDESTE and first.position == 0 and second.position == 1
    assert rules.describe_rule(first) == (
        "Do Nordeste (AL, BA, CE, MA, PB, PE, PI, RN, SE) → Suporte CadÚnico NE"
    )
    assert rules.describe_rule(second) == ("De BA, organizações do tipo Município → Suporte Bahia")
    created = _entries("routing_rule.create")
    assert [e.after["group_id"] for e in created] == [scene.ne_group.id, ba.id]
    assert created[0].after["item_id"] == portal.id
    rules.move_rule(db.session, scene.admin, portal.id, second.id, "up")
    db.session.commit()
    assert [r.id for r in portal.routing_rules] == [second.id, first.id]
    [moved] = _entries("routing_rule.reorder")
    assert moved.after["order"] == [second.id, first.id]
    rules.remove_rule(db.session, scene.admin, portal.id, second.id)
    db.session.commit()
    db.session.expire_all()
    assert [(r.id, r.position) for r in portal.routing_rules] == [(first.id, 0)]
    [removed] = _entries("routing_rule.remove")
    assert removed.before["ufs"] == ["BA"] and removed.after is None
    # a rule is only reached through its own item
    with pytest.raises(NotFound):
        rules.remove_rule(db.session, scene.admin, scene.catalog["gerid"].id, first.id)


def test_a_rule_needs_a_group_a_condition_and_known_places(scene: Scene) -> None:
    portal = scene.catalog["portal-rede-atendimento"]
    with pytest.raises(FormErrors) as exc:
        rules.add_rule(db.session, scene.admin, portal.id, None, [], [])
    assert set(_field_errors(exc)) == {"group_id", "ufs"}
    assert "ao menos uma UF, região ou tipo" in _field_errors(exc)["ufs"]
    with pytest.raises(FormErrors, match="UF desconhecida: XX"):
        rules.add_rule(db.session, scene.admin, portal.id, scene.ne_group.id, ["XX"])
    with pytest.raises(FormErrors) as exc:
        rules.add_rule(db.session, scene.admin, portal.id, scene.ne_group.id, [], ["planeta"])
    assert "kinds" in _field_errors(exc)
    rules.add_rule(db.session, scene.admin, portal.id, scene.ne_group.id, ["PE", "BA"])
    with pytest.raises(FormErrors, match="Já existe uma regra com essas condições"):
        rules.add_rule(db.session, scene.admin, portal.id, scene.ne_group.id, ["BA", "PE"])
    scene.ne_group.active = False
    with pytest.raises(FormErrors) as exc:
        rules.add_rule(db.session, scene.admin, portal.id, scene.ne_group.id, ["SP"])
    assert "group_id" in _field_errors(exc)


def test_rules_route_new_requests_by_the_requesters_uf(
    scene: Scene, make_user, make_org: Callable[..., Organisation]
) -> None:
    portal = scene.catalog["portal-rede-atendimento"]
    bahia = find_or_create_group(db.session, SETUP, "Suporte Bahia")
    rules.add_rule(db.session, scene.admin, portal.id, scene.ne_group.id, NORDESTE)
    rules.add_rule(db.session, scene.admin, portal.id, bahia.id, ["BA"])
    db.session.commit()

    def open_for(uf: str) -> int | None:
        person = make_user(name=f"Pessoa {uf}", organisation=make_org(name=f"Ente {uf}", uf=uf))
        request = request_services.create_request(
            db.session,
            actor=person,
            item=portal,
            requested_for=person,
            description="Não consigo consultar a família.",
            values=PORTAL_VALUES,
        )
        db.session.commit()
        return request.group_id

    assert open_for("BA") == scene.ne_group.id  # the Nordeste rule comes first
    assert open_for("SP") == portal.group_id  # no rule: the item's group
    rules.move_rule(db.session, scene.admin, portal.id, portal.routing_rules[1].id, "up")
    db.session.commit()
    assert open_for("BA") == bahia.id
    assert open_for("PE") == scene.ne_group.id


# ------------------------------------------------------------------ pages


def test_the_tree_page_shows_every_state(
    scene: Scene, auth: AuthActions, make_user, make_request
) -> None:
    make_request(make_user(name="Felipe Solicitante"))
    _new_item(scene, name=f"Rascunho {XSS}")
    items.withdraw_item(db.session, scene.admin, scene.catalog["pronto-cliente"].id)
    categories.set_category_hidden(db.session, scene.admin, _category("MCID").id, True)
    db.session.commit()
    auth.login(scene.admin)
    response = auth.client.get(ADMIN)
    html = _html(response)
    assert response.status_code == 200
    assert html.count("Publicado v1") == 2  # GERID and Portal Rede Atendimento
    assert "Retirado" in html and "Rascunho" in html
    assert "Oculta" in html and "Oculta pela categoria superior" in html
    assert XSS not in html and "&lt;svg onload=alert(1)&gt;" in html
    assert "Suporte GERID" in html and "Suporte CadÚnico NE" in html
    assert 'href="/admin/catalogo/itens/' in html


def test_creating_a_category_through_the_page(scene: Scene, auth: AuthActions) -> None:
    auth.login(scene.admin)
    response = auth.post(ADMIN + "categorias", {"name": "SIBEC", "parent_id": ""}, page=ADMIN)
    assert response.status_code == 302 and response.headers["Location"].endswith(ADMIN)
    assert "Categoria “SIBEC” criada." in _html(auth.client.get(ADMIN))
    mcid = _category("MCID").id
    refused = auth.post(
        ADMIN + "categorias", {"name": "cadúnico", "parent_id": str(mcid)}, page=ADMIN
    )
    html = _html(refused)
    assert refused.status_code == 400
    assert "Já existe a categoria “CADÚNICO” dentro desta categoria." in html
    assert 'value="cadúnico"' in html and 'aria-invalid="true"' in html
    assert re.search(rf'<option value="{mcid}" selected>MCID</option>', html)


def test_category_page_renames_moves_hides_and_refuses_moving_below_itself(
    scene: Scene, auth: AuthActions
) -> None:
    top = _category("SERVIÇOS MULTICLIENTE").id
    below = _category("ACESSO MULTICLIENTE").id
    page = f"{ADMIN}categorias/{top}"
    auth.login(scene.admin)
    html = _html(auth.client.get(page))
    assert "Categoria SERVIÇOS MULTICLIENTE" in html
    assert f'<option value="{below}"' not in html  # its own descendants are not offered
    refused = auth.post(f"{page}/mover", {"parent_id": str(below)}, page=page)
    assert refused.status_code == 400
    assert "não pode ficar dentro dela mesma" in _html(refused)
    assert auth.post(f"{page}/nome", {"name": "Multicliente"}, page=page).status_code == 302
    assert auth.post(f"{page}/visibilidade", {"oculta": "1"}, page=page).status_code == 302
    empty = auth.post(f"{page}/nome", {"name": ""}, page=page)
    assert empty.status_code == 400 and "Informe o nome da categoria." in _html(empty)
    db.session.expire_all()
    category = db.session.get(Category, top)
    assert category is not None and category.name == "Multicliente" and category.hidden
    response = auth.post(f"{ADMIN}categorias/{below}/ordem", {"direcao": "subir"}, page=ADMIN)
    assert response.status_code == 302  # already first: nothing to do, back to the tree


def test_new_item_page_keeps_what_was_typed_and_creates_the_item(
    scene: Scene, auth: AuthActions
) -> None:
    auth.login(scene.admin)
    cadunico = _category("CADÚNICO").id
    form = auth.client.get(f"{ADMIN}itens/novo?categoria={cadunico}")
    assert re.search(rf'<option value="{cadunico}" selected>MCID › CADÚNICO</option>', _html(form))
    typed = {
        "name": "",
        "short_description": XSS,
        "icon": "fa-hand-holding-usd",
        "category_id": str(cadunico),
        "group_id": str(scene.ne_group.id),
    }
    refused = auth.post(f"{ADMIN}itens/novo", typed)
    html = _html(refused)
    assert refused.status_code == 400
    assert "Informe o nome do item." in html and 'aria-describedby="name-error"' in html
    assert "&#34;&gt;&lt;svg onload=alert(1)&gt;" in html and XSS not in html
    assert 'id="icon-fa-hand-holding-usd" name="icon" value="fa-hand-holding-usd" checked' in html
    created = auth.post(f"{ADMIN}itens/novo", {**typed, "name": "SIBEC - Benefícios"})
    assert created.status_code == 302
    item = db.session.scalar(select(CatalogItem).where(CatalogItem.slug == "sibec-beneficios"))
    assert item is not None and item.group_id == scene.ne_group.id
    assert created.headers["Location"].endswith(f"/admin/catalogo/itens/{item.id}")
    page = _html(auth.client.get(f"{ADMIN}itens/{item.id}"))
    assert f'href="/admin/catalogo/itens/{item.id}/campos"' in page
    assert "Rascunho" in page


def test_item_page_edits_withdraws_and_refuses_dropping_the_group(
    scene: Scene, auth: AuthActions
) -> None:
    gerid = scene.catalog["gerid"]
    page = f"{ADMIN}itens/{gerid.id}"
    auth.login(scene.admin)
    data = {
        "name": "GERID",
        "short_description": "Gerenciamento de Identidade",
        "description": "",
        "icon": "fa-id-card",
        "category_id": str(gerid.category_id),
        "group_id": "",
    }
    refused = auth.post(page, data)
    assert refused.status_code == 400
    assert "Um item publicado precisa de um grupo" in _html(refused)
    assert 'aria-describedby="group_id-hint group_id-error"' in _html(refused)
    assert auth.post(f"{page}/retirar", page=page).status_code == 302
    html = _html(auth.client.get(page))
    assert "Retirado" in html and "Item retirado do catálogo" in html
    assert auth.post(page, data).status_code == 302  # withdrawn: the group may go
    refused = auth.post(f"{page}/reativar", page=page)
    assert refused.status_code == 400 and "antes de reativá-lo" in _html(refused)


def test_rule_form_takes_a_region_without_javascript(scene: Scene, auth: AuthActions) -> None:
    portal = scene.catalog["portal-rede-atendimento"]
    page = f"{ADMIN}itens/{portal.id}"
    auth.login(scene.admin)
    refused = auth.post(f"{page}/regras", {"regra_grupo": str(scene.ne_group.id), "uf": ""}, page)
    html = _html(refused)
    assert refused.status_code == 400 and "ao menos uma UF" in html
    assert 'aria-describedby="regra-ufs-hint regra-ufs-error"' in html
    kept = auth.post(f"{page}/regras", {"regra_grupo": "", "uf": ["BA", "PE"]}, page)
    assert kept.status_code == 400
    assert 'id="uf-BA" name="uf" value="BA" data-region-of="nordeste" checked' in _html(kept)
    added = auth.post(
        f"{page}/regras", {"regra_grupo": str(scene.ne_group.id), "regiao": "nordeste"}, page
    )
    assert added.status_code == 302
    [rule] = db.session.scalars(select(RoutingRule).where(RoutingRule.item_id == portal.id))
    assert rule.ufs == NORDESTE
    html = _html(auth.client.get(page))
    assert "Do Nordeste (AL, BA, CE, MA, PB, PE, PI, RN, SE) → Suporte CadÚnico NE" in html
    remove = f"{page}/regras/{rule.id}/remover"
    assert auth.post(remove, page=page).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(RoutingRule)) == 0
    # another item's rule id in this item's URL is 404
    rule = rules.add_rule(db.session, scene.admin, portal.id, scene.ne_group.id, ["BA"])
    db.session.commit()
    other = f"{ADMIN}itens/{scene.catalog['gerid'].id}/regras/{rule.id}/remover"
    assert auth.post(other, page=page).status_code == 404


def test_the_tree_page_reads_the_same_number_of_statements_as_the_catalog_grows(
    scene: Scene,
    auth: AuthActions,
    count_queries: Callable[[], Any],
    make_user,
    make_request,
) -> None:
    auth.login(scene.admin)

    def statements() -> int:
        with count_queries() as sent:
            assert auth.client.get(ADMIN).status_code == 200
        return len(sent)

    few = statements()
    for n in range(12):
        parent = categories.create_category(db.session, scene.admin, f"Categoria {n}")
        categories.create_category(db.session, scene.admin, f"Sub {n}", parent.id)
        item = _new_item(scene, name=f"Item {n}", group_id=scene.ne_group.id if n % 2 else None)
        rules.add_rule(db.session, scene.admin, item.id, scene.ne_group.id, ["BA"])
        db.session.commit()
    make_request(make_user(name="Felipe Solicitante"))
    assert statements() == few
