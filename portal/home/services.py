"""Publishing the home page's Comunicado (admins and the system)."""

from __future__ import annotations

from portal.core import audit
from portal.core.actors import Actor, administers
from portal.core.database import DbSession
from portal.core.errors import ValidationError, require
from portal.home.models import Announcement


def can_publish(actor: Actor) -> bool:
    return administers(actor)


def publish_announcement(
    session: DbSession, actor: Actor, *, title: str, body: str
) -> Announcement:
    require(can_publish(actor))
    if not (title or "").strip():
        raise ValidationError("Informe o título do comunicado.", "title")
    announcement = Announcement(title=title.strip(), body=(body or "").strip())
    session.add(announcement)
    session.flush()
    audit.record(
        session,
        actor,
        "announcement.publish",
        "announcement",
        announcement.id,
        after={"title": announcement.title, "body": announcement.body},
    )
    return announcement
