"""Send queued webhook deliveries: claim due rows, POST each signed body once to the URL's own
host (the address resolved once, checked, then connected to), log the attempt, and deliver,
retry with the e-mail outbox's back-off, or give up after MAX_ATTEMPTS.

No redirect is followed: http.client never follows one, and a 3xx counts as a failure.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, or_, select, update

from portal.core import secretbox
from portal.core.database import DbSession, write_intent
from portal.core.errors import ValidationError
from portal.core.log_privacy import redact
from portal.core.outbox import backoff
from portal.core.timeutil import utcnow
from portal.webhooks import addresses
from portal.webhooks.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery

log = logging.getLogger("portal.webhooks")

SECRET_PURPOSE = "webhook-secret"  # noqa: S105  (a key-derivation label, not a secret)
CLAIM_DURATION = timedelta(minutes=5)
TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 8
BATCH = 50
ERROR_MAX = 300


def signature(secret: str, timestamp: int, body: str) -> str:
    """The X-Portal-Signature value: HMAC-SHA256 of "<t>.<body>" with the webhook's secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address already checked, while Host says the URL's name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """As _PinnedHTTP, with TLS verified against the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = ssl.create_default_context().wrap_socket(raw, server_hostname=self.host)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(url: str, secret: str, delivery_id: str, event: str, body: str, now: datetime) -> Outcome:
    """One POST; every failure (refused address, network, non-2xx) is an Outcome, not raised."""
    started = time.monotonic()

    def done(status: int | None, error: str) -> Outcome:
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(status, redact(error)[:ERROR_MAX], elapsed)

    try:
        target = addresses.parse_target(url)
        found = addresses.resolve(target.host, target.port)
        if not found:
            return done(None, "Servidor não encontrado (DNS).")
        addresses.check_not_portal(target, current_app.config["BASE_URL"], found)
    except ValidationError as exc:
        return done(None, str(exc))
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target.host, target.port, found[0], TIMEOUT_SECONDS)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PortalDeAtendimento-Webhooks/1",
        "X-Portal-Event": event,
        "X-Portal-Delivery": delivery_id,
        "X-Portal-Signature": signature(secret, timestamp, body),
    }
    try:
        connection.request("POST", target.path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read(4096)  # the answer is not used; a bounded read lets the socket close
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return done(None, f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
    if 300 <= status < 400:
        return done(status, "Redirecionamento não é seguido.")
    return done(status, "" if 200 <= status < 300 else f"Resposta HTTP {status}.")


def _due(now: datetime) -> ColumnElement[bool]:
    return (
        (WebhookDelivery.status == DeliveryStatus.PENDING.value)
        & (WebhookDelivery.next_attempt_at <= now)
        & or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now)
    )


def claim(session: DbSession, now: datetime, limit: int = BATCH) -> list[int]:
    """Take due deliveries for this runner (SQLite's write lock, SKIP LOCKED on PostgreSQL: the
    rows selected are this runner's until it commits the claim)."""
    with write_intent():
        session.rollback()
        query = select(WebhookDelivery.id).where(_due(now)).order_by(WebhookDelivery.id)
        query = query.limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            session.rollback()
            return []
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), _due(now))
            .values(claimed_until=now + CLAIM_DURATION)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return ids


def _attempt_one(session: DbSession, delivery_id: int, now: datetime) -> str:
    row = session.execute(
        select(WebhookDelivery, Webhook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.id == delivery_id)
    ).one()
    delivery, hook = row[0], row[1]
    url, event, body, attempts = hook.url, delivery.event, delivery.body, delivery.attempts
    active, sealed = hook.active, hook.secret_sealed
    session.rollback()  # no transaction held open during the network call
    if not active:
        outcome = Outcome(None, "Webhook desativado.", 0)
    else:
        public_id = str(json.loads(body).get("id", delivery_id))
        secret = secretbox.open_sealed(sealed, SECRET_PURPOSE)
        outcome = send(url, secret, public_id, event, body, now)
    attempts += 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status": outcome.status_code,
        "claimed_until": None,
    }
    if outcome.ok:
        values |= {"status": DeliveryStatus.DELIVERED.value, "delivered_at": utcnow()}
        result = "delivered"
    elif attempts >= MAX_ATTEMPTS or not active:
        values |= {"status": DeliveryStatus.FAILED.value}
        result = "failed"
    else:
        values |= {"next_attempt_at": now + backoff(attempts)}
        result = "retried"
        log.info("webhook delivery %s: attempt %s failed: %s", delivery_id, attempts, outcome.error)
    with write_intent():
        session.rollback()
        session.add(
            WebhookAttempt(
                delivery_id=delivery_id,
                at=now,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return result


def deliver_due(session: DbSession, *, now: datetime | None = None) -> dict[str, int]:
    """Every due delivery once; returns counts of delivered, retried and failed."""
    now = now or utcnow()
    counts = {"delivered": 0, "retried": 0, "failed": 0}
    while ids := claim(session, now):
        for delivery_id in ids:
            try:
                counts[_attempt_one(session, delivery_id, now)] += 1
            except Exception:
                session.rollback()
                log.exception("webhook delivery %s failed; the batch goes on", delivery_id)
                counts["failed"] += 1
    return counts
