"""Requests through the service layer: creation, transitions, optimistic locking."""

from __future__ import annotations

import threading
from contextlib import nullcontext

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.core.errors import StaleObject
from portal.models import EntryKind, Follower, OutboxEmail, ServiceRequest, TimelineEntry
from portal.requests import services as requests
from portal.requests.lifecycle import Action, ActionNotAllowed, State
from portal.requests.services import FormErrors
from tests.conftest import GERID_VALUES


def _entries(request: ServiceRequest) -> list[TimelineEntry]:
    return list(
        db_session().scalars(
            select(TimelineEntry)
            .where(TimelineEntry.request_id == request.id)
            .order_by(TimelineEntry.id)
        )
    )


def db_session():
    from portal.core.extensions import db

    return db.session


def test_creation_writes_number_state_timeline_and_emails(make_user, make_request) -> None:
    opener = make_user(name="Felipe Rodrigues")
    follower = make_user(name="Ellem Saraiva")
    request = make_request(opener, followers=[follower])
    assert request.number == "CS0000001"
    assert request.state == State.OPEN.value
    assert request.group.name == "Suporte GERID"
    assert request.field_values == {**GERID_VALUES, "modulo": "Gestão de usuários"}
    [entry] = _entries(request)
    assert entry.kind is EntryKind.CREATED and entry.body == "CS0000001 Criado"
    recipients = set(db_session().scalars(select(OutboxEmail.recipient)))
    assert recipients == {opener.email, follower.email}


def test_presets_win_over_what_the_form_sent(make_user, make_request) -> None:
    request = make_request(make_user(), values={**GERID_VALUES, "modulo": "Outro módulo"})
    assert request.field_values["modulo"] == "Gestão de usuários"


def test_required_fields_and_options_are_checked(make_user, make_request) -> None:
    user = make_user()
    with pytest.raises(FormErrors) as error:
        make_request(user, values={"funcionalidade": "Inventada"}, description=" ")
    fields = {e.field for e in error.value.errors}
    assert fields == {"motivo", "funcionalidade", "description"}


def test_dependent_options_follow_the_parent_value(make_user, make_request) -> None:
    user = make_user()
    ok = {"motivo": "Dúvida", "funcionalidade": "Login do Usuário", "sintoma": "Senha não aceita"}
    assert make_request(user, item="portal-rede-atendimento", values=ok).field_values["sintoma"]
    bad = {**ok, "funcionalidade": "Consulta Pessoa"}  # "Senha não aceita" is only for login
    with pytest.raises(FormErrors) as error:
        make_request(user, item="portal-rede-atendimento", values=bad)
    assert [e.field for e in error.value.errors] == ["sintoma"]


def test_requested_for_and_followers_must_be_of_my_organisation(
    make_user, make_request, make_org
) -> None:
    me = make_user()
    stranger = make_user(organisation=make_org(name="Outra Prefeitura"))
    with pytest.raises(FormErrors) as error:
        make_request(me, requested_for=stranger)
    assert error.value.errors[0].field == "requested_for"
    with pytest.raises(FormErrors) as error:
        make_request(me, followers=[stranger])
    assert error.value.errors[0].field == "followers"
    db_session().rollback()
    assert db_session().scalar(select(func.count()).select_from(ServiceRequest)) == 0


def test_followers_exclude_the_opener_and_duplicates(make_user, make_request) -> None:
    me, other = make_user(), make_user(name="Outra Pessoa")
    request = make_request(me, followers=[me, other, other])
    followers = db_session().scalars(
        select(Follower.user_id).where(Follower.request_id == request.id)
    )
    assert list(followers) == [other.id]


def test_every_transition_writes_one_timeline_entry(make_user, make_request) -> None:
    requester, agent = make_user(), make_user(name="Ana Atendente", role="agent")
    request = make_request(requester)
    session = db_session()
    steps = [
        (Action.START, agent, None),
        (Action.AWAIT_SUPPORT, agent, "Aguardando a infraestrutura"),
        (Action.RESUME, agent, None),
        (Action.RESOLVE, agent, "Feito."),
        (Action.REJECT, requester, "Ainda não funciona"),
        (Action.RESOLVE, agent, "Agora sim."),
        (Action.ACCEPT, requester, None),
    ]
    for action, actor, reason in steps:
        requests.fire(session, request, action, actor=actor, reason=reason)
        session.commit()
    entries = _entries(request)
    assert len(entries) == 1 + len(steps)
    assert [e.action for e in entries[1:]] == [a.value for a, _, _ in steps]
    assert entries[2].body == "Motivo da espera:\nAguardando a infraestrutura"
    assert request.state == State.CLOSED.value
    assert request.closed_at is not None and request.resolved_at is not None


def test_refused_transition_changes_nothing(make_user, make_request) -> None:
    requester = make_user()
    request = make_request(requester)
    session = db_session()
    with pytest.raises(ActionNotAllowed):
        requests.fire(session, request, Action.ACCEPT, actor=requester)
    session.rollback()
    assert request.state == State.OPEN.value and len(_entries(request)) == 1


def test_stale_version_is_refused_with_the_reload_message(make_user, make_request) -> None:
    requester, agent = make_user(), make_user(name="Ana", role="agent")
    request = make_request(requester)
    seen = request.version
    session = db_session()
    requests.fire(session, request, Action.START, actor=agent, expected_version=seen)
    session.commit()
    with pytest.raises(StaleObject, match=r"alterada por outra pessoa\. Recarregue a página\."):
        requests.fire(
            session, request, Action.CANCEL, actor=agent, reason="x", expected_version=seen
        )
    session.rollback()
    assert request.state == State.IN_PROGRESS.value
    assert len(_entries(request)) == 2


def test_database_refuses_inconsistent_rows(make_user, make_request) -> None:
    request = make_request(make_user())
    session = db_session()
    request.state = State.CLOSED.value  # bypassing the machine: no closed_at
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_two_agents_at_once_one_wins(app: Flask, make_user, make_request) -> None:
    """Both loaded version 1; only one UPDATE can match it. Real concurrency on PostgreSQL."""
    from portal.core.database import write_intent
    from portal.core.extensions import db
    from portal.models import User

    requester = make_user()
    agent_ids = [make_user(name=f"Agente {i}", role="agent").id for i in range(2)]
    request_id = make_request(requester).id
    barrier = threading.Barrier(2)
    results: list[str] = []
    is_postgres = db.engine.dialect.name == "postgresql"

    def agent_acts(agent_id: int, action: Action) -> None:
        with app.app_context():
            try:
                # SQLite serialises writers up front (BEGIN IMMEDIATE): the loser then reads the
                # new version, and the version the person saw (1) is what refuses it.
                with write_intent() if not is_postgres else nullcontext():
                    if is_postgres:
                        barrier.wait()
                    req = db.session.get(ServiceRequest, request_id)
                    seen = 1
                    if is_postgres:
                        barrier.wait()  # both have read version 1 before either writes
                    requests.fire(
                        db.session,
                        req,
                        action,
                        actor=db.session.get(User, agent_id),
                        reason="motivo",
                        expected_version=seen,
                    )
                    db.session.commit()
                results.append("ok")
            except StaleObject:
                db.session.rollback()
                results.append("stale")
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=agent_acts, args=(agent_ids[0], Action.START)),
        threading.Thread(target=agent_acts, args=(agent_ids[1], Action.CANCEL)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["ok", "stale"]
    db.session.rollback()
    entries = db.session.scalar(
        select(func.count())
        .select_from(TimelineEntry)
        .where(TimelineEntry.request_id == request_id)
    )
    assert entries == 2  # "Criado" and the winner's transition, nothing twice


def test_two_messages_at_once_both_land(app: Flask, make_user, make_request) -> None:
    """Messages never conflict: the second writer on a request it read before the first one
    committed must not be refused (it was a 500 on PostgreSQL under load)."""
    from sqlalchemy.orm import Session

    from portal.core.extensions import db

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers from the first read of a POST (BEGIN IMMEDIATE)")
    requester = make_user()
    request = make_request(requester)
    with Session(db.engine) as other:
        seen_by_other = other.get(ServiceRequest, request.id)  # read before the first write
        requests.add_message(db.session, request, requester, "Primeira", [])
        db.session.commit()
        requests.add_message(other, seen_by_other, requester, "Segunda", [])
        other.commit()
    bodies = db.session.scalars(
        select(TimelineEntry.body).where(
            TimelineEntry.request_id == request.id, TimelineEntry.kind == EntryKind.COMMENT
        )
    )
    assert sorted(bodies) == ["Primeira", "Segunda"]
