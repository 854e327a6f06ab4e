"""The first Comunicado service, kept for its callers: portal.home.announcements is where
Comunicados are written, published and removed (and where `can_publish` lives)."""

from __future__ import annotations

from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.home import announcements
from portal.home.announcements import AnnouncementFields, can_publish
from portal.home.models import Announcement

__all__ = ["can_publish", "publish_announcement"]


def publish_announcement(
    session: DbSession, actor: Actor, *, title: str, body: str
) -> Announcement:
    """An informação Comunicado for everyone, published now."""
    fields = AnnouncementFields(title=title, body=body)
    return announcements.publish_announcement(session, actor, fields)
