"""Administração > Usuários: search, creation with a first-access e-mail, role, organisation,
groups and the "cadastro" permission, deactivation (sessions end at once), unlocking the
sign-in throttle, password reset e-mails, and the guards (last admin, nobody demotes or
deactivates themselves). Admins only: everyone else gets 404."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal.accounts import admin as services
from portal.accounts.models import LoginAttempt, Role, User
from portal.accounts.services import find_or_create_group
from portal.clients.models import Organisation
from portal.core.cpf import format_cpf
from portal.core.errors import Conflict, Forbidden, ValidationError
from portal.core.extensions import db
from portal.core.models import AuditEntry
from portal.core.outbox import deliver_pending
from tests.conftest import SETUP, AuthActions, enroll_two_factor, make_app, new_cpf

BASE = "/admin/usuarios"
NEW_PASSWORD = "uma frase longa e nova 2026"


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def _reload(user: User) -> User:
    db.session.expire_all()
    found = db.session.get(User, user.id)
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


# ------------------------------------------------------------------ access


def _urls(user_id: int) -> list[tuple[str, str]]:
    pages = [BASE + "/", BASE + "/novo", f"{BASE}/{user_id}"]
    posts = [
        BASE + "/novo",
        *(
            f"{BASE}/{user_id}/{action}"
            for action in (
                "papel",
                "organizacao",
                "grupos",
                "cadastro",
                "desativar",
                "reativar",
                "desbloquear",
                "redefinir-senha",
            )
        ),
    ]
    return [("GET", url) for url in pages] + [("POST", url) for url in posts]


@pytest.mark.parametrize("who", ["requester", "agent"])
def test_every_url_is_404_for_requesters_and_agents(
    auth: AuthActions, request: pytest.FixtureRequest, who: str, admin: User
) -> None:
    person: User = request.getfixturevalue(who)
    auth.login(person)
    token = auth.csrf("/perfil")
    for method, url in _urls(admin.id):
        data = {"csrf_token": token, "role": "requester"} if method == "POST" else None
        assert auth.client.open(url, method=method, data=data).status_code == 404, url
    assert _reload(admin).role is Role.ADMIN and _reload(admin).active


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, admin: User) -> None:
    for method, url in _urls(admin.id):
        response = client.open(url, method=method)
        if method == "GET":
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/login"), url
        else:
            assert response.status_code == 400, url  # no CSRF token, nothing done
    assert _reload(admin).active


def test_posts_without_csrf_are_refused(auth: AuthActions, admin: User, agent: User) -> None:
    auth.login(admin)
    for method, url in _urls(agent.id):
        if method == "POST":
            assert auth.client.post(url, data={"role": "requester"}).status_code == 400, url
    assert _reload(agent).role is Role.AGENT and _reload(agent).active


# ------------------------------------------------------------------ creating


def _first_access_path(smtp_server: Any, email: str) -> str:
    deliver_pending(db.session)
    mail = smtp_server.to(email)
    assert len(mail) == 1
    text = mail[0].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/redefinir-senha/\S+", text)
    assert link, text
    assert link.group(0).startswith("http://portal.test/redefinir-senha/")
    return "/redefinir-senha/" + link.group(0).rsplit("/", 1)[1]


def test_an_admin_creates_an_agent_who_chooses_a_password_through_the_e_mail(
    auth: AuthActions,
    client: FlaskClient,
    admin: User,
    make_org: Callable[..., Organisation],
    smtp_server: Any,
) -> None:
    dataprev = make_org(name="DATAPREV", kind="outro", uf="DF")
    group = find_or_create_group(db.session, SETUP, "Suporte SIBEC")
    db.session.commit()
    cpf = new_cpf()
    auth.login(admin)
    response = auth.post(
        BASE + "/novo",
        {
            "cpf": format_cpf(cpf),
            "full_name": "  Joana   Nova Atendente ",
            "email": "Joana.Nova@Dataprev.gov.br",
            "role": "agent",
            "organisation_id": str(dataprev.id),
            "groups": [str(group.id)],
            "may_register_clients": "1",
            "acao": "criar",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.cpf == cpf))
    assert user is not None and response.headers["Location"] == f"{BASE}/{user.id}"
    assert user.full_name == "Joana Nova Atendente" and user.email == "joana.nova@dataprev.gov.br"
    assert user.role is Role.AGENT and user.organisation_id == dataprev.id
    assert [g.name for g in user.groups] == ["Suporte SIBEC"] and user.may_register_clients
    assert user.password_hash is None  # nobody typed a password
    created = _audit("user.create")[-1]
    assert created.actor_id == admin.id and created.object_id == user.id
    assert created.after["groups"] == ["Suporte SIBEC"] and created.after["password_hash"] is None
    assert _audit("user.client_registration")[-1].object_id == user.id

    path = _first_access_path(smtp_server, "joana.nova@dataprev.gov.br")
    auth.logout()
    assert auth.login(cpf, NEW_PASSWORD).status_code == 401  # no password yet
    done = auth.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert client.get(path).status_code == 404  # single use
    assert auth.login(cpf, NEW_PASSWORD).status_code == 302
    # Staff set up their second factor first; then an agent, at work.
    assert client.get("/atendimento").headers["Location"] == "/perfil/dois-fatores"
    enroll_two_factor(db.session.get(User, user.id))
    assert client.get("/atendimento").status_code == 200


def test_the_new_user_form_shows_every_error_and_keeps_what_was_typed(
    auth: AuthActions, admin: User, agent: User, org: Organisation
) -> None:
    group = agent.groups[0]
    auth.login(admin)
    typed = {
        "cpf": format_cpf(agent.cpf),  # taken
        "full_name": "",
        "email": "sem-arroba",
        "role": "requester",
        "groups": [str(group.id)],  # a requester in a group
        "may_register_clients": "1",  # not an agent
        "org_busca": "Teste",
        "acao": "criar",
    }
    response = auth.post(BASE + "/novo", typed)
    html = _html(response)
    assert response.status_code == 400
    for message in (
        "Já existe um usuário com este CPF.",
        "Informe o nome completo.",
        "E-mail inválido.",
        "Escolha a organização.",
        "Solicitantes não fazem parte de grupos.",
        "A permissão de cadastro é dada a atendentes.",
    ):
        assert message in html
    assert f'value="{format_cpf(agent.cpf)}"' in html and 'value="sem-arroba"' in html
    assert 'id="cpf" name="cpf"' in html and 'aria-describedby="cpf-error"' in html
    assert 'aria-invalid="true" aria-describedby="email-hint email-error"' in html
    assert '<option value="requester" selected>' in html
    assert f'id="group-{group.id}" name="groups" value="{group.id}" checked' in html
    assert f'<option value="{org.id}">' in html  # the search "Teste" found the organisation
    assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_the_organisation_picker_searches_without_javascript(
    auth: AuthActions, admin: User, make_org: Callable[..., Organisation]
) -> None:
    salvador = make_org(name="Prefeitura Municipal de Salvador")
    recife = make_org(name="Prefeitura Municipal do Recife", uf="PE")
    auth.login(admin)
    response = auth.post(
        BASE + "/novo",
        {"org_busca": "SALVADÓR", "full_name": "Alguém", "acao": "buscar"},
    )
    html = _html(response)
    assert response.status_code == 200
    select_html = re.search(r'<select id="organisation_id".*?</select>', html, re.S).group(0)
    assert f'value="{salvador.id}"' in select_html and f'value="{recife.id}"' not in select_html
    assert 'value="Alguém"' in html and "Não foi possível" not in html
    by_code = _html(auth.post(BASE + "/novo", {"org_busca": recife.identifier, "acao": "buscar"}))
    assert f'value="{recife.id}"' in by_code


def test_a_user_created_by_the_service_gets_no_password_and_one_e_mail(
    admin: User, agent: User, org: Organisation, smtp_server: Any
) -> None:
    data = services.NewAccount(
        cpf=new_cpf(), full_name="Bia", email="bia@exemplo.gov.br", role="requester",
        organisation=org,
    )  # fmt: skip
    with pytest.raises(Forbidden):
        services.create_account(db.session, agent, data)
    db.session.rollback()
    user = services.create_account(db.session, admin, data)
    db.session.commit()
    assert user.password_hash is None
    deliver_pending(db.session)
    assert len(smtp_server.to("bia@exemplo.gov.br")) == 1


# ------------------------------------------------------------------ role, organisation, groups


def test_role_organisation_groups_and_cadastro_change_from_the_page(
    auth: AuthActions, admin: User, agent: User, make_org: Callable[..., Organisation]
) -> None:
    cadunico = find_or_create_group(db.session, SETUP, "Suporte CadÚnico")
    recife = make_org(name="Prefeitura do Recife", uf="PE")
    db.session.commit()
    page = f"{BASE}/{agent.id}"
    auth.login(admin)
    html = _html(auth.client.get(page + "?org_busca=recife"))
    assert f'<option value="{recife.id}">' in html
    assert auth.post(page + "/organizacao", {"organisation_id": recife.id}, page).status_code == 302
    assert auth.post(page + "/grupos", {"groups": [cadunico.id]}, page).status_code == 302
    assert auth.post(page + "/cadastro", {"may_register_clients": "1"}, page).status_code == 302
    user = _reload(agent)
    assert user.organisation_id == recife.id and [g.name for g in user.groups] == [
        "Suporte CadÚnico"
    ]
    assert user.may_register_clients
    assert _audit("user.organisation")[-1].after["organisation"] == "Prefeitura do Recife"
    assert _audit("user.groups")[-1].before == {"groups": ["Suporte GERID"]}

    # Demoted to requester: out of every group, and "cadastro" is for agents only.
    assert auth.post(page + "/papel", {"role": "requester"}, page).status_code == 302
    user = _reload(agent)
    assert user.role is Role.REQUESTER and user.groups == [] and not user.may_register_clients
    entry = _audit("user.role")[-1]
    assert entry.before == {
        "role": "agent",
        "groups": ["Suporte CadÚnico"],
        "may_register_clients": True,
    }
    assert entry.after == {"role": "requester", "groups": [], "may_register_clients": False}
    refused = auth.post(page + "/grupos", {"groups": [cadunico.id]}, page)
    assert refused.status_code == 400
    assert "Solicitantes não fazem parte de grupos." in _html(refused)
    assert 'aria-describedby="groups-error"' not in _html(refused)  # no group section now
    refused = auth.post(page + "/cadastro", {"may_register_clients": "1"}, page)
    assert refused.status_code == 400 and "dada a atendentes" in _html(refused)


def test_an_archived_group_is_kept_but_never_added(admin: User, agent: User) -> None:
    old = agent.groups[0]
    old.active = False
    fresh = find_or_create_group(db.session, SETUP, "Novo Grupo")
    db.session.commit()
    services.set_groups(db.session, admin, agent, [fresh])
    assert sorted(g.name for g in agent.groups) == ["Novo Grupo", "Suporte GERID"]
    other = find_or_create_group(db.session, SETUP, "Grupo Velho")
    other.active = False
    with pytest.raises(ValidationError, match="Grupo arquivado: Grupo Velho"):
        services.set_groups(db.session, admin, agent, [fresh, other])


def test_nobody_demotes_or_deactivates_themselves(auth: AuthActions, admin: User) -> None:
    page = f"{BASE}/{admin.id}"
    auth.login(admin)
    html = _html(auth.client.get(page))
    assert "Desativar</button>" not in html and "Salvar papel" not in html  # not offered
    refused = auth.post(page + "/papel", {"role": "agent"}, page)
    assert refused.status_code == 400
    assert "Você não pode mudar o seu próprio papel" in _html(refused)
    refused = auth.post(page + "/desativar", {}, page)
    assert refused.status_code == 409
    assert "Você não pode desativar a sua própria conta." in _html(refused)
    user = _reload(admin)
    assert user.role is Role.ADMIN and user.active
    assert _audit("user.role") == [] and _audit("user.deactivate") == []


def test_the_last_active_admin_stays_one(
    admin: User, make_user: Callable[..., User], auth: AuthActions
) -> None:
    # The command line (a system actor) is the only one who can reach the last admin.
    with pytest.raises(ValidationError, match="último administrador ativo"):
        services.change_role(db.session, SETUP, admin, "agent")
    with pytest.raises(Conflict, match="último administrador ativo"):
        services.deactivate(db.session, SETUP, admin)
    db.session.rollback()
    second = make_user("Dora Admin", role="admin")
    services.change_role(db.session, SETUP, admin, "agent")  # Dora remains
    db.session.commit()
    with pytest.raises(ValidationError, match="Dora Admin é o último administrador ativo"):
        services.change_role(db.session, SETUP, second, "requester")
    db.session.rollback()
    # A deactivated admin does not count.
    services.change_role(db.session, SETUP, admin, "admin")
    services.deactivate(db.session, SETUP, admin)
    db.session.commit()
    with pytest.raises(Conflict, match="último administrador ativo"):
        services.deactivate(db.session, SETUP, second)
    db.session.rollback()
    # Through the pages, one admin demotes another while a third remains.
    third = make_user("Eva Admin", role="admin")
    auth.login(third)
    page = f"{BASE}/{second.id}"
    assert auth.post(page + "/papel", {"role": "agent"}, page).status_code == 302
    assert _reload(second).role is Role.AGENT


# ------------------------------------------------------------------ deactivation


def test_deactivating_ends_every_session_at_once_and_keeps_the_history(
    app: Flask,
    app_config: dict[str, Any],
    auth: AuthActions,
    admin: User,
    requester: User,
    make_request: Callable[..., Any],
) -> None:
    number = make_request(requester).number
    other = make_app(app_config).test_client()
    theirs = AuthActions(other)
    assert theirs.login(requester).status_code == 302
    assert other.get("/solicitacoes").status_code == 200
    auth.login(admin)
    page = f"{BASE}/{requester.id}"
    response = auth.post(page + "/desativar", {}, page)
    assert response.status_code == 302
    assert "todas as sessões" in _html(auth.client.get(page))
    # The next request of their existing session is refused.
    refused = other.get("/solicitacoes")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert theirs.login(requester).status_code == 401
    user = _reload(requester)
    assert not user.active
    entry = _audit("user.deactivate")[-1]
    assert entry.before == {"active": True} and entry.after == {"active": False}
    assert "session_token" not in (entry.after or {})
    # History stays: the request and its page, for staff.
    assert auth.client.get(f"/solicitacoes/{number}").status_code == 200
    # Reactivated: the password works again; the old session stays ended.
    assert auth.post(page + "/reativar", {}, page).status_code == 302
    assert _reload(requester).active and _audit("user.reactivate")
    still = other.get("/solicitacoes")  # the old cookie's token was rotated away
    assert still.status_code == 302 and "/login" in still.headers["Location"]
    fresh = make_app(app_config).test_client()
    assert AuthActions(fresh).login(requester).status_code == 302


def test_deactivation_burns_unused_reset_links(
    auth: AuthActions, client: FlaskClient, admin: User, requester: User, smtp_server: Any
) -> None:
    page = f"{BASE}/{requester.id}"
    auth.login(admin)
    assert auth.post(page + "/redefinir-senha", {}, page).status_code == 302
    path = _first_access_path(smtp_server, requester.email)
    assert auth.post(page + "/desativar", {}, page).status_code == 302
    assert auth.post(page + "/reativar", {}, page).status_code == 302
    auth.logout()
    assert client.get(path).status_code == 404


# ------------------------------------------------------------------ sign-in help


def _fail(client: FlaskClient, user: User, times: int) -> None:
    who = AuthActions(client)
    for _ in range(times):
        assert who.login(user, "senha-errada-0000").status_code in (401, 429)


def test_unlocking_lets_a_throttled_cpf_sign_in_again(
    app: Flask, app_config: dict[str, Any], auth: AuthActions, admin: User, requester: User
) -> None:
    limit = app.config["LOGIN_MAX_FAILURES"]
    theirs = make_app(app_config).test_client()
    theirs.environ_base["REMOTE_ADDR"] = "10.1.1.1"  # the admin signs in from elsewhere
    _fail(theirs, requester, limit)
    assert AuthActions(theirs).login(requester).status_code == 429  # right password, throttled
    auth.login(admin)
    page = f"{BASE}/{requester.id}"
    html = _html(auth.client.get(page))
    assert f"<strong>{limit}</strong> — <strong>acesso bloqueado</strong>" in html
    done = auth.post(page + "/desbloquear", {}, page)
    assert done.status_code == 302
    html = _html(auth.client.get(page))
    assert f"Acesso desbloqueado ({limit} tentativas sem sucesso apagadas)." in html
    assert "continua bloqueado" not in html
    assert "<strong>0</strong>" in html
    entry = _audit("user.unlock")[-1]
    assert entry.before == {"failed_attempts": limit} and entry.after == {"failed_attempts": 0}
    assert AuthActions(theirs).login(requester).status_code == 302


def test_unlocking_says_when_the_address_stays_throttled_by_other_cpfs(
    app: Flask, app_config: dict[str, Any], admin: User, requester: User
) -> None:
    limit = app.config["LOGIN_MAX_FAILURES"]
    stranger_cpf = new_cpf()
    for _ in range(limit):
        db.session.add(LoginAttempt(cpf=stranger_cpf, address="10.0.0.9"))
    db.session.add(LoginAttempt(cpf=requester.cpf, address="10.0.0.9"))
    db.session.add(LoginAttempt(cpf=requester.cpf, address="10.0.0.7"))
    db.session.commit()
    result = services.unlock_sign_in(db.session, admin, requester)
    db.session.commit()
    assert result.removed == 2 and result.address_still_throttled
    remaining = db.session.scalars(select(LoginAttempt.cpf)).all()
    assert remaining == [stranger_cpf] * limit  # the other CPF's failures are kept


def test_an_admin_sends_a_password_reset(
    auth: AuthActions, client: FlaskClient, admin: User, requester: User, smtp_server: Any
) -> None:
    page = f"{BASE}/{requester.id}"
    auth.login(admin)
    response = auth.post(page + "/redefinir-senha", {}, page)
    assert response.status_code == 302
    assert "E-mail de redefinição de senha enviado." in _html(auth.client.get(page))
    deliver_pending(db.session)
    mail = smtp_server.to(requester.email)
    assert len(mail) == 1 and "Redefinição de senha" in mail[0]["Subject"]
    text = mail[0].get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"/redefinir-senha/\S+", text).group(0)
    entry = _audit("user.send_password_reset")[-1]
    assert entry.after == {"kind": "password_reset"} and path.rsplit("/", 1)[1] not in str(
        entry.after
    )
    auth.logout()
    assert auth.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert auth.login(requester, NEW_PASSWORD).status_code == 302


def test_a_deactivated_user_gets_no_reset_e_mail(admin: User, requester: User) -> None:
    services.deactivate(db.session, admin, requester)
    with pytest.raises(Conflict, match="Reative o usuário"):
        services.send_password_reset(db.session, admin, requester)


def test_logs_carry_no_cpf_or_e_mail(
    caplog: pytest.LogCaptureFixture,
    admin: User,
    org: Organisation,
) -> None:
    caplog.set_level(logging.DEBUG, logger="portal")
    cpf = new_cpf()
    data = services.NewAccount(
        cpf=cpf, full_name="Lia Log", email="lia.log@exemplo.gov.br", role="agent",
        organisation=org,
    )  # fmt: skip
    user = services.create_account(db.session, admin, data)
    services.change_role(db.session, admin, user, "requester")
    services.unlock_sign_in(db.session, admin, user)
    services.send_password_reset(db.session, admin, user)
    services.deactivate(db.session, admin, user)
    services.reactivate(db.session, admin, user)
    db.session.commit()
    assert caplog.records
    assert cpf not in caplog.text and format_cpf(cpf) not in caplog.text
    assert "lia.log" not in caplog.text


# ------------------------------------------------------------------ search


def _names(html: str) -> list[str]:
    return re.findall(r'<td><a href="/admin/usuarios/\d+">([^<]+)</a></td>', html)


def test_search_by_name_cpf_e_mail_and_organisation(
    auth: AuthActions,
    admin: User,
    make_user: Callable[..., User],
    make_org: Callable[..., Organisation],
) -> None:
    sao = make_org(name="Prefeitura de São Gonçalo", uf="RJ")
    joao = make_user("João Conceição", organisation=sao, email="jc@saogoncalo.rj.gov.br")
    maria = make_user("Maria Souza", role="agent", email="maria@dataprev.gov.br")
    auth.login(admin)

    def found(query: str) -> list[str]:
        response = auth.client.get(BASE + "/", query_string=query)
        assert response.status_code == 200
        return _names(_html(response))

    assert found("q=joao conceicao") == ["João Conceição"]  # accents ignored
    assert found("q=JOÃO") == ["João Conceição"]
    assert found(f"q={format_cpf(joao.cpf)}") == ["João Conceição"]
    assert found(f"q={joao.cpf}") == ["João Conceição"]
    assert found(f"q={joao.cpf[:6]}") == ["João Conceição"]
    assert found("q=maria@dataprev") == ["Maria Souza"]
    assert found("q=saogoncalo.rj") == ["João Conceição"]  # part of the e-mail
    assert found("q=sao goncalo") == ["João Conceição"]  # the organisation, accents ignored
    assert found("q=%25") == []  # a LIKE wildcard is a plain character
    assert found("papel=agent") == ["Maria Souza"]
    assert found("papel=admin") == ["Carla Administradora"]
    services.deactivate(db.session, admin, maria)
    db.session.commit()
    assert found("situacao=desativados") == ["Maria Souza"]
    assert "Maria Souza" not in found("situacao=ativos")
    assert found("q=zzz") == []


def test_the_list_pages_in_sql_with_a_flat_number_of_queries(
    auth: AuthActions,
    admin: User,
    make_user: Callable[..., User],
    count_queries: Callable[[], Any],
) -> None:
    auth.login(admin)

    def statements(query: str = "") -> int:
        with count_queries() as sent:
            assert auth.client.get(BASE + "/" + query).status_code == 200
        return len(sent)

    make_user("Agente Zero", role="agent", groups=["G0"])
    few, few_search = statements(), statements("?q=agente")
    for n in range(30):
        make_user(f"Agente {n:02d}", role="agent", groups=[f"G{n % 3}", "Comum"])
    assert statements() == few
    assert statements("?q=agente") == few_search
    html = _html(auth.client.get(BASE + "/?q=agente&pagina=2"))
    assert "26 - 31 de 31" in html and len(_names(html)) == 6
