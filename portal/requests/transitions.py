"""Moving requests through the state machine, for people and for the system's jobs.

The state machine (lifecycle) decides; these functions apply its Outcome to the row, write the
timeline entry and queue the emails, all in the caller's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from portal.core import outbox as mail
from portal.core import request_texts
from portal.core.database import DbSession
from portal.core.errors import NotFound, StaleObject
from portal.core.timeutil import utcnow
from portal.requests import lifecycle, notifications
from portal.requests.lifecycle import Action, Actor, Outcome
from portal.requests.models import EntryKind, ServiceRequest, TimelineEntry
from portal.requests.policy import can_view, roles_on
from portal.webhooks import events as webhooks

if TYPE_CHECKING:
    from portal.accounts.models import User

log = logging.getLogger("portal.requests")


def fire(
    session: DbSession,
    request: ServiceRequest,
    action: Action,
    *,
    actor: User | None,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Apply one state-machine action and write its timeline entry; actor None is the system.

    `expected_version` is the version the person saw: if the request changed since, nothing is
    written and StaleObject tells them to reload. A concurrent UPDATE is caught the same way.
    """
    now = now or utcnow()
    if actor is not None and not can_view(actor, request):
        raise NotFound("Solicitação não encontrada.")
    if expected_version is not None and request.version != expected_version:
        raise StaleObject()
    outcome = lifecycle.transition(
        request.snapshot(), action, roles_on(actor, request), now=now, reason=reason
    )
    for name, value in _after_columns(outcome).items():
        setattr(request, name, value)
    request.updated_at = now
    if action is Action.RESOLVE:
        request.reminded_at = None
    session.add(TimelineEntry(**_transition_entry(request.id, outcome, actor, now)))
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleObject() from exc
    if reason:  # after the version check: the reason is searchable text of the request
        request_texts.append_request_text(session, request.id, reason)
    notifications.transition(session, request, outcome, actor)
    webhooks.emit(session, "request.state_changed", request, action=action.value)
    log.info("request %s %s by %s", request.number, action.value, actor.id if actor else "system")
    return outcome


def _after_columns(outcome: Outcome) -> dict[str, Any]:
    """The request's columns a transition sets (besides updated_at and the version)."""
    after = outcome.after
    return {
        "state": after.state.value,
        "resolved_at": after.resolved_at,
        "closed_at": after.closed_at,
        "cancellation_requested": after.cancellation_requested,
    }


def _transition_entry(
    request_id: int, outcome: Outcome, actor: User | None, now: datetime
) -> dict[str, Any]:
    """The timeline entry's columns for one transition."""
    return {
        "request_id": request_id,
        "kind": EntryKind.TRANSITION,
        "author_id": actor.id if actor else None,
        "body": transition_text(outcome),
        "public": True,
        "action": outcome.action.value,
        "from_state": outcome.before.state.value,
        "to_state": outcome.after.state.value,
        "occurred_at": now,
        "created_at": now,
    }


def fire_as_system(
    session: DbSession,
    batch: list[ServiceRequest],
    action: Action,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> int:
    """The system's `action` on many requests at once, for jobs; returns how many moved.

    Each request still goes through the state machine (one it refuses is skipped), but the
    writes are one UPDATE and one INSERT of timeline entries per batch, and the emails one INSERT
    into the outbox. The caller must hold the rows: inside SQLite's write transaction, or
    claimed with FOR UPDATE on PostgreSQL, so no version can change between read and write.
    """
    now = now or utcnow()
    moved: list[tuple[ServiceRequest, Outcome]] = []
    for request in batch:
        try:
            outcome = lifecycle.transition(
                request.snapshot(), action, {Actor.SYSTEM}, now=now, reason=reason
            )
        except lifecycle.TransitionError as exc:
            log.info("%s skipped %s: %s", action.value, request.number, exc)
            continue
        moved.append((request, outcome))
    if not moved:
        return 0
    table = cast(Table, ServiceRequest.__table__)
    changed = [_after_columns(outcome) for _, outcome in moved]
    session.execute(
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            {
                **{name: bindparam(f"new_{name}") for name in changed[0]},
                "updated_at": now,
                "version": table.c.version + 1,
            }
        ),
        [
            {"row_id": request.id, **{f"new_{name}": value for name, value in columns.items()}}
            for (request, _), columns in zip(moved, changed, strict=True)
        ],
    )
    session.execute(
        insert(cast(Table, TimelineEntry.__table__)),
        [_transition_entry(request.id, outcome, None, now) for request, outcome in moved],
    )
    requester = notifications.requester_sides(session, [request.id for request, _ in moved])
    with mail.batched(session):
        for (request, outcome), columns in zip(moved, changed, strict=True):
            _mirror(request, {**columns, "updated_at": now, "version": request.version + 1})
            notifications.transition(
                session, request, outcome, None, requester=requester.get(request.id, [])
            )
    webhooks.emit_many(session, "request.state_changed", [r for r, _ in moved], action=action.value)
    log.info("%s: %d requests by system", action.value, len(moved))
    return len(moved)


def _mirror(request: ServiceRequest, columns: dict[str, Any]) -> None:
    """Show a bulk UPDATE on the loaded object without making the session write it again."""
    for name, value in columns.items():
        set_committed_value(request, name, value)


def touch(session: DbSession, request: ServiceRequest, now: datetime) -> None:
    """Note activity without bumping the version: messages and notes never conflict with one
    another, so two people writing on one request at once must both succeed (a version check
    here made the second one fail on PostgreSQL)."""
    table = cast(Table, ServiceRequest.__table__)
    session.execute(update(table).where(table.c.id == request.id).values(updated_at=now))
    _mirror(request, {"updated_at": now})


def transition_text(outcome: Outcome) -> str:
    """What the timeline says about a transition (the reason under its label)."""
    label = lifecycle.reason_label(outcome.action)
    if outcome.action is Action.AUTO_CLOSE:
        return outcome.reason or "Fechado automaticamente após o prazo sem resposta."
    if outcome.reason and label:
        return f"{label}:\n{outcome.reason}"
    return outcome.action.label
