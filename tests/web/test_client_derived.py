"""client_request_counts and client_request_days, kept by triggers, always equal a fresh
recount, whatever path changed the requests or their timelines."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from portal import jobs
from portal.clients import derived
from portal.clients.models import ClientRequestCount, ClientRequestDay
from portal.core.extensions import db
from portal.core.timeutil import utcnow
from portal.models import ServiceRequest, TimelineEntry
from portal.requests import services as request_service
from portal.requests.lifecycle import Action, State
from portal.requests.models import EntryKind

DAY = timedelta(days=1)


def _snapshot() -> tuple[set[tuple], set[tuple]]:
    counts = {
        (c.organisation_id, c.state, c.total)
        for c in db.session.scalars(select(ClientRequestCount))
        if c.total  # a counter that went back to zero equals a missing one
    }
    days = {
        (d.organisation_id, d.day, d.measure, d.total)
        for d in db.session.scalars(select(ClientRequestDay))
        if d.total
    }
    return counts, days


def _assert_triggers_match_a_rebuild() -> tuple[set[tuple], set[tuple]]:
    db.session.commit()
    kept = _snapshot()
    derived.rebuild(db.session.connection())
    db.session.commit()
    assert kept == _snapshot()
    return kept


@pytest.fixture
def cast(make_user, make_org):
    salvador = make_org(name="Prefeitura de Salvador", uf="BA")
    recife = make_org(name="Prefeitura do Recife", uf="PE")
    dataprev = make_org(name="DATAPREV", kind="outro", uf="DF")
    return {
        "salvador": salvador,
        "recife": recife,
        "felipe": make_user(name="Felipe", organisation=salvador),
        "roberto": make_user(name="Roberto", organisation=recife),
        "agent": make_user(
            name="Ana", role="agent", organisation=dataprev, groups=["Suporte GERID"]
        ),
    }


def _resolve(request: ServiceRequest, agent, now) -> None:
    request_service.fire(db.session, request, Action.START, actor=agent, now=now)
    request_service.fire(
        db.session, request, Action.RESOLVE, actor=agent, reason="Feito", now=now + DAY
    )
    db.session.commit()


def test_every_path_keeps_the_client_tallies_true(cast, make_request) -> None:
    felipe, roberto, agent = cast["felipe"], cast["roberto"], cast["agent"]
    salvador, recife = cast["salvador"].id, cast["recife"].id
    start = utcnow() - 30 * DAY
    accepted = make_request(felipe, now=start)
    rejected = make_request(felipe, now=start)
    closed_by_job = make_request(roberto, now=start)
    still_open = make_request(roberto, now=start)
    counts, days = _assert_triggers_match_a_rebuild()
    assert counts == {(salvador, "open", 2), (recife, "open", 2)}
    assert days == set()

    for request in (accepted, rejected, closed_by_job):
        _resolve(request, agent, start)
    request_service.fire(db.session, accepted, Action.ACCEPT, actor=felipe, now=start + 2 * DAY)
    request_service.fire(
        db.session, rejected, Action.REJECT, actor=felipe, reason="Não", now=start + 2 * DAY
    )
    db.session.commit()
    # The real job, through its batched statements (fire_as_system).
    assert jobs.auto_close(db.session, now=start + 9 * DAY) == 1
    counts, days = _assert_triggers_match_a_rebuild()
    resolved_day = (start + DAY).date()
    answer_day = (start + 2 * DAY).date()
    assert counts == {
        (salvador, State.CLOSED.value, 1),
        (salvador, State.IN_PROGRESS.value, 1),
        (recife, State.CLOSED.value, 1),
        (recife, State.OPEN.value, 1),
    }
    assert days == {
        (salvador, resolved_day, "resolved", 2),
        (salvador, answer_day, "accepted", 1),
        (salvador, answer_day, "rejected", 1),
        (recife, resolved_day, "resolved", 1),
        (recife, (start + 9 * DAY).date(), "auto_closed", 1),
    }
    assert still_open.state == State.OPEN.value

    # Bulk statements outside the ORM, as a fix typed in psql would run them.
    db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == still_open.id)
        .values(state=State.IN_PROGRESS.value)
        .execution_options(synchronize_session=False)
    )
    # A request moved to another client takes its state and its outcomes along.
    db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == rejected.id)
        .values(organisation_id=recife)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        insert(TimelineEntry).values(
            request_id=still_open.id,
            kind=EntryKind.TRANSITION,
            body="Resolvido à mão",
            action=Action.RESOLVE.value,
            occurred_at=start + 3 * DAY,
            created_at=start + 3 * DAY,
        )
    )
    db.session.execute(
        update(TimelineEntry)
        .where(TimelineEntry.request_id == accepted.id, TimelineEntry.action == "accept")
        .values(occurred_at=start + 4 * DAY)
        .execution_options(synchronize_session=False)
    )
    counts, days = _assert_triggers_match_a_rebuild()
    assert (recife, State.IN_PROGRESS.value, 2) in counts
    assert (recife, answer_day, "rejected", 1) in days
    assert (salvador, (start + 4 * DAY).date(), "accepted", 1) in days

    # Deleting entries, then whole requests (their timeline goes with them).
    db.session.execute(
        delete(TimelineEntry).where(
            TimelineEntry.request_id == closed_by_job.id, TimelineEntry.action == "auto_close"
        )
    )
    accepted_id = accepted.id
    db.session.expunge_all()
    db.session.execute(delete(ServiceRequest).where(ServiceRequest.id == accepted_id))
    counts, days = _assert_triggers_match_a_rebuild()
    assert not [d for d in days if d[2] == "auto_closed" or d[0] == salvador]
    assert (salvador, State.CLOSED.value, 1) not in counts


def test_a_batch_closed_one_by_one_still_counts(cast, make_request, monkeypatch) -> None:
    """When the batched statements fail, the job closes row by row through transitions.fire."""
    start = utcnow() - 30 * DAY
    requests = [make_request(cast["felipe"], now=start) for _ in range(2)]
    for request in requests:
        _resolve(request, cast["agent"], start)

    def broken(*_args, **_kwargs):
        raise RuntimeError("batch failed")

    monkeypatch.setattr(jobs.transitions, "fire_as_system", broken)
    assert jobs.auto_close(db.session, now=start + 9 * DAY) == 2
    _, days = _assert_triggers_match_a_rebuild()
    assert (cast["salvador"].id, (start + 9 * DAY).date(), "auto_closed", 2) in days


def test_rebuild_equals_the_incremental_tallies_and_the_day_is_utc(cast, make_request) -> None:
    # 02:30 UTC is still the previous evening in Brasília: the tally keeps the UTC date.
    late = utcnow().replace(hour=2, minute=30, second=0, microsecond=0) - 10 * DAY
    request = make_request(cast["felipe"], now=late - DAY)
    request_service.fire(db.session, request, Action.START, actor=cast["agent"], now=late)
    request_service.fire(
        db.session, request, Action.RESOLVE, actor=cast["agent"], reason="Ok", now=late
    )
    kept = _assert_triggers_match_a_rebuild()
    assert (cast["salvador"].id, late.date(), "resolved", 1) in kept[1]
    assert isinstance(next(iter(kept[1]))[1], date)
    # Uninstalled, nothing is kept; rebuilt and reinstalled, everything is again.
    connection = db.session.connection()
    derived.uninstall(connection)
    request_service.fire(db.session, request, Action.ACCEPT, actor=cast["felipe"], now=late + DAY)
    db.session.commit()
    assert not [d for d in _snapshot()[1] if d[2] == "accepted"]
    derived.rebuild(db.session.connection())
    derived.install(db.session.connection())
    db.session.commit()
    assert (cast["salvador"].id, (late + DAY).date(), "accepted", 1) in _snapshot()[1]
    make_request(cast["felipe"])
    counts, _ = _assert_triggers_match_a_rebuild()
    assert (cast["salvador"].id, State.OPEN.value, 1) in counts
