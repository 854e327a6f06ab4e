"""Scheduled jobs as plain functions: the scheduler, the CLI and tests call the same code.

Each job is safe to run twice or from two processes at once: rows are claimed with a
compare-and-set (and SKIP LOCKED on PostgreSQL), and one bad row never stops a batch.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.database import write_intent
from portal.lifecycle import Action, State, TransitionError
from portal.models import ServiceRequest
from portal.services import mail, requests
from portal.services.errors import StaleObject
from portal.timeutil import utcnow

log = logging.getLogger("portal.jobs")

BATCH_SIZE = 200


def deliver_mail(session: Session, *, now: datetime | None = None) -> int:
    """Send every due outbox message; returns how many were sent."""
    total = 0
    while True:
        report = mail.deliver_pending(session, now=now)
        total += report.sent
        if report.sent + report.retried + report.failed == 0:
            return total


def auto_close(session: Session, *, now: datetime | None = None) -> int:
    """Close requests whose solution waited longer than PORTAL_AUTO_CLOSE_DAYS for an answer."""
    now = now or utcnow()
    deadline = now - timedelta(days=current_app.config["AUTO_CLOSE_DAYS"])
    closed = 0
    last_id = 0
    while True:
        with write_intent():
            session.rollback()
            query = (
                select(ServiceRequest)
                .where(
                    ServiceRequest.state == State.AWAITING_USER.value,
                    ServiceRequest.resolved_at <= deadline,
                    ServiceRequest.id > last_id,
                )
                .order_by(ServiceRequest.id)
                .limit(BATCH_SIZE)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            batch = list(session.scalars(query))
            if not batch:
                session.rollback()
                return closed
            for request in batch:
                last_id = request.id
                try:
                    with session.begin_nested():
                        requests.fire(session, request, Action.AUTO_CLOSE, actor=None, now=now)
                    closed += 1
                except (TransitionError, StaleObject) as exc:
                    log.info("auto_close skipped %s: %s", request.number, exc)
                except Exception:
                    log.exception("auto_close failed for %s", request.number)
            session.commit()
