"""Scheduled jobs with a controlled clock, two runners at once, a broken row, /healthz."""

from __future__ import annotations

import gc
import io
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from portal import jobs
from portal.core.extensions import db
from portal.core.files import stage_files
from portal.core.storage import file_store
from portal.core.timeutil import utcnow
from portal.models import Follower, OutboxEmail, PendingUpload, ServiceRequest, TimelineEntry
from portal.requests import notifications
from portal.requests import services as request_service
from portal.requests.lifecycle import Action, State
from tests.conftest import make_app
from tests.files import pdf_bytes

DAY = timedelta(days=1)


@pytest.fixture
def resolve(make_user, make_request):
    """Open and resolve a request at a given time; returns (request, requester)."""
    agent = make_user(name="Agente", role="agent")

    def factory(resolved_at, requester=None):
        requester = requester or make_user(name="Solicitante")
        request = make_request(requester, now=resolved_at - timedelta(hours=1))
        request_service.fire(db.session, request, Action.START, actor=agent, now=resolved_at)
        request_service.fire(
            db.session, request, Action.RESOLVE, actor=agent, reason="Resolvido", now=resolved_at
        )
        db.session.commit()
        return request, requester

    factory.agent = agent
    return factory


def _state(request: ServiceRequest) -> str:
    db.session.rollback()
    return db.session.get(ServiceRequest, request.id).state


def _entries(request_id: int, action: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(TimelineEntry)
        .where(TimelineEntry.request_id == request_id, TimelineEntry.action == action)
    )


def test_auto_close_exactly_at_the_deadline_and_not_before(app: Flask, resolve) -> None:
    resolved_at = utcnow() - 10 * DAY
    request, requester = resolve(resolved_at)
    deadline = resolved_at + 7 * DAY
    assert jobs.auto_close(db.session, now=deadline - timedelta(seconds=1)) == 0
    assert _state(request) == State.AWAITING_USER.value
    assert jobs.auto_close(db.session, now=deadline) == 1
    assert _state(request) == State.CLOSED.value
    closed = db.session.get(ServiceRequest, request.id)
    assert closed.closed_at == deadline
    entry = db.session.scalar(
        sa.select(TimelineEntry).where(
            TimelineEntry.request_id == request.id, TimelineEntry.action == "auto_close"
        )
    )
    assert entry.author_id is None
    assert entry.body == "Fechado automaticamente após 7 dias sem resposta"
    subjects = db.session.scalars(
        sa.select(OutboxEmail.subject).where(OutboxEmail.recipient == requester.email)
    )
    assert any("fechada automaticamente" in s for s in subjects)
    assert jobs.auto_close(db.session, now=deadline + DAY) == 0  # idempotent


def test_auto_close_writes_a_batch_in_the_same_few_statements(
    app: Flask, resolve, make_user, count_queries
) -> None:
    """100,000 due requests must close in under a minute: no statement per row."""
    resolved_at = utcnow() - 10 * DAY
    follower = make_user(name="Seguidora")

    def close_due(count: int) -> tuple[int, dict[int, int]]:
        due = [resolve(resolved_at)[0] for _ in range(count)]
        versions = {r.id: r.version for r in due}
        db.session.add_all(
            Follower(request_id=r.id, user_id=follower.id, created_at=resolved_at) for r in due
        )
        db.session.commit()
        with count_queries() as statements:
            assert jobs.auto_close(db.session) == count
        return len(statements), versions

    few, _ = close_due(2)
    many, versions = close_due(9)
    assert many == few
    db.session.rollback()
    for request_id, version in versions.items():
        closed = db.session.get(ServiceRequest, request_id)
        assert closed.state == State.CLOSED.value
        assert closed.version == version + 1  # one write, not a second ORM flush
        assert _entries(request_id, "auto_close") == 1
        recipients = set(
            db.session.scalars(
                sa.select(OutboxEmail.recipient).where(
                    OutboxEmail.request_id == request_id,
                    OutboxEmail.subject.contains("fechada automaticamente"),
                )
            )
        )
        assert recipients == {closed.opened_by.email, follower.email}


def test_a_batch_reads_each_requester_side_as_one_request_would(
    app: Flask, resolve, make_user, make_request
) -> None:
    """Auto-close reads the people of a whole batch in one query (requester_sides); each
    request must still get exactly requester_side: opener, requested-for user, followers,
    active only."""
    resolved_at = utcnow() - 10 * DAY
    opener, other, gone = make_user(name="Abre"), make_user(name="Para"), make_user(name="Saiu")
    alone = resolve(resolved_at, requester=opener)[0]
    shared = make_request(opener, requested_for=other, followers=[gone, other], now=resolved_at)
    for action in (Action.START, Action.RESOLVE):
        request_service.fire(
            db.session, shared, action, actor=resolve.agent, reason="Feito", now=resolved_at
        )
    gone.active = False
    db.session.commit()
    sides = notifications.requester_sides(db.session, [alone.id, shared.id])
    for request in (alone, shared):
        expected = {(p.id, p.email) for p in notifications.requester_side(request)}
        assert {(p.id, p.email) for p in sides[request.id]} == expected
    assert {p.id for p in sides[shared.id]} == {opener.id, other.id}

    assert jobs.auto_close(db.session) == 2
    emailed = set(
        db.session.scalars(
            sa.select(OutboxEmail.recipient).where(
                OutboxEmail.request_id == shared.id,
                OutboxEmail.subject.contains("fechada automaticamente"),
            )
        )
    )
    assert emailed == {opener.email, other.email}


def test_jobs_give_garbage_collection_back(app: Flask, resolve) -> None:
    """Batches pause the collector and collect at their end; a scheduler process left without
    one would grow without bound."""
    resolve(utcnow() - 10 * DAY)
    assert gc.isenabled()
    assert jobs.auto_close(db.session) == 1
    assert gc.isenabled()
    resolve(utcnow() - 10 * DAY)  # a batch must run for the choice below to be at stake
    gc.disable()  # a process that chose to run without it keeps its choice
    try:
        assert jobs.auto_close(db.session) == 1
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_rejection_restarts_the_clock(app: Flask, resolve) -> None:
    start = utcnow() - 30 * DAY
    request, requester = resolve(start)
    request_service.fire(
        db.session,
        request,
        Action.REJECT,
        actor=requester,
        reason="Não resolveu",
        now=start + 6 * DAY,
    )
    request_service.fire(
        db.session,
        request,
        Action.RESOLVE,
        actor=resolve.agent,
        reason="Agora sim",
        now=start + 8 * DAY,
    )
    db.session.commit()
    assert jobs.auto_close(db.session, now=start + 14 * DAY) == 0
    assert jobs.auto_close(db.session, now=start + 15 * DAY) == 1


def test_reminder_once_two_days_before(app: Flask, resolve, smtp_server) -> None:
    resolved_at = utcnow() - 20 * DAY
    request, requester = resolve(resolved_at)
    assert jobs.remind(db.session, now=resolved_at + 5 * DAY - timedelta(minutes=1)) == 0
    assert jobs.remind(db.session, now=resolved_at + 5 * DAY) == 1
    assert jobs.remind(db.session, now=resolved_at + 6 * DAY) == 0
    jobs.deliver_mail(db.session)
    reminders = [
        m for m in smtp_server.to(requester.email) if "será fechada em 2 dias" in m["Subject"]
    ]
    assert len(reminders) == 1
    assert f"Sua solicitação {request.number} será fechada em 2 dias" in reminders[0]["Subject"]


def test_a_new_resolution_gets_a_new_reminder(app: Flask, resolve) -> None:
    start = utcnow() - 40 * DAY
    request, requester = resolve(start)
    assert jobs.remind(db.session, now=start + 5 * DAY) == 1
    request_service.fire(
        db.session, request, Action.REJECT, actor=requester, reason="x", now=start + 6 * DAY
    )
    request_service.fire(
        db.session, request, Action.RESOLVE, actor=resolve.agent, reason="y", now=start + 10 * DAY
    )
    db.session.commit()
    assert jobs.remind(db.session, now=start + 15 * DAY) == 1


def test_two_runners_at_once_close_and_email_each_request_once(
    app: Flask, resolve, smtp_server
) -> None:
    resolved_at = utcnow() - 10 * DAY
    requester = None
    ids = []
    for _ in range(12):
        request, requester = resolve(resolved_at, requester)
        ids.append(request.id)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    now = utcnow()

    def runner() -> None:
        try:
            with app.app_context():
                barrier.wait()
                jobs.remind(db.session, now=now)
                jobs.auto_close(db.session, now=now)
                jobs.deliver_mail(db.session)
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    db.session.rollback()
    for request_id in ids:
        assert db.session.get(ServiceRequest, request_id).state == State.CLOSED.value
        assert _entries(request_id, "auto_close") == 1
    subjects = [m["Subject"] for m in smtp_server.to(requester.email)]
    closed_mails = [s for s in subjects if "fechada automaticamente" in s]
    assert len(closed_mails) == len(set(closed_mails)) == 12


def test_a_broken_row_does_not_stop_the_batch(app: Flask, resolve) -> None:
    resolved_at = utcnow() - 10 * DAY
    good_before, requester = resolve(resolved_at)
    broken, _ = resolve(resolved_at, requester)
    good_after, _ = resolve(resolved_at, requester)
    _forbid_updates_of(broken.id)
    try:
        assert jobs.auto_close(db.session) == 2
        assert _state(good_before) == _state(good_after) == State.CLOSED.value
        assert _state(broken) == State.AWAITING_USER.value
        assert _entries(broken.id, "auto_close") == 0
    finally:
        _allow_updates()


def _forbid_updates_of(request_id: int) -> None:
    """A row the database refuses to change: a real failure, not a mock."""
    db.session.rollback()  # DDL waits for every open transaction on the table
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_update() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'broken row'; END; $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER broken_row BEFORE UPDATE ON service_requests FOR EACH ROW "
                f"WHEN (OLD.id = {request_id}) EXECUTE FUNCTION refuse_update()"
            )
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER broken_row BEFORE UPDATE ON service_requests "
                f"WHEN OLD.id = {request_id} BEGIN SELECT RAISE(ABORT, 'broken row'); END"
            )


def _allow_updates() -> None:
    db.session.rollback()
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS broken_row ON service_requests")
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS refuse_update()")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS broken_row")


def test_smtp_down_then_up_delivers_everything_exactly_once(
    app: Flask, resolve, smtp_server
) -> None:
    real_port = app.config["SMTP_PORT"]
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        app.config["SMTP_PORT"] = sock.getsockname()[1]
    resolve(utcnow() - DAY)
    queued = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail))
    assert jobs.deliver_mail(db.session) == 0
    app.config["SMTP_PORT"] = real_port
    assert jobs.deliver_mail(db.session, now=utcnow() + timedelta(minutes=5)) == queued
    assert len(smtp_server.messages) == queued
    assert jobs.deliver_mail(db.session, now=utcnow() + timedelta(hours=2)) == 0


def test_stale_pending_uploads_are_purged(app: Flask, make_user) -> None:
    from werkzeug.datastructures import FileStorage

    user = make_user()
    [pending], _ = stage_files(db.session, user, [FileStorage(io.BytesIO(pdf_bytes()), "a.pdf")])
    db.session.commit()
    stored = pending.stored_name
    assert file_store().exists(stored)
    assert jobs.purge_pending_uploads(db.session, now=utcnow() + timedelta(hours=23)) == 0
    assert jobs.purge_pending_uploads(db.session, now=utcnow() + timedelta(hours=25)) == 1
    assert not file_store().exists(stored)
    assert db.session.query(PendingUpload).count() == 0


def test_healthz_reports_database_heartbeat_and_backlog(app: Flask, client, resolve) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "ok" and response.json["heartbeat_age_seconds"] is None
    jobs.heartbeat(db.session)
    resolve(utcnow() - DAY)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["outbox_backlog"] > 0
    jobs.heartbeat(db.session, now=utcnow() - timedelta(minutes=10))
    stale = client.get("/healthz")
    assert stale.status_code == 503 and stale.json["heartbeat_age_seconds"] >= 600


def test_healthz_fails_when_the_database_is_unreachable(app_config, tmp_path) -> None:
    broken = make_app(
        {**app_config, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x"}
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "error"


def test_run_jobs_once_from_the_command_line(app: Flask, resolve) -> None:
    request, _ = resolve(utcnow() - 10 * DAY)
    result = app.test_cli_runner().invoke(args=["portal", "run-jobs", "--once"])
    assert result.exit_code == 0, result.output
    assert "auto_close: 1" in result.output and "heartbeat" in result.output
    assert _state(request) == State.CLOSED.value
