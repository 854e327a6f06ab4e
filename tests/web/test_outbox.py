"""The email outbox against a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

import time_machine
from flask import Flask

from portal.core.extensions import db
from portal.core.outbox import (
    backoff,
    deliver_pending,
    failed_messages,
    queue_email,
    retry_failed,
)
from portal.core.timeutil import utcnow
from portal.models import MailStatus, OutboxEmail


def _queue(to: str = "maria@exemplo.gov.br", **kwargs) -> int:
    added = queue_email(
        db.session,
        to=[to],
        subject="[CS0000001] Teste",
        template="requests/email/auto_closed",
        context={"request": _FakeRequest(), "link": "http://portal.test/x"},
        **kwargs,
    )
    db.session.commit()
    return added


class _FakeRequest:
    number = "CS0000001"

    class item:  # noqa: N801
        name = "GERID"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_queued_email_is_delivered_with_text_and_html(app: Flask, smtp_server) -> None:
    _queue()
    report = deliver_pending(db.session)
    assert report.sent == 1
    [message] = smtp_server.to("maria@exemplo.gov.br")
    assert message["Subject"] == "[CS0000001] Teste"
    assert "CS0000001" in message.get_body(preferencelist=("plain",)).get_content()
    assert "<strong>CS0000001</strong>" in message.get_body(preferencelist=("html",)).get_content()
    assert db.session.query(OutboxEmail).one().status is MailStatus.SENT
    assert deliver_pending(db.session).sent == 0  # nothing is sent twice


def test_a_rolled_back_change_sends_nothing(app: Flask, smtp_server) -> None:
    queue_email(
        db.session,
        to=["x@exemplo.gov.br"],
        subject="s",
        template="requests/email/auto_closed",
        context={"request": _FakeRequest(), "link": "l"},
    )
    db.session.rollback()
    assert deliver_pending(db.session).sent == 0
    assert smtp_server.messages == []


def test_dedupe_key_queues_once_per_recipient(app: Flask) -> None:
    assert _queue(dedupe_key="event:1") == 1
    assert _queue(dedupe_key="event:1") == 0
    assert _queue(to="other@exemplo.gov.br", dedupe_key="event:1") == 1
    assert db.session.query(OutboxEmail).count() == 2


def test_many_recipients_count_only_the_rows_added(app: Flask) -> None:
    """One executemany for a whole group; the count leaves out who already had this email."""
    assert _queue(to="a@exemplo.gov.br", dedupe_key="event:2") == 1
    added = queue_email(
        db.session,
        to=["a@exemplo.gov.br", "b@exemplo.gov.br", "c@exemplo.gov.br"],
        subject="s",
        template="requests/email/auto_closed",
        context={"request": _FakeRequest(), "link": "l"},
        dedupe_key="event:2",
    )
    db.session.commit()
    assert added == 2
    assert db.session.query(OutboxEmail).count() == 3


def test_html_body_escapes_what_people_typed(app: Flask, smtp_server) -> None:
    class Evil(_FakeRequest):
        number = '"><svg onload=alert(1)>'

    queue_email(
        db.session,
        to=["x@exemplo.gov.br"],
        subject="s",
        template="requests/email/auto_closed",
        context={"request": Evil(), "link": "l"},
    )
    db.session.commit()
    deliver_pending(db.session)
    html = smtp_server.messages[0].get_body(preferencelist=("html",)).get_content()
    assert "<svg" not in html and "&lt;svg" in html


def test_smtp_down_retries_with_backoff_and_loses_nothing(app: Flask, smtp_server) -> None:
    real_port = app.config["SMTP_PORT"]
    app.config["SMTP_PORT"] = _closed_port()
    _queue()
    start = utcnow()
    with time_machine.travel(start, tick=False) as traveller:
        report = deliver_pending(db.session)
        assert report.retried == 1 and report.sent == 0
        row = db.session.query(OutboxEmail).one()
        assert row.status is MailStatus.PENDING and row.attempts == 1
        assert row.next_attempt_at == start + backoff(1)
        assert deliver_pending(db.session).retried == 0  # not due yet
        # An hour of outage: every due attempt fails, the message stays queued.
        for _ in range(6):
            traveller.shift(timedelta(hours=1))
            deliver_pending(db.session)
        db.session.expire_all()
        assert row.status is MailStatus.PENDING
        app.config["SMTP_PORT"] = real_port
        traveller.shift(timedelta(hours=1))
        assert deliver_pending(db.session).sent == 1
    assert len(smtp_server.messages) == 1


def test_after_the_last_attempt_a_message_is_marked_failed_not_dropped(
    app: Flask, smtp_server
) -> None:
    app.config["SMTP_PORT"] = _closed_port()
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    _queue()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        for _ in range(3):
            deliver_pending(db.session)
            traveller.shift(timedelta(hours=2))
    [failed] = failed_messages(db.session)
    assert failed.attempts == 3 and "ConnectionRefused" in failed.last_error
    app.config["SMTP_PORT"] = smtp_server.port
    assert retry_failed(db.session) == 1
    db.session.commit()
    assert deliver_pending(db.session).sent == 1
    assert len(smtp_server.messages) == 1


def test_without_smtp_the_message_is_written_as_an_eml_file(app: Flask, tmp_path) -> None:
    app.config["SMTP_HOST"] = None
    _queue()
    assert deliver_pending(db.session).sent == 1
    [eml] = list((tmp_path / "mail").glob("*.eml"))
    assert b"[CS0000001] Teste" in eml.read_bytes()


def test_two_runners_at_once_send_each_message_once(app: Flask, smtp_server) -> None:
    for i in range(30):
        _queue(to=f"p{i}@exemplo.gov.br")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            with app.app_context():
                barrier.wait()
                while deliver_pending(db.session, limit=5).sent:
                    pass
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    recipients = [m["To"] for m in smtp_server.messages]
    assert len(recipients) == 30 == len(set(recipients))


def test_failed_messages_are_listed_and_retried_from_the_command_line(
    app: Flask, smtp_server
) -> None:
    app.config["SMTP_PORT"] = _closed_port()
    app.config["MAIL_MAX_ATTEMPTS"] = 1
    _queue(to="perdido@exemplo.gov.br")
    deliver_pending(db.session)
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["portal", "mail", "failed"])
    assert listing.exit_code == 0
    assert "perdido@exemplo.gov.br" in listing.output and "[CS0000001] Teste" in listing.output
    app.config["SMTP_PORT"] = smtp_server.port
    retry = runner.invoke(args=["portal", "mail", "retry"])
    assert "1 e-mail(s) de volta à fila." in retry.output
    assert deliver_pending(db.session).sent == 1
    assert "Nenhum e-mail com falha." in runner.invoke(args=["portal", "mail", "failed"]).output
