"""What /healthz reports: database reachable, scheduler heartbeat age, outbox backlog."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from portal.core.database import DbSession
from portal.core.models import Heartbeat, MailStatus, OutboxEmail
from portal.core.timeutil import utcnow


@dataclass(frozen=True)
class Health:
    status: str
    database: str
    heartbeat_age_seconds: float | None
    outbox_backlog: int | None
    outbox_failed: int | None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def check(session: DbSession, *, max_heartbeat_age: int, now: datetime | None = None) -> Health:
    now = now or utcnow()
    try:
        session.execute(text("SELECT 1"))
        beat = session.scalar(select(Heartbeat.beat_at).where(Heartbeat.name == "scheduler"))
        counts = dict(
            session.execute(
                select(OutboxEmail.status, func.count())
                .where(OutboxEmail.status != MailStatus.SENT)
                .group_by(OutboxEmail.status)
            ).all()
        )
    except SQLAlchemyError:
        session.rollback()
        return Health("error", "error", None, None, None)
    age = (now - beat).total_seconds() if beat else None
    fresh = age is not None and age <= max_heartbeat_age
    backlog = counts.get(MailStatus.PENDING, 0) + counts.get(MailStatus.SENDING, 0)
    return Health(
        status="ok" if fresh else "degraded",
        database="ok",
        heartbeat_age_seconds=round(age, 1) if age is not None else None,
        outbox_backlog=backlog,
        outbox_failed=counts.get(MailStatus.FAILED, 0),
    )
