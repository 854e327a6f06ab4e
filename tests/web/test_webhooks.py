"""Webhooks (issue 18): events queued with the change, signed deliveries, retries, the host
rule and the admin pages.

- a receiver on loopback (a real HTTP server) gets each of the four events once, signed;
- 500 then 200: delivered on the job's second run, after the back-off, two attempts logged;
- a 302 is not followed and counts as a failure;
- the portal's own address is refused when saving (field error) and when sending;
- an internal note emits nothing; a change rolled back after emit leaves no delivery;
- /admin/webhooks is for admins only (404 for others); the secret is shown once, never audited;
- migration 0012 goes up, down and up again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from portal import create_app, jobs
from portal.accounts.models import User
from portal.catalog.models import CatalogItem
from portal.core.errors import FormErrors
from portal.core.extensions import db
from portal.core.models import AuditEntry
from portal.core.timeutil import utcnow
from portal.requests import services as request_service
from portal.requests.lifecycle import Action
from portal.requests.models import ServiceRequest
from portal.webhooks import services
from portal.webhooks.events import EVENTS, emit_many
from portal.webhooks.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery
from tests.conftest import AuthActions, free_port
from tests.scratch_db import scratch_database_url

SECRET_RE = re.compile(r'id="webhook-secret"[^>]*value="(whsec_[A-Za-z0-9_-]+)"')


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    """What a test's HTTP endpoint got; `answers` are the statuses to give, in order (then
    200); /redirect answers 302 to /target."""

    port: int
    got: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path: str) -> list[Received]:
        return [r for r in self.got if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode()
            state.got.append(Received(self.path, dict(self.headers.items()), body))
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", state.url("/target"))
            else:
                self.send_response(state.answers.pop(0) if state.answers else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", state.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def people(make_user, make_org) -> dict[str, User]:
    dataprev = make_org(name="DATAPREV", kind="outro", uf="DF")
    return {
        "felipe": make_user(name="Felipe Rodrigues", email="felipe@example.org"),
        "ana": make_user(
            name="Ana Atendente", role="agent", organisation=dataprev, groups=["Suporte GERID"]
        ),
        "carla": make_user(name="Carla Admin", role="admin", organisation=dataprev),
    }


def _hook(admin: User, url: str, events: list[str] | None = None) -> services.Saved:
    saved = services.create(db.session, admin, url=url, events=events or list(EVENTS))
    db.session.commit()
    return saved


def _verify(secret: str, received: Received) -> None:
    parts = dict(p.split("=", 1) for p in received.headers["X-Portal-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.{received.body}".encode(), hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)


def _deliveries() -> list[WebhookDelivery]:
    db.session.rollback()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _attempts() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(WebhookAttempt)) or 0


def test_each_event_reaches_the_receiver_once_signed(
    people: dict[str, User], make_request, receiver: Receiver
) -> None:
    felipe, ana = people["felipe"], people["ana"]
    saved = _hook(people["carla"], receiver.url())
    request = make_request(felipe)
    request_service.add_message(db.session, request, felipe, "Segue mais um detalhe.")
    request_service.fire(db.session, request, Action.START, actor=ana)
    request_service.assign(db.session, request, ana, assignee=ana, group=None)
    db.session.commit()

    assert jobs.deliver_webhooks(db.session) == 4
    assert jobs.deliver_webhooks(db.session) == 0  # nothing is sent twice

    got = receiver.to("/hook")
    assert sorted(r.headers["X-Portal-Event"] for r in got) == sorted(EVENTS)
    assert saved.secret is not None
    for received in got:
        _verify(saved.secret, received)
        payload = json.loads(received.body)
        assert received.headers["Content-Type"] == "application/json"
        assert received.headers["X-Portal-Delivery"] == payload["id"]
        assert payload["event"] == received.headers["X-Portal-Event"]
        assert payload["request"]["number"] == request.number
        assert payload["request"]["item"] == "gerid"
        assert felipe.cpf not in received.body and "felipe@example.org" not in received.body
    by_event = {json.loads(r.body)["event"]: json.loads(r.body) for r in got}
    assert by_event["request.message_added"]["message"]["body"] == "Segue mais um detalhe."
    assert by_event["request.state_changed"]["request"]["state"] == "in_progress"
    assert all(d.status == DeliveryStatus.DELIVERED for d in _deliveries())


def test_a_500_is_retried_after_the_backoff_and_logged(
    people: dict[str, User], make_request, receiver: Receiver
) -> None:
    _hook(people["carla"], receiver.url(), ["request.created"])
    receiver.answers = [500]
    make_request(people["felipe"])
    with time_machine.travel(utcnow(), tick=False) as traveller:
        assert jobs.deliver_webhooks(db.session) == 0
        [delivery] = _deliveries()
        assert (delivery.status, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
        assert jobs.deliver_webhooks(db.session) == 0  # not due yet: the back-off holds it
        traveller.shift(timedelta(seconds=31))
        assert jobs.deliver_webhooks(db.session) == 1
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 2, 200)
    assert _attempts() == 2
    first, second = receiver.to("/hook")
    assert first.body == second.body  # the same delivery, byte for byte


def test_a_redirect_is_not_followed_and_counts_as_failure(
    people: dict[str, User], make_request, receiver: Receiver
) -> None:
    _hook(people["carla"], receiver.url("/redirect"), ["request.created"])
    make_request(people["felipe"])
    assert jobs.deliver_webhooks(db.session) == 0
    assert len(receiver.to("/redirect")) == 1
    assert receiver.to("/target") == []
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("pending", 1, 302)
    attempt = db.session.scalars(select(WebhookAttempt)).one()
    assert attempt.status_code == 302 and "Redirecionamento" in attempt.error


def test_the_portal_address_is_refused_when_saving(
    app: Flask, auth: AuthActions, people: dict[str, User]
) -> None:
    auth.login(people["carla"])
    response = auth.post(
        "/admin/webhooks/novo",
        {"url": "http://portal.test/api/v1/me", "events": ["request.created"]},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="url-error"' in html and "próprio portal" in html
    # By address too: a name that resolves to BASE_URL's host on its port.
    app.config["BASE_URL"] = "http://127.0.0.1:8123"
    with pytest.raises(FormErrors) as caught:
        services.create(
            db.session, people["carla"], url="http://localhost:8123/x", events=["request.created"]
        )
    assert caught.value.errors[0].field == "url"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0


def test_the_portal_address_is_refused_when_sending(
    app: Flask, people: dict[str, User], make_request, receiver: Receiver
) -> None:
    _hook(people["carla"], receiver.url(), ["request.created"])
    make_request(people["felipe"])
    # The portal moved to the receiver's address after the webhook was saved.
    app.config["BASE_URL"] = f"http://localhost:{receiver.port}"
    assert jobs.deliver_webhooks(db.session) == 0
    assert receiver.got == []
    attempt = db.session.scalars(select(WebhookAttempt)).one()
    assert attempt.status_code is None and "próprio portal" in attempt.error


def test_an_internal_note_emits_nothing(
    people: dict[str, User], make_request, receiver: Receiver
) -> None:
    felipe, ana = people["felipe"], people["ana"]
    _hook(people["carla"], receiver.url(), ["request.message_added"])
    request = make_request(felipe)
    request_service.add_note(db.session, request, ana, "Senha do servidor: xyz", public=False)
    db.session.commit()
    assert _deliveries() == []
    request_service.add_note(db.session, request, ana, "Estamos verificando.", public=True)
    db.session.commit()
    assert jobs.deliver_webhooks(db.session) == 1
    [received] = receiver.got
    assert json.loads(received.body)["message"]["body"] == "Estamos verificando."
    assert "xyz" not in received.body


def test_a_change_rolled_back_after_emit_queues_nothing(
    people: dict[str, User], make_request, receiver: Receiver
) -> None:
    felipe = people["felipe"]
    _hook(people["carla"], receiver.url(), ["request.message_added"])
    request = make_request(felipe)
    with pytest.raises(RuntimeError):
        try:
            request_service.add_message(db.session, request, felipe, "Vai falhar.")
            assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
            raise RuntimeError("crash before commit")
        finally:
            db.session.rollback()
    assert _deliveries() == []
    assert jobs.deliver_webhooks(db.session) == 0
    assert receiver.got == []


def test_inactive_webhooks_and_other_events_get_nothing(
    people: dict[str, User], make_request, receiver: Receiver
) -> None:
    carla = people["carla"]
    only_assign = _hook(carla, receiver.url("/assign"), ["request.assigned"])
    off = _hook(carla, receiver.url("/off"))
    services.deactivate(db.session, carla, off.id)
    db.session.commit()
    make_request(people["felipe"])
    assert _deliveries() == []
    assert only_assign.id != off.id


def test_a_batch_emit_reads_the_services_once(
    people: dict[str, User], make_request, receiver: Receiver, count_queries
) -> None:
    """The jobs' bulk transitions emit for hundreds of requests: the statements must not grow
    with the batch (each request's service was read on its own before)."""
    _hook(people["carla"], receiver.url())
    items = list(db.session.scalars(select(CatalogItem.id)))
    assert len(items) >= 3
    made = [make_request(people["felipe"]) for _ in range(9)]
    for i, req in enumerate(made):  # spread over the services, as a job's batch is
        req.item_id = items[i % len(items)]
    numbers = [req.number for req in made]
    db.session.commit()
    db.session.expunge_all()  # as a job loads them: no service in memory yet
    batch = list(
        db.session.scalars(select(ServiceRequest).where(ServiceRequest.number.in_(numbers)))
    )
    with count_queries() as statements:
        queued = emit_many(db.session, "request.state_changed", batch, action="auto_close")
    assert queued == 9
    assert len(statements) == 3, "\n".join(statements)  # hooks, services, INSERT
    bodies = db.session.scalars(select(WebhookDelivery.body)).all()
    assert {json.loads(b)["request"]["item"] for b in bodies} == set(
        db.session.scalars(select(CatalogItem.slug).where(CatalogItem.id.in_(items[:9])))
    )


def test_non_admins_get_404(auth: AuthActions, people: dict[str, User]) -> None:
    hook = _hook(people["carla"], "https://example.org/hook")
    for who in ("felipe", "ana"):
        auth.login(people[who])
        for path in ("/admin/webhooks/", f"/admin/webhooks/{hook.id}", "/admin/webhooks/novo"):
            with auth.client.get(path) as response:
                assert response.status_code == 404, (who, path)
        token = auth.csrf("/perfil")
        response = auth.client.post(
            f"/admin/webhooks/{hook.id}/desativar", data={"csrf_token": token}
        )
        assert response.status_code == 404
        auth.logout()
    assert db.session.get(Webhook, hook.id).active  # type: ignore[union-attr]


def test_admin_creates_sees_secret_once_and_resends_a_failure(
    auth: AuthActions, people: dict[str, User], make_request, receiver: Receiver
) -> None:
    auth.login(people["carla"])
    response = auth.post(
        "/admin/webhooks/novo",
        {"url": receiver.url(), "events": ["request.created"]},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    secret = SECRET_RE.search(html)
    assert secret
    hook = db.session.scalars(select(Webhook)).one()
    assert secret.group(1) not in hook.secret_sealed
    with auth.client.get(f"/admin/webhooks/{hook.id}") as page:
        assert secret.group(1) not in page.get_data(as_text=True)
    audit_text = json.dumps(
        [[e.action, e.before, e.after] for e in db.session.scalars(select(AuditEntry))]
    )
    assert "webhook.create" in audit_text and secret.group(1) not in audit_text

    make_request(people["felipe"])
    db.session.execute(sa.update(WebhookDelivery).values(status=DeliveryStatus.FAILED))
    db.session.commit()
    with auth.client.get(f"/admin/webhooks/{hook.id}") as page:
        assert "Nenhuma tentativa" in page.get_data(as_text=True)
    [delivery] = _deliveries()
    path = f"/admin/webhooks/{hook.id}/entregas/{delivery.id}/reenviar"
    response = auth.post(path, page=f"/admin/webhooks/{hook.id}")
    assert response.status_code == 302
    assert jobs.deliver_webhooks(db.session) == 1
    _verify(secret.group(1), receiver.got[0])
    with auth.client.get(f"/admin/webhooks/{hook.id}") as page:
        assert "HTTP 200" in page.get_data(as_text=True)
    with auth.client.get("/admin/webhooks/") as page:
        assert "Entregue" in page.get_data(as_text=True)


SCHEMA = "webhooks_migration"


@pytest.fixture
def migration_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database_url(tmp_path, SCHEMA) as url:
        yield url


def test_0012_goes_up_down_and_up(migration_url: str) -> None:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": migration_url, "SECRET_KEY": "test", "TESTING": True}
    )
    names = {"webhooks", "webhook_deliveries", "webhook_attempts"}
    try:
        with app.app_context():
            upgrade(revision="0012")
            assert names <= set(sa.inspect(db.engine).get_table_names())
            downgrade(revision="0011")
            assert not names & set(sa.inspect(db.engine).get_table_names())
            upgrade()
            indexes = {i["name"] for i in sa.inspect(db.engine).get_indexes("webhook_deliveries")}
            assert "ix_webhook_deliveries_status_next" in indexes
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
