"""Queue webhook deliveries in the caller's transaction (the outbox pattern).

A rolled-back change sends nothing; a committed one is delivered later by the
`deliver_webhooks` job. Payloads carry the request's number, state, item and version, never a
CPF, an e-mail address or an internal note.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm.attributes import set_committed_value

from portal.catalog.models import CatalogItem
from portal.core.database import DbSession
from portal.core.timeutil import utcnow
from portal.requests.models import ServiceRequest
from portal.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

EVENTS = {
    "request.created": "Solicitação aberta",
    "request.state_changed": "Mudança de situação",
    "request.message_added": "Nova mensagem pública",
    "request.assigned": "Atribuição",
}
# A portal has a handful of webhooks; the bound keeps one event's cost fixed all the same.
MAX_WEBHOOKS = 50


def _subscribed(session: DbSession, event: str) -> list[int]:
    # One statement; the event test is done here because `events` is free text.
    rows = session.execute(
        select(Webhook.id, Webhook.events)
        .where(Webhook.active.is_(True))
        .order_by(Webhook.id)
        .limit(MAX_WEBHOOKS)
    ).all()
    return [row.id for row in rows if event in row.events.split()]


def payload(
    event: str, request: ServiceRequest, now: datetime, extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "event": event,
        "occurred_at": now.isoformat(),
        "request": {
            "number": request.number,
            "state": request.state,
            "item": request.item.slug,
            "version": request.version,
        },
        **extra,
    }


def emit(session: DbSession, event: str, request: ServiceRequest, **extra: Any) -> int:
    """One pending delivery per active webhook subscribed to `event`; returns how many."""
    return emit_many(session, event, [request], **extra)


def emit_many(
    session: DbSession, event: str, requests: Sequence[ServiceRequest], **extra: Any
) -> int:
    """emit() for a batch (the jobs' bulk transitions): one read, one INSERT."""
    if event not in EVENTS:
        raise ValueError(event)
    hooks = _subscribed(session, event)
    if not hooks or not requests:
        return 0
    # The batch's services in one read, set on each request, not one SELECT per request.
    item_ids = {request.item_id for request in requests}
    items = {
        i.id: i for i in session.scalars(select(CatalogItem).where(CatalogItem.id.in_(item_ids)))
    }
    for request in requests:
        set_committed_value(request, "item", items[request.item_id])
    now = utcnow()
    rows = [
        {
            "webhook_id": hook,
            "event": event,
            "body": json.dumps(payload(event, request, now, extra), ensure_ascii=False),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for request in requests
        for hook in hooks
    ]
    session.execute(insert(cast(Table, WebhookDelivery.__table__)), rows)
    return len(rows)
