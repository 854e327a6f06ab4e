"""Administração > Webhooks: create, edit, new secret, deactivate and re-send, admins only.

Services flush and never commit; every change is audited without the secret, which is shown
once (when generated) and stored sealed, since it must be read back to sign.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select, update

from portal.accounts.policy import can_manage_accounts
from portal.core import audit, secretbox
from portal.core.actors import Actor
from portal.core.database import DbSession, affected_rows
from portal.core.errors import FormErrors, NotFound, ValidationError, require
from portal.core.timeutil import utcnow
from portal.webhooks import addresses
from portal.webhooks.delivery import SECRET_PURPOSE
from portal.webhooks.events import EVENTS
from portal.webhooks.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery

SECRET_PREFIX = "whsec_"  # noqa: S105  (marks the value in logs and scanners; not a secret)
LOG_PAGE = 50


@dataclass(frozen=True)
class Saved:
    """A webhook just saved: `secret` is set only when one was generated, shown once."""

    id: int
    secret: str | None


def _check(url: str, events: list[str]) -> tuple[str, str]:
    errors: list[ValidationError] = []
    text = (url or "").strip()
    try:
        target = addresses.parse_target(text)
        addresses.check_not_portal(target, current_app.config["BASE_URL"])
    except ValidationError as exc:
        errors.append(exc)
    chosen = [e for e in EVENTS if e in set(events)]
    if not chosen:
        errors.append(ValidationError("Escolha pelo menos um evento.", "events"))
    if errors:
        raise FormErrors(errors)
    return text, " ".join(chosen)


def _new_secret() -> tuple[str, str]:
    raw = SECRET_PREFIX + secrets.token_urlsafe(32)
    return raw, secretbox.seal(raw, SECRET_PURPOSE)


def _get(session: DbSession, webhook_id: int) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound("Webhook não encontrado.")
    return hook


def create(session: DbSession, actor: Actor, *, url: str, events: list[str]) -> Saved:
    require(can_manage_accounts(actor))
    clean_url, clean_events = _check(url, events)
    raw, sealed = _new_secret()
    hook = Webhook(
        url=clean_url,
        events=clean_events,
        secret_sealed=sealed,
        active=True,
        created_by_id=getattr(actor, "id", None),
        created_at=utcnow(),
    )
    session.add(hook)
    session.flush()
    audit.record(
        session, actor, "webhook.create", "webhook", hook.id,
        after={"url": clean_url, "events": clean_events},
    )  # fmt: skip
    return Saved(hook.id, raw)


def update_webhook(
    session: DbSession,
    actor: Actor,
    webhook_id: int,
    *,
    url: str,
    events: list[str],
    active: bool,
    new_secret: bool = False,
) -> Saved:
    require(can_manage_accounts(actor))
    hook = _get(session, webhook_id)
    clean_url, clean_events = _check(url, events)
    before = {"url": hook.url, "events": hook.events, "active": hook.active}
    hook.url, hook.events, hook.active = clean_url, clean_events, active
    raw = None
    if new_secret:
        raw, hook.secret_sealed = _new_secret()
    session.flush()
    after = {"url": hook.url, "events": hook.events, "active": hook.active}
    if new_secret:  # that it changed, never the value
        before["secret"], after["secret"] = "anterior", "novo"
    audit.record(session, actor, "webhook.update", "webhook", hook.id, before=before, after=after)
    return Saved(hook.id, raw)


def deactivate(session: DbSession, actor: Actor, webhook_id: int) -> None:
    require(can_manage_accounts(actor))
    hook = _get(session, webhook_id)
    if not hook.active:
        return
    hook.active = False
    session.flush()
    audit.record(
        session, actor, "webhook.deactivate", "webhook", hook.id,
        before={"active": True}, after={"active": False},
    )  # fmt: skip


def resend(session: DbSession, actor: Actor, webhook_id: int, delivery_id: int) -> None:
    """Reenviar: a failed delivery goes back to the queue, with its attempts counted anew."""
    require(can_manage_accounts(actor))
    changed = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.webhook_id == webhook_id,
            WebhookDelivery.status == DeliveryStatus.FAILED.value,
        )
        .values(
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            next_attempt_at=utcnow(),
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    if affected_rows(changed) != 1:
        raise ValidationError("Só entregas que falharam podem ser reenviadas.")
    audit.record(
        session, actor, "webhook.resend", "webhook", webhook_id, after={"delivery": delivery_id}
    )


# ------------------------------------------------------------------ reading, for the pages


@dataclass(frozen=True)
class HookLine:
    webhook: Webhook
    last_status: str | None


def webhook_lines(session: DbSession, actor: Actor) -> list[HookLine]:
    require(can_manage_accounts(actor))
    hooks = list(session.scalars(select(Webhook).order_by(Webhook.id)))
    last = (
        select(WebhookDelivery.webhook_id, func.max(WebhookDelivery.id).label("last_id"))
        .group_by(WebhookDelivery.webhook_id)
        .subquery()
    )
    rows = session.execute(
        select(WebhookDelivery.webhook_id, WebhookDelivery.status).join(
            last, last.c.last_id == WebhookDelivery.id
        )
    )
    statuses: dict[int, str] = {row[0]: row[1] for row in rows}
    return [HookLine(hook, statuses.get(hook.id)) for hook in hooks]


def get_webhook(session: DbSession, actor: Actor, webhook_id: int) -> Webhook:
    require(can_manage_accounts(actor))
    return _get(session, webhook_id)


@dataclass(frozen=True)
class LogLine:
    attempt: WebhookAttempt
    delivery: WebhookDelivery


def attempt_log(
    session: DbSession, actor: Actor, webhook_id: int, page: int = 1
) -> tuple[list[LogLine], bool]:
    """One page of the delivery log, newest first, and whether an older page exists."""
    require(can_manage_accounts(actor))
    page = max(page, 1)
    rows = session.execute(
        select(WebhookAttempt, WebhookDelivery)
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookAttempt.id.desc())
        .offset((page - 1) * LOG_PAGE)
        .limit(LOG_PAGE + 1)
    ).all()
    lines = [LogLine(row[0], row[1]) for row in rows]
    return lines[:LOG_PAGE], len(lines) > LOG_PAGE
