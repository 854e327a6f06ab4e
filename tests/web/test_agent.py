"""The agents' side: queue, staff actions, notes, history, notifications."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.core.extensions import db
from portal.core.outbox import deliver_pending
from portal.models import ServiceRequest, User
from portal.requests import services as request_service
from portal.requests.lifecycle import Action, State
from tests.conftest import AuthActions


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def people(make_user, make_org):
    """A requester with a follower, two agents of the GERID group, one of another group."""
    dataprev = make_org(name="DATAPREV", kind="outro", uf="DF")
    return {
        "felipe": make_user(name="Felipe Rodrigues"),
        "ellem": make_user(name="Ellem Saraiva"),
        "ana": make_user(
            name="Ana Atendente", role="agent", organisation=dataprev, groups=["Suporte GERID"]
        ),
        "caio": make_user(
            name="Caio Atendente", role="agent", organisation=dataprev, groups=["Suporte GERID"]
        ),
        "bruno": make_user(
            name="Bruno Atendente", role="agent", organisation=dataprev, groups=["Suporte CadÚnico"]
        ),
        "outsider": make_user(name="Outro Ente", organisation=make_org(name="Recife")),
    }


def _number_rows(html: str) -> list[str]:
    return re.findall(r'<td><a href="/solicitacoes/(CS\d+)">', html)


def test_requesters_cannot_open_the_queue(auth: AuthActions, people) -> None:
    auth.login(people["felipe"])
    assert auth.client.get("/atendimento").status_code == 404


def test_queue_shows_my_groups_with_counters_and_filters(
    auth: AuthActions, people, make_request
) -> None:
    felipe, ana, bruno = people["felipe"], people["ana"], people["bruno"]
    gerid = [make_request(felipe) for _ in range(3)]
    portal = make_request(
        felipe,
        item="portal-rede-atendimento",
        values={"motivo": "Dúvida", "funcionalidade": "Consulta Pessoa"},
        description="Consulta lenta no login",
    )
    request_service.fire(db.session, gerid[0], Action.START, actor=ana)
    request_service.assign(db.session, gerid[0], ana, assignee=ana, group=None)
    request_service.fire(db.session, gerid[1], Action.REQUESTER_CANCEL, actor=felipe, reason="x")
    db.session.commit()
    auth.login(ana)
    home = auth.client.get("/")
    assert home.headers["Location"] == "/atendimento"  # the queue is the agent's home
    html = _html(auth.client.get("/atendimento"))
    assert set(_number_rows(html)) == {gerid[0].number, gerid[2].number}  # active, my group
    assert portal.number not in html
    counters = dict(re.findall(r'data-state="(\w+)"><span class="count-number">(\d+)<', html))
    assert (
        counters["open"] == "1" and counters["in_progress"] == "1" and counters["cancelled"] == "1"
    )
    mine = _html(auth.client.get("/atendimento?atribuido=eu"))
    assert _number_rows(mine) == [gerid[0].number]
    nobody = _html(auth.client.get("/atendimento?atribuido=ninguem"))
    assert _number_rows(nobody) == [gerid[2].number]
    everything = _html(auth.client.get("/atendimento?estado=todos&ordem=antigas"))
    assert _number_rows(everything) == [r.number for r in gerid]
    auth.logout()
    auth.login(bruno)
    html = _html(auth.client.get("/atendimento?texto=lenta"))
    assert _number_rows(html) == [portal.number]
    assert _number_rows(_html(auth.client.get("/atendimento?organizacao=Recife"))) == []


def test_staff_actions_follow_the_state_machine(auth: AuthActions, people, make_request) -> None:
    ana = people["ana"]
    request = make_request(people["felipe"])
    auth.login(ana)
    path = f"/solicitacoes/{request.number}"
    html = _html(auth.client.get(path))
    assert "Iniciar atendimento" in html and "Resolver" not in html.split("Detalhes")[0]
    refused = auth.post(
        f"{path}/acoes/resolve", {"version": request.version, "reason": "x"}, page=path
    )
    assert "não é permitida no estado “Aberto”" in _html(
        auth.client.get(refused.headers["Location"])
    )
    auth.post(f"{path}/acoes/start", {"version": request.version}, page=path)
    db.session.expire_all()
    html = _html(auth.client.get(path))
    for label in ("Aguardar suporte", "Resolver", "Cancelar"):
        assert label in html
    auth.post(
        f"{path}/acoes/await_support",
        {"version": request.version, "reason": "Equipe de infraestrutura"},
        page=path,
    )
    db.session.expire_all()
    assert request.state == State.AWAITING_SUPPORT.value
    assert "Retomar" in _html(auth.client.get(path))


def test_requesters_and_followers_never_see_internal_notes(
    auth: AuthActions, people, make_request, smtp_server
) -> None:
    felipe, ellem, ana = people["felipe"], people["ellem"], people["ana"]
    request = make_request(felipe, followers=[ellem])
    deliver_pending(db.session)
    smtp_server.clear()
    auth.login(ana)
    path = f"/solicitacoes/{request.number}"
    auth.post(
        f"{path}/notas", {"body": "SEGREDO interno: senha do banco", "time_spent": "20"}, page=path
    )
    auth.post(
        f"{path}/notas",
        {
            "body": "Estamos analisando o seu caso.",
            "public": "1",
            "send_email": "1",
            "time_spent": "10",
        },
        page=path,
    )
    staff_html = _html(auth.client.get(path))
    assert "SEGREDO interno" in staff_html and "Nota interna" in staff_html
    assert 'id="time-spent-total">30 min' in staff_html
    assert 'id="history-total">30 min' in staff_html
    deliver_pending(db.session)
    mails = {
        m["To"]: m.get_body(preferencelist=("plain",)).get_content() for m in smtp_server.messages
    }
    assert set(mails) == {felipe.email, ellem.email}
    assert all("Estamos analisando" in body and "SEGREDO" not in body for body in mails.values())
    for person in (felipe, ellem):
        auth.logout()
        auth.login(person)
        html = _html(auth.client.get(path))
        assert "Estamos analisando o seu caso." in html
        assert "SEGREDO" not in html and "Nota interna" not in html and "Histórico" not in html


def test_note_validation_keeps_what_was_typed(auth: AuthActions, people, make_request) -> None:
    request = make_request(people["felipe"])
    auth.login(people["ana"])
    path = f"/solicitacoes/{request.number}"
    response = auth.post(
        f"{path}/notas", {"body": "Rascunho importante", "time_spent": "-5"}, page=path
    )
    assert response.status_code == 400
    html = _html(response)
    assert "tempo gasto em minutos" in html and "Rascunho importante" in html
    internal_mail = auth.post(f"{path}/notas", {"body": "x", "send_email": "1"}, page=path)
    assert "Só notas visíveis ao solicitante" in _html(internal_mail)


def test_assignment_and_reassignment_with_reason(auth: AuthActions, people, make_request) -> None:
    ana, caio, bruno = people["ana"], people["caio"], people["bruno"]
    request = make_request(people["felipe"])
    auth.login(ana)
    path = f"/solicitacoes/{request.number}"
    auth.post(f"{path}/atribuir", {"to_me": "1", "version": request.version}, page=path)
    db.session.expire_all()
    assert request.assignee_id == ana.id
    group_id = request.group_id
    wrong = auth.post(
        f"{path}/atribuir",
        {"assignee_id": bruno.id, "group_id": group_id, "version": request.version},
        page=path,
    )
    assert "não faz parte do grupo" in _html(auth.client.get(wrong.headers["Location"]))
    auth.post(
        f"{path}/atribuir",
        {
            "assignee_id": caio.id,
            "group_id": group_id,
            "reason": "Caio conhece o GERID",
            "version": request.version,
        },
        page=path,
    )
    db.session.expire_all()
    assert request.assignee_id == caio.id
    html = _html(auth.client.get(path))
    assert "Atribuído a Caio Atendente" in html and "Motivo: Caio conhece o GERID" in html
    auth.logout()
    auth.login(people["felipe"])
    assert "Caio conhece" not in _html(auth.client.get(path))  # assignment notes are internal


def test_assignment_picker_lists_active_staff_with_their_groups(
    auth: AuthActions, people, make_user, make_request
) -> None:
    make_user(name="Zeca Multigrupo", role="agent", groups=["Suporte GERID", "Suporte CadÚnico"])
    make_user(name="Ida Inativa", role="agent", groups=["Suporte GERID"]).active = False
    db.session.commit()
    request = make_request(people["felipe"])
    auth.login(people["ana"])
    html = _html(auth.client.get(f"/solicitacoes/{request.number}"))
    options = dict(
        (int(value), label)
        for value, label in re.findall(
            r'<option value="(\d+)"(?: selected)?>([^<]+ \([^<]*\))</option>', html
        )
    )
    assert options == {
        people["ana"].id: "Ana Atendente (Suporte GERID)",
        people["bruno"].id: "Bruno Atendente (Suporte CadÚnico)",
        people["caio"].id: "Caio Atendente (Suporte GERID)",
        db.session.scalar(
            select(User.id).where(User.full_name == "Zeca Multigrupo")
        ): "Zeca Multigrupo (Suporte CadÚnico, Suporte GERID)",
    }
    assert "Ida Inativa" not in html


def test_agents_add_followers_from_any_organisation(
    auth: AuthActions, people, make_request
) -> None:
    outsider = people["outsider"]
    request = make_request(people["felipe"])
    auth.login(people["ana"])
    path = f"/solicitacoes/{request.number}"
    found = _html(auth.client.get(f"{path}?pessoa=Outro"))
    assert f'<option value="{outsider.id}">Outro Ente</option>' in found
    auth.post(f"{path}/acompanhantes", {"user_id": outsider.id}, page=path)
    db.session.expire_all()
    assert [f.user_id for f in request.followers] == [outsider.id]


def _recipients(smtp_server) -> set[str]:
    deliver_pending(db.session)
    found = {m["To"] for m in smtp_server.messages}
    smtp_server.clear()
    return found


def test_notification_recipients(people, make_request, smtp_server) -> None:
    felipe, ellem, ana, caio = people["felipe"], people["ellem"], people["ana"], people["caio"]
    session = db.session
    request = make_request(felipe, followers=[ellem])
    assert _recipients(smtp_server) == {felipe.email, ellem.email, ana.email, caio.email}
    request_service.add_message(session, request, felipe, "Alguma novidade?")
    session.commit()
    assert _recipients(smtp_server) == {ana.email, caio.email}  # no assignee yet: the group
    request_service.assign(session, request, ana, assignee=ana, group=None)
    request_service.fire(session, request, Action.START, actor=ana)
    session.commit()
    assert _recipients(smtp_server) == set()
    request_service.add_message(session, request, ellem, "Também aguardo.")
    session.commit()
    assert _recipients(smtp_server) == {ana.email}  # the assignee only
    request_service.add_message(session, request, ana, "Estamos verificando.")
    session.commit()
    assert _recipients(smtp_server) == {felipe.email, ellem.email}
    request_service.add_note(session, request, ana, "interno", public=False)
    session.commit()
    assert _recipients(smtp_server) == set()
    request_service.fire(session, request, Action.RESOLVE, actor=ana, reason="Resolvido.")
    session.commit()
    assert _recipients(smtp_server) == {felipe.email, ellem.email}
    request_service.fire(session, request, Action.REJECT, actor=felipe, reason="Não funcionou")
    session.commit()
    assert _recipients(smtp_server) == {ana.email}
    request_service.fire(session, request, Action.RESOLVE, actor=ana, reason="Agora sim.")
    request_service.fire(session, request, Action.ACCEPT, actor=felipe)
    session.commit()
    assert _recipients(smtp_server) == {felipe.email, ellem.email, ana.email}
    other = make_request(felipe)
    _recipients(smtp_server)
    request_service.fire(session, other, Action.CANCEL, actor=ana, reason="Duplicada")
    session.commit()
    assert _recipients(smtp_server) == {felipe.email, caio.email}  # everyone but the actor


def test_subjects_carry_the_number(people, make_request, smtp_server) -> None:
    request = make_request(people["felipe"])
    deliver_pending(db.session)
    assert smtp_server.messages
    assert all(m["Subject"].startswith(f"[{request.number}] ") for m in smtp_server.messages)


def test_request_changed_by_someone_else_while_assigning(
    auth: AuthActions, people, make_request
) -> None:
    request = make_request(people["felipe"])
    seen = request.version
    request_service.fire(db.session, request, Action.START, actor=people["caio"])
    db.session.commit()
    auth.login(people["ana"])
    path = f"/solicitacoes/{request.number}"
    response = auth.post(f"{path}/atribuir", {"to_me": "1", "version": seen}, page=path)
    assert "alterada por outra pessoa" in _html(auth.client.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(ServiceRequest, request.id).assignee_id is None


def test_requests_waiting_on_us_stand_out(auth: AuthActions, people, make_request) -> None:
    from datetime import timedelta

    from portal.core.timeutil import utcnow

    old = make_request(people["felipe"], now=utcnow() - timedelta(days=3))
    fresh = make_request(people["felipe"])
    auth.login(people["ana"])
    html = _html(auth.client.get("/atendimento"))
    assert "aberto há 3 dias" in html and "parado há 3 dias" in html
    rows = {
        number: css
        for css, number in re.findall(
            r'<tr class="(\w*)">\s*<td><a href="/solicitacoes/(CS\d+)"', html
        )
    }
    assert rows[old.number] == "stale" and rows[fresh.number] == ""


# How to bring a fresh request to each state, as (action, actor key, reason) steps.
ROUTES: dict[str, list[tuple[Action, str, str | None]]] = {
    "open": [],
    "in_progress": [(Action.START, "ana", None)],
    "in_progress_cancel_asked": [
        (Action.START, "ana", None),
        (Action.REQUEST_CANCEL, "felipe", "Não preciso mais"),
    ],
    "awaiting_support": [(Action.START, "ana", None), (Action.AWAIT_SUPPORT, "ana", "Infra")],
    "awaiting_user": [(Action.START, "ana", None), (Action.RESOLVE, "ana", "Feito")],
    "closed": [
        (Action.START, "ana", None),
        (Action.RESOLVE, "ana", "Feito"),
        (Action.ACCEPT, "felipe", None),
    ],
    "cancelled": [(Action.REQUESTER_CANCEL, "felipe", "Duplicada")],
}


@pytest.mark.parametrize("situation", list(ROUTES))
@pytest.mark.parametrize("who", ["ana", "felipe", "ellem"])
def test_every_action_shown_and_refused_by_state_and_role(
    auth: AuthActions, people, make_request, situation: str, who: str
) -> None:
    from portal.requests import lifecycle
    from portal.requests.policy import roles_on

    request = make_request(people["felipe"], followers=[people["ellem"]])
    for action, actor, reason in ROUTES[situation]:
        request_service.fire(db.session, request, action, actor=people[actor], reason=reason)
    db.session.commit()
    user = people[who]
    allowed = set(lifecycle.allowed_actions(request.snapshot(), roles_on(user, request)))
    auth.login(user)
    path = f"/solicitacoes/{request.number}"
    html = _html(auth.client.get(path))
    shown = {a for a in Action if f'/acoes/{a.value}"' in html}
    assert shown == allowed
    if who == "ellem":
        assert shown == set()  # followers read and write, but never decide
    for action in set(Action) - allowed:
        before = (request.state, request.version)
        auth.post(
            f"{path}/acoes/{action.value}", {"version": request.version, "reason": "x"}, page=path
        )
        db.session.expire_all()
        assert (request.state, request.version) == before, action
    for action in allowed:  # and each allowed one really works from the page
        db.session.rollback()
        version = db.session.get(ServiceRequest, request.id).version
        response = auth.post(
            f"{path}/acoes/{action.value}", {"version": version, "reason": "motivo"}, page=path
        )
        assert response.status_code == 302
        db.session.expire_all()
        assert db.session.get(ServiceRequest, request.id).version == version + 1, action
        break


def test_resolved_email_carries_the_solution_and_the_closing_date(
    people, make_request, smtp_server
) -> None:
    from datetime import timedelta

    from portal.core.timeutil import format_datetime

    felipe, ana = people["felipe"], people["ana"]
    request = make_request(felipe)
    request_service.fire(db.session, request, Action.START, actor=ana)
    request_service.fire(db.session, request, Action.RESOLVE, actor=ana, reason="Perfil liberado.")
    db.session.commit()
    deliver_pending(db.session)
    [mail] = [m for m in smtp_server.to(felipe.email) if "resolvida" in m["Subject"]]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    closes = format_datetime(request.resolved_at + timedelta(days=7), "America/Sao_Paulo")
    assert "Perfil liberado." in body and closes in body
    assert f"http://portal.test/solicitacoes/{request.number}" in body
    assert "Aceitar Solução" in body and "Rejeitar Solução" in body


def test_queue_uses_a_bounded_number_of_queries(
    auth: AuthActions, people, make_request, count_queries
) -> None:
    auth.login(people["ana"])

    def queries_for(path: str) -> int:
        with count_queries() as statements:
            assert auth.client.get(path).status_code == 200
        return len(statements)

    make_request(people["felipe"])
    few = queries_for("/atendimento"), queries_for("/solicitacoes/CS0000001")
    for _ in range(25):
        request = make_request(people["felipe"], followers=[people["ellem"]])
        request_service.assign(
            db.session, request, people["ana"], assignee=people["caio"], group=None
        )
        request_service.add_note(db.session, request, people["ana"], "nota", public=False)
    db.session.commit()
    assert (queries_for("/atendimento"), queries_for("/solicitacoes/CS0000001")) == few
