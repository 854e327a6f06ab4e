"""Administração > Grupos: create, rename and set the e-mail, set the members (staff only),
archive (refused while open requests, catalog items or routing rules still send work to the
group) and reactivate. An archived group leaves every picker; old requests keep its name.
Admins only: everyone else gets 404."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.accounts import groups as services
from portal.accounts import queries as people
from portal.accounts.models import SupportGroup, User
from portal.accounts.services import find_or_create_group
from portal.catalog.models import CatalogItem, RoutingRule
from portal.core.errors import Conflict, Forbidden, FormErrors, ValidationError
from portal.core.extensions import db
from portal.core.models import AuditEntry
from portal.requests import services as request_service
from portal.requests.lifecycle import Action
from portal.requests.models import ServiceRequest
from tests.conftest import SETUP, AuthActions

BASE = "/admin/grupos"


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def _group(name: str) -> SupportGroup:
    db.session.expire_all()
    found = db.session.scalar(select(SupportGroup).where(SupportGroup.name == name))
    assert found is not None
    return found


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("Carla Administradora", role="admin")


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user("Ana Atendente", role="agent", groups=["Suporte GERID"])


@pytest.fixture
def requester(make_user: Callable[..., User]) -> User:
    return make_user("Felipe Solicitante")


def _urls(group_id: int) -> list[tuple[str, str]]:
    pages = [BASE + "/", BASE + "/novo", f"{BASE}/{group_id}"]
    posts = [BASE + "/novo", f"{BASE}/{group_id}"] + [
        f"{BASE}/{group_id}/{action}" for action in ("membros", "arquivar", "reativar")
    ]
    return [("GET", u) for u in pages] + [("POST", u) for u in posts]


@pytest.mark.parametrize("who", ["requester", "agent"])
def test_every_url_is_404_for_requesters_and_agents(
    auth: AuthActions, request: pytest.FixtureRequest, who: str, agent: User
) -> None:
    auth.login(request.getfixturevalue(who))
    group = _group("Suporte GERID")
    token = auth.csrf("/perfil")
    for method, url in _urls(group.id):
        data = {"csrf_token": token, "name": "Tomado"} if method == "POST" else None
        assert auth.client.open(url, method=method, data=data).status_code == 404, url
    assert _group("Suporte GERID").active


def test_posts_without_csrf_are_refused(auth: AuthActions, admin: User, agent: User) -> None:
    auth.login(admin)
    group = _group("Suporte GERID")
    for method, url in _urls(group.id):
        if method == "POST":
            assert auth.client.post(url, data={"name": "Tomado"}).status_code == 400, url
    assert _group("Suporte GERID").active and not _audit("group.create")[1:]


def test_create_rename_and_e_mail(auth: AuthActions, admin: User, agent: User) -> None:
    auth.login(admin)
    response = auth.post(
        BASE + "/novo", {"name": "  Suporte   SIBEC ", "email": "SIBEC@Dataprev.gov.br"}
    )
    group = _group("Suporte SIBEC")
    assert response.status_code == 302 and response.headers["Location"] == f"{BASE}/{group.id}"
    assert group.email == "sibec@dataprev.gov.br" and group.active and group.members == []
    created = _audit("group.create")[-1]
    assert created.actor_id == admin.id and created.after["name"] == "Suporte SIBEC"

    # Names are unique ignoring case and accents; a bad e-mail is refused; both at once.
    refused = auth.post(BASE + "/novo", {"name": "suporte gerid", "email": "sem-arroba"})
    html = _html(refused)
    assert refused.status_code == 400
    assert "Já existe um grupo chamado “Suporte GERID”." in html and "E-mail inválido." in html
    assert 'value="suporte gerid"' in html and 'value="sem-arroba"' in html
    assert 'aria-invalid="true" aria-describedby="name-error"' in html
    assert 'aria-invalid="true" aria-describedby="email-hint email-error"' in html

    page = f"{BASE}/{group.id}"
    saved = auth.post(page, {"name": "Suporte SIBEC Nordeste", "email": ""})
    assert saved.status_code == 302
    group = _group("Suporte SIBEC Nordeste")
    assert group.email is None
    entry = _audit("group.update")[-1]
    assert entry.before == {"name": "Suporte SIBEC", "email": "sibec@dataprev.gov.br"}
    assert entry.after == {"name": "Suporte SIBEC Nordeste", "email": None}
    clash = auth.post(page, {"name": "SUPORTE GÉRID", "email": ""})
    assert clash.status_code == 400 and "Já existe um grupo" in _html(clash)
    assert auth.post(page, {"name": "", "email": ""}).status_code == 400
    assert _group("Suporte SIBEC Nordeste").id == group.id


def test_members_are_staff_only_and_a_filtered_picker_keeps_the_unseen(
    auth: AuthActions,
    admin: User,
    agent: User,
    requester: User,
    make_user: Callable[..., User],
) -> None:
    bruno = make_user("Bruno Souza", role="agent")
    group = find_or_create_group(db.session, SETUP, "Suporte CadÚnico")
    db.session.commit()
    page = f"{BASE}/{group.id}"
    auth.login(admin)
    html = _html(auth.client.get(page))
    assert f'id="member-{bruno.id}"' in html and f'id="member-{requester.id}"' not in html
    both = {"shown": [agent.id, bruno.id, admin.id], "members": [agent.id, bruno.id]}
    assert auth.post(page + "/membros", both, page).status_code == 302
    assert sorted(u.full_name for u in _group("Suporte CadÚnico").members) == [
        "Ana Atendente",
        "Bruno Souza",
    ]
    # Filtered by "bruno": only Bruno is shown; unchecking him leaves Ana in the group.
    html = _html(auth.client.get(page + "?busca=BRUNO"))
    assert f'id="member-{bruno.id}"' in html and f'id="member-{agent.id}"' not in html
    assert "Hoje: Ana Atendente, Bruno Souza." in html
    filtered = {"shown": [bruno.id], "busca": "bruno"}
    assert auth.post(page + "/membros", filtered, page).status_code == 302
    assert [u.full_name for u in _group("Suporte CadÚnico").members] == ["Ana Atendente"]
    entry = _audit("group.members")[-1]
    assert entry.before["members"] == [
        f"Ana Atendente (usuário {agent.id})",
        f"Bruno Souza (usuário {bruno.id})",
    ]
    # A requester is refused by name, and nothing changes.
    bad = {"shown": [requester.id, agent.id], "members": [requester.id, agent.id]}
    refused = auth.post(page + "/membros", bad, page)
    html = _html(refused)
    assert refused.status_code == 400
    assert "Felipe Solicitante é solicitante" in html and 'id="members-error"' in html
    assert [u.full_name for u in _group("Suporte CadÚnico").members] == ["Ana Atendente"]


def test_archiving_is_refused_while_open_requests_items_or_rules_send_work(
    auth: AuthActions,
    admin: User,
    agent: User,
    requester: User,
    catalog: dict[str, CatalogItem],
    make_request: Callable[..., ServiceRequest],
) -> None:
    gerid = _group("Suporte GERID")
    first, second = make_request(requester), make_request(requester)
    assert first.group_id == gerid.id
    page = f"{BASE}/{gerid.id}"
    auth.login(admin)
    html = _html(auth.client.get(page))
    assert "tem 2 solicitações em aberto" in html
    refused = auth.post(page + "/arquivar", {}, page)
    assert refused.status_code == 302
    html = _html(auth.client.get(page))
    assert "O grupo “Suporte GERID” tem 2 solicitações em aberto" in html
    assert "Itens do catálogo ainda encaminham solicitações a este grupo:" in html
    assert catalog["gerid"].name in html
    assert _group("Suporte GERID").active and _audit("group.archive") == []

    # The requests end and the items go elsewhere: a routing rule still sends work to it.
    request_service.fire(db.session, first, Action.REQUESTER_CANCEL, actor=requester, reason="x")
    request_service.fire(db.session, second, Action.REQUESTER_CANCEL, actor=requester, reason="x")
    other = find_or_create_group(db.session, SETUP, "Outro Grupo")
    for item in db.session.scalars(select(CatalogItem).where(CatalogItem.group_id == gerid.id)):
        item.group = other
    portal = catalog["portal-rede-atendimento"]
    db.session.add(RoutingRule(item_id=portal.id, group_id=gerid.id, ufs=["BA"], position=0))
    db.session.commit()
    with pytest.raises(Conflict) as refused_rule:
        services.archive_group(db.session, admin, _group("Suporte GERID"))
    db.session.rollback()
    message = str(refused_rule.value)
    assert "em aberto" not in message and "Itens do catálogo" not in message
    assert (
        f"Regras de encaminhamento ainda enviam solicitações a este grupo, nos itens: {portal.name}"
        in message
    )

    db.session.execute(RoutingRule.__table__.delete())
    db.session.commit()
    assert auth.post(page + "/arquivar", {}, page).status_code == 302
    assert not _group("Suporte GERID").active
    assert "arquivado" in _html(auth.client.get(page))
    assert _audit("group.archive")[-1].after == {"active": False}


def test_an_archived_group_leaves_the_pickers_and_old_requests_keep_its_name(
    auth: AuthActions,
    admin: User,
    agent: User,
    requester: User,
    make_request: Callable[..., ServiceRequest],
) -> None:
    old = make_request(requester)
    request_service.fire(db.session, old, Action.REQUESTER_CANCEL, actor=requester, reason="x")
    live = make_request(requester)
    gerid = _group("Suporte GERID")
    other = find_or_create_group(db.session, SETUP, "Outro Grupo")
    for item in db.session.scalars(select(CatalogItem).where(CatalogItem.group_id == gerid.id)):
        item.group = other
    request_service.assign(db.session, live, admin, assignee=None, group=other)
    db.session.commit()
    services.archive_group(db.session, admin, _group("Suporte GERID"))
    db.session.commit()

    def group_options(html: str, select_id: str) -> list[str]:
        found = re.search(rf'<select id="{select_id}".*?</select>', html, re.S)
        assert found, select_id
        return re.findall(r">([^<]+)</option>", found.group(0))

    assert [g.name for g in people.support_groups(db.session)] == [
        "Outro Grupo",
        "Suporte CadÚnico",
    ]
    assert all("Suporte GERID" not in o.group_names for o in people.staff_members(db.session))
    auth.login(admin)
    queue = _html(auth.client.get("/atendimento"))
    assert "Suporte GERID" not in group_options(queue, "grupo")
    request_page = _html(auth.client.get(f"/solicitacoes/{live.number}"))
    assert group_options(request_page, "group_id") == ["Outro Grupo", "Suporte CadÚnico"]
    assert not any("Suporte GERID" in o for o in group_options(request_page, "assignee_id"))
    old_page = _html(auth.client.get(f"/solicitacoes/{old.number}"))
    assert '<dd id="request-group">Suporte GERID</dd>' in old_page
    # The agent who was a member: their queue's filter offers no archived group.
    auth.logout()
    auth.login(agent)
    assert "Suporte GERID" not in group_options(_html(auth.client.get("/atendimento")), "grupo")
    # The service refuses it too, whatever a form sends.
    with pytest.raises(ValidationError, match="está arquivado"):
        request_service.assign(
            db.session, live, admin, assignee=None, group=_group("Suporte GERID")
        )
    db.session.rollback()

    # Reactivated: back in the pickers, with the members it had.
    auth.logout()
    auth.login(admin)
    page = f"{BASE}/{gerid.id}"
    assert auth.post(page + "/reativar", {}, page).status_code == 302
    assert _group("Suporte GERID").active
    assert [m.full_name for m in _group("Suporte GERID").members] == ["Ana Atendente"]
    assert "Suporte GERID" in group_options(_html(auth.client.get("/atendimento")), "grupo")
    assert _audit("group.reactivate")[-1].after == {"active": True}


def test_the_list_counts_members_and_open_requests_in_one_statement(
    auth: AuthActions,
    admin: User,
    agent: User,
    requester: User,
    make_user: Callable[..., User],
    make_request: Callable[..., ServiceRequest],
    count_queries: Callable[[], Any],
) -> None:
    make_request(requester)
    closed = make_request(requester)
    request_service.fire(db.session, closed, Action.REQUESTER_CANCEL, actor=requester, reason="x")
    db.session.commit()
    auth.login(admin)

    def statements() -> int:
        with count_queries() as sent:
            assert auth.client.get(BASE + "/").status_code == 200
        return len(sent)

    few = statements()
    for n in range(12):
        make_user(f"Agente {n}", role="agent", groups=[f"Grupo {n % 6}", "Suporte GERID"])
    assert statements() == few
    html = _html(auth.client.get(BASE + "/"))
    gerid = _group("Suporte GERID")
    row = re.search(rf'<tr data-group="{gerid.id}">.*?</tr>', html, re.S).group(0)
    assert "<td data-members>13</td>" in row and "<td data-open>1</td>" in row


def test_only_admins_and_the_system_keep_groups(agent: User) -> None:
    with pytest.raises(Forbidden):
        services.create_group(db.session, agent, name="Grupo do Agente")
    with pytest.raises(FormErrors):
        services.create_group(db.session, SETUP, name=" ", email="x")
