"""Scheduled jobs as plain functions: the scheduler, the CLI and tests call the same code.

Each job is safe to run twice or from two processes at once: rows are claimed inside a write
transaction (SKIP LOCKED on PostgreSQL, SQLite's single writer there), every change is a
compare-and-set through the state machine's version check, emails carry a dedupe key, and one
bad row never stops a batch.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import defer, selectinload
from sqlalchemy.sql.base import ExecutableOption

from portal.core import outbox as mail
from portal.core.database import DbSession, affected_rows, write_intent
from portal.core.errors import StaleObject
from portal.core.models import Heartbeat, PendingUpload
from portal.core.storage import file_store
from portal.core.timeutil import utcnow
from portal.requests import lifecycle, notifications, transitions
from portal.requests.lifecycle import Action, State, TransitionError
from portal.requests.models import ServiceRequest
from portal.webhooks import delivery as webhook_delivery

log = logging.getLogger("portal.jobs")

BATCH_SIZE = 200
# Per transaction. On PostgreSQL every row a batch closes updates the same few counter rows
# (queue_counts, party_counts), and each update of a row already updated in the transaction
# walks the versions left before it: cost grows with the square of the batch there.
AUTO_CLOSE_BATCH = {"sqlite": 2000, "postgresql": 250}
PENDING_UPLOAD_TTL = timedelta(days=1)


def _claim_query(session: DbSession, query: Select[Any]) -> Select[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def deliver_mail(session: DbSession, *, now: datetime | None = None) -> int:
    """Send every due outbox message; returns how many were sent."""
    total = 0
    while True:
        report = mail.deliver_pending(session, now=now)
        total += report.sent
        if report.sent + report.retried + report.failed == 0:
            return total


def deliver_webhooks(session: DbSession, *, now: datetime | None = None) -> int:
    """Send every due webhook delivery once (retries wait for their back-off); returns how
    many were delivered."""
    return webhook_delivery.deliver_due(session, now=now)["delivered"]


def _walk_due(
    session: DbSession,
    conditions: list[ColumnElement[bool]],
    handle_batch: Callable[[list[ServiceRequest]], int],
    *,
    options: tuple[ExecutableOption, ...] = (),
    batch_size: int = BATCH_SIZE,
) -> int:
    """Handle the requests matching `conditions` in batches, one transaction per batch.

    The due ids come from one index range scan (no ORDER BY: SQLite would walk the whole
    table in id order to avoid a sort); each batch is then claimed inside a write transaction
    (SKIP LOCKED on PostgreSQL) with the conditions checked again, so a row another runner
    handled meanwhile is left alone. Returns the sum of what `handle_batch` reported.
    """
    session.rollback()
    due = sorted(session.scalars(select(ServiceRequest.id).where(*conditions)))
    session.rollback()
    done = 0
    for start in range(0, len(due), batch_size):
        query = (
            select(ServiceRequest)
            .where(ServiceRequest.id.in_(due[start : start + batch_size]), *conditions)
            .order_by(ServiceRequest.id)
            .options(*options)
        )
        with _collected_after():
            done += _one_batch(session, _claim_query(session, query), handle_batch)
    return done


def _one_batch(
    session: DbSession,
    query: Select[Any],
    handle_batch: Callable[[list[ServiceRequest]], int],
) -> int:
    """One write transaction; its objects are unreachable once it returns, so the collection
    that follows (_collected_after) frees them."""
    with write_intent():
        session.rollback()
        batch = list(session.scalars(query))
        done = handle_batch(batch) if batch else 0
        session.commit()
    return done


@contextlib.contextmanager
def _collected_after() -> Iterator[None]:
    """Pause automatic garbage collection for a batch, then collect only what it allocated.

    A batch's ORM objects hold reference cycles; left to the collector they survive into the
    oldest generation while the batch runs, and every full collection then walks the whole
    heap (4.5 s of a 48 s run closing 50,000). Collected as one young generation at the end,
    only the batch's own objects are walked (0.6 s).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect(0)


def _one_by_one(
    session: DbSession, job: str, handle: Callable[[ServiceRequest], bool]
) -> Callable[[list[ServiceRequest]], int]:
    """Each row in its own savepoint, so one failure is logged and the batch goes on."""

    def handle_batch(batch: list[ServiceRequest]) -> int:
        done = 0
        for request in batch:
            try:
                with session.begin_nested():
                    done += handle(request)
            except (TransitionError, StaleObject) as exc:
                log.info("%s skipped %s: %s", job, request.number, exc)
            except Exception:
                log.exception("%s failed for %s; the batch goes on", job, request.number)
        return done

    return handle_batch


def _for_each_due(
    session: DbSession,
    job: str,
    conditions: list[ColumnElement[bool]],
    handle: Callable[[ServiceRequest], bool],
) -> int:
    return _walk_due(session, conditions, _one_by_one(session, job, handle))


def auto_close(session: DbSession, *, now: datetime | None = None) -> int:
    """Close requests whose solution waited PORTAL_AUTO_CLOSE_DAYS without an answer.

    A batch is closed with a few set-based statements; if that fails, the same batch is
    closed row by row, so one bad row never stops the others.
    """
    now = now or utcnow()
    days = current_app.config["AUTO_CLOSE_DAYS"]
    reason = f"Fechado automaticamente após {days} dias sem resposta"

    def close(request: ServiceRequest) -> bool:
        transitions.fire(session, request, Action.AUTO_CLOSE, actor=None, reason=reason, now=now)
        return True

    def close_batch(batch: list[ServiceRequest]) -> int:
        try:
            with session.begin_nested():
                return transitions.fire_as_system(
                    session, batch, Action.AUTO_CLOSE, reason=reason, now=now
                )
        except Exception:
            log.exception("auto_close: batch from %s failed; closing one by one", batch[0].number)
            session.expire_all()
            return _one_by_one(session, "auto_close", close)(batch)

    due = [
        ServiceRequest.state == State.AWAITING_USER.value,
        ServiceRequest.resolved_at <= lifecycle.resolved_by_for_deadline(now, days),
    ]
    # What the state machine and the email need, and nothing else: at 100,000 rows the JSON
    # of every form would cost more than the writes. The people are read as addresses for the
    # whole batch (fire_as_system): loading them as User objects was 15% of the job.
    needed = (
        defer(ServiceRequest.description),
        defer(ServiceRequest.field_values),
        selectinload(ServiceRequest.item),
    )
    batch_size = AUTO_CLOSE_BATCH[session.get_bind().dialect.name]
    return _walk_due(session, due, close_batch, options=needed, batch_size=batch_size)


def remind(session: DbSession, *, now: datetime | None = None) -> int:
    """One reminder per resolution, PORTAL_REMIND_DAYS_BEFORE days before it closes by itself."""
    now = now or utcnow()
    config = current_app.config
    before = config["REMIND_DAYS_BEFORE"]
    if before <= 0 or before >= config["AUTO_CLOSE_DAYS"]:
        return 0

    def send(request: ServiceRequest) -> bool:
        # Compare-and-set: a second runner finds reminded_at already set.
        marked = session.execute(
            update(ServiceRequest)
            .where(ServiceRequest.id == request.id, ServiceRequest.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if affected_rows(marked) != 1:
            return False
        notifications.reminder(session, request, days_left=before)
        return True

    due = [
        ServiceRequest.state == State.AWAITING_USER.value,
        ServiceRequest.resolved_at
        <= lifecycle.resolved_by_for_deadline(now, config["AUTO_CLOSE_DAYS"] - before),
        ServiceRequest.reminded_at.is_(None),
    ]
    return _for_each_due(session, "remind", due, send)


def purge_pending_uploads(session: DbSession, *, now: datetime | None = None) -> int:
    """Forget files staged by forms that were never sent (after a day)."""
    cutoff = (now or utcnow()) - PENDING_UPLOAD_TTL
    with write_intent():
        session.rollback()
        stale = list(
            session.scalars(select(PendingUpload).where(PendingUpload.created_at < cutoff))
        )
        if not stale:
            session.rollback()
            return 0
        session.execute(delete(PendingUpload).where(PendingUpload.id.in_([p.id for p in stale])))
        session.commit()
    for item in stale:
        file_store().delete(item.stored_name)
    return len(stale)


def heartbeat(session: DbSession, *, now: datetime | None = None, name: str = "scheduler") -> None:
    """Record that the scheduler is alive (upsert, one row per scheduler name)."""
    now = now or utcnow()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    with write_intent():
        session.rollback()
        statement = insert(Heartbeat).values(name=name, beat_at=now, detail="")
        session.execute(
            statement.on_conflict_do_update(index_elements=["name"], set_={"beat_at": now})
        )
        session.commit()


JOBS: dict[str, Callable[..., object]] = {
    "heartbeat": heartbeat,
    "auto_close": auto_close,
    "remind": remind,
    "deliver_mail": deliver_mail,
    "deliver_webhooks": deliver_webhooks,
    "purge_pending_uploads": purge_pending_uploads,
}


def run_all_once(session: DbSession, *, now: datetime | None = None) -> dict[str, object]:
    """Each job once, in an order that lets this run's emails go out at its end."""
    results: dict[str, object] = {}
    for name, job in JOBS.items():
        try:
            results[name] = job(session, now=now)
        except Exception as exc:
            session.rollback()
            log.exception("job %s failed; the next one goes on", name)
            results[name] = f"erro: {type(exc).__name__}"
    return results
