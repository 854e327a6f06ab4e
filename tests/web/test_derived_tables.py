"""request_parties and queue_counts, kept by triggers, always equal a fresh recomputation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select, update

from portal.core.extensions import db
from portal.models import (
    Follower,
    PartyCount,
    PartyRelation,
    QueueCount,
    RequestParty,
    ServiceRequest,
    SupportGroup,
)
from portal.requests import derived
from portal.requests import services as request_service
from portal.requests.lifecycle import Action, State
from portal.requests.queries import request_list
from portal.requests.queue import QueueFilters, agent_queue
from tests.conftest import AuthActions

PORTAL_VALUES = {"motivo": "Dúvida", "funcionalidade": "Consulta Pessoa"}


def _snapshot() -> tuple[set[tuple], set[tuple], set[tuple]]:
    parties = {
        (p.request_id, p.relation, p.user_id, p.state, p.item_id, p.opened_at)
        for p in db.session.scalars(select(RequestParty))
    }
    counts = {
        (c.group_key, c.state, c.total)
        for c in db.session.scalars(select(QueueCount))
        if c.total  # a counter that went back to zero equals a missing one
    }
    people = {
        (c.user_id, c.relation, c.item_id, c.state, c.total)
        for c in db.session.scalars(select(PartyCount))
        if c.total
    }
    return parties, counts, people


def _assert_triggers_match_a_rebuild() -> None:
    db.session.commit()
    kept = _snapshot()
    derived.rebuild(db.session.connection())
    db.session.commit()
    assert kept == _snapshot()


@pytest.fixture
def cast(make_user, make_org):
    dataprev = make_org(name="DATAPREV", kind="outro", uf="DF")
    return {
        "opener": make_user(name="Abre"),
        "other": make_user(name="Para Quem"),
        "follower": make_user(name="Acompanha"),
        "agent": make_user(
            name="Ana", role="agent", organisation=dataprev, groups=["Suporte GERID"]
        ),
    }


def test_every_change_keeps_the_derived_tables_true(cast, make_request) -> None:
    opener, other, follower, agent = cast["opener"], cast["other"], cast["follower"], cast["agent"]
    first = make_request(opener, requested_for=other, followers=[follower])
    second = make_request(opener)
    third = make_request(
        other,
        item="portal-rede-atendimento",
        values={"motivo": "Dúvida", "funcionalidade": "Consulta Pessoa"},
    )
    db.session.commit()
    parties = {(p.user_id, p.relation) for p in db.session.scalars(select(RequestParty))}
    assert (other.id, "mine") in parties and (follower.id, "following") in parties
    _assert_triggers_match_a_rebuild()

    request_service.fire(db.session, first, Action.START, actor=agent)
    request_service.fire(db.session, second, Action.REQUESTER_CANCEL, actor=opener, reason="x")
    cadunico = db.session.scalar(select(SupportGroup).where(SupportGroup.name != "Suporte GERID"))
    request_service.assign(db.session, third, agent, assignee=None, group=cadunico)
    request_service.remove_follower(db.session, first, opener, follower.id)
    _assert_triggers_match_a_rebuild()

    # A bulk statement outside the ORM, as a job or a fix in psql would run it.
    db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == third.id)
        .values(state=State.IN_PROGRESS.value)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(Follower))
    db.session.execute(delete(ServiceRequest).where(ServiceRequest.id == second.id))
    _assert_triggers_match_a_rebuild()
    assert (
        db.session.scalar(
            select(RequestParty.state).where(
                RequestParty.request_id == third.id, RequestParty.relation == PartyRelation.MINE
            )
        )
        == State.IN_PROGRESS.value
    )


def test_queue_total_counts_only_near_pages_when_filters_defeat_the_counters(
    cast, make_request
) -> None:
    for _ in range(5):
        make_request(cast["opener"], description="Consulta lenta")
    db.session.commit()
    agent = cast["agent"]
    exact = agent_queue(db.session, agent, QueueFilters(), per_page=1)
    assert (exact.total, exact.more) == (5, False)
    # Other filters cannot use queue_counts: counting stops ten pages past the one shown.
    near = agent_queue(db.session, agent, QueueFilters(assigned="ninguem"), per_page=1, page=1)
    assert (near.total, near.more, near.has_next, len(near.rows)) == (5, False, True, 1)
    # A text search stops two pages past it (each row counted is a look-up in the text index).
    text = agent_queue(db.session, agent, QueueFilters(text="lenta"), per_page=1, page=1)
    assert (text.total, text.more, text.has_next, len(text.rows)) == (3, True, True, 1)


def test_deep_queue_pages_say_more_when_counting_stopped(cast, make_request) -> None:
    for _ in range(14):
        make_request(cast["opener"], description="Consulta lenta")
    db.session.commit()
    page = agent_queue(db.session, cast["agent"], QueueFilters(assigned="ninguem"), per_page=1)
    assert (page.total, page.more, page.has_next) == (11, True, True)
    page = agent_queue(db.session, cast["agent"], QueueFilters(text="lenta"), per_page=1)
    assert (page.total, page.more, page.has_next) == (3, True, True)
    last = agent_queue(db.session, cast["agent"], QueueFilters(text="lenta"), per_page=1, page=14)
    assert (last.page, last.total, last.more, last.has_next) == (14, 14, False, False)


def test_my_list_totals_come_from_party_counts_and_searches_count_ten_pages_ahead(
    auth: AuthActions, cast, make_request, count_queries
) -> None:
    """Someone with thousands of requests must not count them all on every page view."""
    for _ in range(14):
        make_request(cast["opener"])
    with count_queries() as statements:
        first = request_list(db.session, cast["opener"], PartyRelation.MINE, per_page=1)
    assert (first.total, first.more, first.has_next) == (14, False, True)
    assert not [s for s in statements if "count(" in s.lower() and "request_parties" in s]
    by_state = request_list(db.session, cast["opener"], PartyRelation.MINE, state="closed")
    assert by_state.total == 0
    # A partial number cannot use the counters: counting stops ten pages past the one shown.
    searched = request_list(db.session, cast["opener"], PartyRelation.MINE, number="CS", per_page=1)
    assert (searched.total, searched.more) == (11, True)
    auth.login(cast["opener"])
    html = auth.client.get("/solicitacoes?numero=CS").get_data(as_text=True)
    assert "Linhas 1 - 14 de 14" in html  # under the horizon the count is exact


def test_assigned_to_me_shows_mine_from_any_group(auth: AuthActions, cast, make_request) -> None:
    outside = make_request(
        cast["opener"],
        item="portal-rede-atendimento",
        values={"motivo": "Dúvida", "funcionalidade": "Consulta Pessoa"},
    )
    request_service.assign(db.session, outside, cast["agent"], assignee=cast["agent"], group=None)
    db.session.commit()
    auth.login(cast["agent"])
    html = auth.client.get("/atendimento").get_data(as_text=True)
    assert outside.number not in html  # not my group's queue
    html = auth.client.get("/atendimento?atribuido=eu").get_data(as_text=True)
    assert re.findall(r'<td><a href="/solicitacoes/(CS\d+)">', html) == [outside.number]
