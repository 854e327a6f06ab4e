"""Comunicados: announcements on the home page, and critical ones as a banner on every page."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.extensions import Model
from portal.core.timeutil import utcnow
from portal.core.types import UTCDateTime


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def label(self) -> str:
        return {"info": "Informação", "warning": "Atenção", "critical": "Crítico"}[self.value]


class Audience(enum.StrEnum):
    """Who sees a Comunicado: everyone, a UF, an organisation kind, or one organisation."""

    ALL = "all"
    UF = "uf"
    KIND = "kind"
    ORGANISATION = "organisation"

    @property
    def label(self) -> str:
        return {
            "all": "Todos",
            "uf": "Uma UF",
            "kind": "Um tipo de ente",
            "organisation": "Um ente",
        }[self.value]


class AnnouncementState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return {"draft": "Rascunho", "published": "Publicado"}[self.value]


class Announcement(Model):
    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_state_starts", "state", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # Markdown, rendered sanitised.
    body: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(20), default=Severity.INFO.value)
    state: Mapped[str] = mapped_column(String(20), default=AnnouncementState.DRAFT.value)
    audience: Mapped[str] = mapped_column(String(20), default=Audience.ALL.value)
    # The audience's value: a UF ("BA"), an OrganisationKind value, or None.
    audience_value: Mapped[str | None] = mapped_column(String(20))
    audience_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # Shown from starts_at (None: from publication) until ends_at (None: until withdrawn).
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AnnouncementDismissal(Model):
    """A user closed a critical Comunicado's banner: it stays on the home, not on every page."""

    __tablename__ = "announcement_dismissals"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    dismissed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
