"""Comunicados as pages show them: the severity's word, icon and gov.br message colour, the
text rendered from Markdown and sanitised, and the critical banner every page carries.

`banner_context` is the app's context processor: the banner's one query runs only when a
page for a signed-in user renders it, once per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g
from flask_login import current_user
from markupsafe import Markup

from portal.core.extensions import db
from portal.home import queries
from portal.home.models import Announcement, Severity
from portal.knowledge import markdown

# Severity -> (br-message colour, Font Awesome icon): never colour alone, the word goes too.
LOOKS = {
    Severity.INFO: ("info", "fa-info-circle"),
    Severity.WARNING: ("warning", "fa-exclamation-triangle"),
    Severity.CRITICAL: ("danger", "fa-times-circle"),
}


@dataclass(frozen=True)
class Notice:
    """A Comunicado ready for a template (read before any commit can expire it)."""

    id: int
    title: str
    html: Markup
    severity: Severity
    starts_at: datetime | None
    ends_at: datetime | None
    published_at: datetime | None

    @property
    def label(self) -> str:
        return self.severity.label

    @property
    def colour(self) -> str:
        return LOOKS[self.severity][0]

    @property
    def icon(self) -> str:
        return LOOKS[self.severity][1]

    @property
    def since(self) -> datetime | None:
        return self.starts_at or self.published_at


def notice(announcement: Announcement) -> Notice:
    return Notice(
        id=announcement.id,
        title=announcement.title,
        html=markdown.render(announcement.body),
        severity=Severity(announcement.severity),
        starts_at=announcement.starts_at,
        ends_at=announcement.ends_at,
        published_at=announcement.published_at,
    )


def banner_context() -> dict[str, Any]:
    def critical_notices() -> list[Notice]:
        """The critical Comunicados this user has not closed (none for visitors)."""
        if not current_user.is_authenticated:
            return []
        if "critical_notices" not in g:
            found = queries.banner_announcements(db.session, current_user)
            g.critical_notices = [notice(a) for a in found]
        return list(g.critical_notices)

    return {"critical_notices": critical_notices}
